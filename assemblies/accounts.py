"""Account writes: sign up, and let a guest who joined by code keep their identity."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError
from core.events import ACCESS, publish_on_commit


@transaction.atomic
def sign_up(*, email: str, password: str) -> User:
    email = (email or "").strip().lower()
    if not email or not password:
        raise DomainError("credentials_required", _("Give an email and a password."))
    if User.objects.filter(username__iexact=email).exists():
        raise Conflict("email_taken", _("An account with this email exists: log in instead."))
    return User.objects.create_user(username=email, email=email, password=password)


def is_guest(user: User) -> bool:
    """Joined with only a display name: no password to log in with elsewhere."""
    return user.is_authenticated and not user.has_usable_password()


@transaction.atomic
def keep_identity(*, user: User, email: str, password: str) -> User:
    """A guest adds an email and password; memberships and positions stay theirs."""
    if not is_guest(user):
        raise Conflict("not_guest", _("This account already has a password."))
    email = (email or "").strip().lower()
    if User.objects.filter(username__iexact=email).exclude(pk=user.pk).exists():
        raise Conflict("email_taken", _("An account with this email exists: log in instead."))
    user.username = email
    user.email = email
    user.set_password(password)
    user.save(update_fields=["username", "email", "password"])
    return user


# --- Personal API tokens ------------------------------------------------------------------
# One token per person (DRF's authtoken): creating a new one replaces the old, so a leaked
# token is revoked by making a new one or by revoking it outright.


def api_token_for(*, user: User):
    """The person's API token, made if they have none (joining by code over the API)."""
    from rest_framework.authtoken.models import Token

    token, _created = Token.objects.get_or_create(user=user)
    return token


def existing_api_token(*, user: User):
    """The person's token if they have one (for the profile page); never makes one."""
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).first()


@transaction.atomic
def create_api_token(*, user: User):
    """A fresh token for the person; any previous one stops working at once."""
    from rest_framework.authtoken.models import Token

    if not user.is_authenticated:
        raise DomainError("login_required", _("Log in to create a token."))
    Token.objects.filter(user=user).delete()
    announce_access_change(user=user)
    return Token.objects.create(user=user)


@transaction.atomic
def revoke_api_token(*, user: User) -> bool:
    """Delete the person's token; True when there was one."""
    from rest_framework.authtoken.models import Token

    deleted, _rows = Token.objects.filter(user=user).delete()
    if deleted:
        announce_access_change(user=user)
    return bool(deleted)


def announce_access_change(*, user: User) -> None:
    """The person's way in changed (a token revoked or replaced, the account deactivated, a
    log-out): every assembly they belong to rechecks its open sockets after commit."""
    for assembly_id in user.memberships.values_list("assembly_id", flat=True):
        publish_on_commit(assembly_id=assembly_id, kind=ACCESS)
