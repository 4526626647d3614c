"""Reading settings from the environment, refusing malformed values at start-up.

The settings module imports this before any app is loaded, so nothing here imports a Django
app; only `django.core.exceptions`, so that a malformed value stops start-up (settings,
`manage.py`, ASGI servers) with `ImproperlyConfigured` and a message that names the
variable, its value and what is accepted. Empty or unset means the default.
"""

import math
import os

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


class EnvError(ImproperlyConfigured):
    """An environment variable holds a value its setting cannot take."""


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _given(name: str) -> str | None:
    """The variable's value, stripped; None when it is unset or empty (the default applies)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _refuse(name: str, value: str, problem: str, accepted: str, default) -> EnvError:
    return EnvError(
        f"{name}={value!r} {problem}: {accepted}, or leave {name} empty or unset for the "
        f"default ({default})."
    )


def env_bool(name: str, default: bool) -> bool:
    """1/0, true/false, yes/no, on/off, in any case; anything else is refused."""
    value = _given(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise _refuse(name, value, "is not a boolean", "use 1/0, true/false, yes/no or on/off", default)


def _number(name: str, default, kind, minimum, maximum):
    value = _given(name)
    if value is None:
        return default
    noun = "an integer" if kind is int else "a number"
    if minimum is not None and maximum is not None:
        accepted = f"give {noun} from {minimum} to {maximum}"
    elif minimum is not None:
        accepted = f"give {noun} of at least {minimum}"
    elif maximum is not None:
        accepted = f"give {noun} of at most {maximum}"
    else:
        accepted = f"give {noun}"
    try:
        number = kind(value)
    except ValueError:
        raise _refuse(name, value, f"is not {noun}", accepted, default) from None
    if not math.isfinite(number):
        raise _refuse(name, value, "is not a finite number", accepted, default)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise _refuse(name, value, "is out of range", accepted, default)
    return number


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A whole number (e.g. 64, -1), within [minimum, maximum] where given."""
    return _number(name, default, int, minimum, maximum)


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A finite number (e.g. 0.1, 10, 1e3), within [minimum, maximum] where given."""
    return _number(name, default, float, minimum, maximum)


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated items, each stripped; empty items are dropped."""
    value = _given(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# EMAIL_URL schemes: the backend and whether the connection is upgraded with STARTTLS
# (smtp+tls) or TLS from the start (smtps).
_SMTP = "django.core.mail.backends.smtp.EmailBackend"
_EMAIL_SCHEMES = {
    "smtp": (_SMTP, False, False, 25),
    "smtp+tls": (_SMTP, True, False, 587),
    "submission": (_SMTP, True, False, 587),
    "smtps": (_SMTP, False, True, 465),
    "smtp+ssl": (_SMTP, False, True, 465),
    "console": ("django.core.mail.backends.console.EmailBackend", False, False, None),
    "memory": ("django.core.mail.backends.locmem.EmailBackend", False, False, None),
    "dummy": ("django.core.mail.backends.dummy.EmailBackend", False, False, None),
}


def mailer(name: str = "EMAIL_URL") -> dict | None:
    """The MAILERS entry (Django 6.1) an EMAIL_URL stands for; None when it is unset.

    smtp://user:password@host:port, smtp+tls:// (STARTTLS, port 587 by default),
    smtps:// (TLS, 465), console:// (print to the terminal), memory://, dummy://. The user
    and password are percent-decoded, so an address as user name is user%40example.org.
    """
    from urllib.parse import unquote, urlsplit

    value = _given(name)
    if value is None:
        return None
    accepted = "smtp://user:password@host:port, smtp+tls://, smtps://, console://"
    try:
        url = urlsplit(value)
        port = url.port
    except ValueError as error:
        raise _refuse(name, value, f"is not a URL ({error})", accepted, "unset") from None
    scheme = url.scheme.lower()
    if scheme not in _EMAIL_SCHEMES:
        raise _refuse(name, value, "has an unknown scheme", accepted, "unset")
    backend, starttls, tls, default_port = _EMAIL_SCHEMES[scheme]
    if default_port is None:
        return {"BACKEND": backend}
    if not url.hostname:
        raise _refuse(name, value, "names no host", accepted, "unset")
    return {
        "BACKEND": backend,
        "OPTIONS": {
            "host": url.hostname,
            "port": port or default_port,
            "username": unquote(url.username or ""),
            "password": unquote(url.password or ""),
            "use_tls": starttls,
            "use_ssl": tls,
        },
    }
