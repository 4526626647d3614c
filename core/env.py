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
