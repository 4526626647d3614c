"""Limits on password guessing and token making, checked before any password is hashed.

Argon2 is slow on purpose, so every password check costs real CPU: unlimited attempts are
both a way to guess and a way to load the server. Only wrong passwords are counted, and an
attempt over a budget is refused before the hasher runs.

- **Per client address** (LOGIN_FAILURES_PER_ADDRESS, default 20 per 10 minutes): one
  machine guessing, against one account or many, is held back.
- **Per account** (LOGIN_FAILURES_PER_ACCOUNT, default 20 an hour): guessing one account
  from many addresses is held back.
- **A browser that logged in to the account before** carries a signed cookie naming it.
  Its attempts at that account skip both budgets above and have one of their own (the
  per-address figure, counted per cookie). So an attacker who exhausts an account's budget,
  or an address's (the Wi-Fi of a sitting), cannot lock the owner out of their usual browser.

The trade-off: while an account is under attack, its owner on a new browser must wait for
the hour to pass (or log in from a browser they used before). Counts live in the cache
(Redis in production); if the cache cannot be reached, logins are let through unlimited
rather than refused, so an outage of Redis does not lock everyone out.
"""

import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from core.ratelimit import client_address, over_limit, usage

log = logging.getLogger(__name__)

TOO_MANY_LOGINS = gettext_lazy(
    "Too many wrong passwords: wait a few minutes, then try again. "
    "A browser you logged in with before is not held back."
)
TOO_MANY_TOKENS = gettext_lazy("You made many tokens recently: wait an hour, then try again.")

DEVICE_COOKIE = "multitude_device"
DEVICE_SALT = "multitude.login-device"
DEVICE_MAX_AGE = 180 * 24 * 3600

_ADDRESS = "login-failures-address"
_ACCOUNT = "login-failures-account"
_DEVICE = "login-failures-device"


def _account_key(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _usage(request, group: str, value: str, rate: str, *, increment: bool):
    try:
        return usage(request, group, value, rate, increment=increment)
    except Exception:  # the cache is down: fail open, see the module's docstring
        log.warning("login limits unavailable (cache unreachable)", exc_info=True)
        return None


def _over(request, group: str, value: str, rate: str) -> bool:
    return over_limit(_usage(request, group, value, rate, increment=False))


def trusted_device(request, username: str) -> str | None:
    """The id of this browser's device cookie if it logged in to `username` before."""
    value = request.get_signed_cookie(
        DEVICE_COOKIE, default=None, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE
    )
    device, _sep, account = (value or "").partition("|")
    if device and account == _account_key(username):
        return device
    return None


def remember_device(response, username: str) -> None:
    """After a successful login: this browser may keep logging in to `username`."""
    response.set_signed_cookie(
        DEVICE_COOKIE,
        f"{secrets.token_hex(16)}|{_account_key(username)}",
        salt=DEVICE_SALT,
        max_age=DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _budgets(request, username: str) -> list[tuple[str, str, str]]:
    device = trusted_device(request, username)
    if device:
        return [(_DEVICE, device, settings.LOGIN_FAILURES_PER_ADDRESS)]
    return [
        (_ADDRESS, client_address(request), settings.LOGIN_FAILURES_PER_ADDRESS),
        (_ACCOUNT, _account_key(username), settings.LOGIN_FAILURES_PER_ACCOUNT),
    ]


def login_refused(request, username: str) -> bool:
    return any(_over(request, *budget) for budget in _budgets(request, username))


def count_login_failure(request, username: str) -> None:
    for budget in _budgets(request, username):
        _usage(request, *budget, increment=True)


class LimitedLoginMixin:
    """For an AuthenticationForm: refuse before `authenticate` (and its hasher) runs when a
    budget is spent; count the attempt when the password was wrong."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not (username and password and self.request is not None):
            return super().clean()
        if login_refused(self.request, username):
            raise ValidationError(TOO_MANY_LOGINS, code="too_many_attempts")
        try:
            return super().clean()
        except ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                count_login_failure(self.request, username)
            raise

    @property
    def refused_for_too_many_attempts(self) -> bool:
        return any(e.code == "too_many_attempts" for e in self.errors.as_data().get("__all__", []))


class LimitedAuthenticationForm(LimitedLoginMixin, AuthenticationForm):
    pass


class LimitedAdminAuthenticationForm(LimitedLoginMixin, AdminAuthenticationForm):
    pass


def token_creation_refused(request) -> bool:
    """Count one new API token for the person; True when they made too many lately."""
    rate = settings.TOKEN_CREATE_RATE
    counted = _usage(request, "api-token-create", str(request.user.pk), rate, increment=True)
    return bool(counted and counted["should_limit"])
