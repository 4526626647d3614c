"""Guessing join codes: hopeless from anywhere, while a right code is never refused.

A crowd at a sitting shares one address (the venue's Wi-Fi, a phone network's NAT) and makes
typos; a guesser may use any number of addresses. So:

- **A right code is never refused**, whoever sends it and however many wrong ones came from
  the same address before: it is checked first.
- **Wrong codes are counted per client address** (JOIN_FAILURE_RATE, 20 per 10 minutes per
  address and assembly): past that, wrong codes are answered 429 "wait a few minutes" (the
  right code still gets in), so a typing crowd is never locked out.
- **Wrong codes are counted per assembly** (JOIN_WRONG_CODES_BEFORE_ROTATION, 100): when an
  assembly's current code has drawn that many wrong guesses, from any number of addresses,
  the code rotates by itself (a public log line says so) and the projector shows the new one
  at once. The hall sees it; a remote guesser starts again. With 31^8 ≈ 8.5e11 codes,
  each code's 100 guesses find it with a chance of about 1 in 8.5e9.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy

from assemblies import services
from assemblies.models import Assembly
from core import ratelimit
from core.errors import NotFound, TooManyRequests

TOO_MANY_WRONG_CODES = gettext_lazy(
    "Too many wrong codes from this connection: wait a few minutes, then try again."
)
GROUP = "join-code-failures"


def _address_usage(request, scope: str, *, increment: bool):
    value = f"{ratelimit.client_address(request)}|{scope}"
    return ratelimit.usage(request, GROUP, value, settings.JOIN_FAILURE_RATE, increment=increment)


def wrong_code(request, scope: str, assembly: Assembly | None) -> None:
    """A wrong code was sent: refuse with 429 if this address sent too many, count it per
    address, and against the assembly's budget (which rotates its code when spent)."""
    blocked = ratelimit.over_limit(_address_usage(request, scope, increment=False))
    _address_usage(request, scope, increment=True)
    if assembly is not None:
        _spend_assembly_budget(assembly)
    if blocked:
        raise TooManyRequests("too_many_attempts", TOO_MANY_WRONG_CODES)


def _spend_assembly_budget(assembly: Assembly) -> None:
    # Keyed by the current code: a new code starts with a full budget.
    key = f"join-wrong:{assembly.pk}:{assembly.join_code}"
    cache.add(key, 0, timeout=None)
    if cache.incr(key) == settings.JOIN_WRONG_CODES_BEFORE_ROTATION:
        services.rotate_join_code_after_guessing(assembly=assembly)


def guarded_lookup(request, scope: str, code: str, lookup):
    """Run `lookup()` (which answers whether `code` is right, or raises NotFound) and count
    a wrong code (`wrong_code`); a right one passes whatever came before."""
    try:
        result, code_ok = lookup()
    except NotFound:
        if code:
            wrong_code(request, scope, Assembly.objects.filter(slug=scope).first())
        raise
    if code and not code_ok:
        wrong_code(request, scope, result)
    return result, code_ok
