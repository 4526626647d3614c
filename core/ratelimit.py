"""Rate limits that count only failures, so a crowd behind one address is never locked out.

A join code is guessed by trying many wrong ones; 2,000 people at a sitting sharing one
Wi-Fi address all type the right one. So only wrong codes are counted, per client address
and assembly, and only a client that keeps failing is held back. Counting is done by
django-ratelimit on the shared cache (Redis in production).
"""

from django.conf import settings
from django.utils.translation import gettext_lazy
from django_ratelimit.core import get_usage

from core.errors import NotFound, TooManyRequests

TOO_MANY_WRONG_CODES = gettext_lazy(
    "Too many wrong codes from this connection: wait a few minutes, then try again."
)

GROUP = "join-code-failures"


def client_address(request) -> str:
    """The client's address as the trusted proxy reports it, else the socket's peer."""
    if settings.TRUSTED_PROXY_HEADER:
        forwarded = request.META.get(settings.TRUSTED_PROXY_HEADER, "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _usage(request, scope: str, *, increment: bool):
    return get_usage(
        request,
        group=GROUP,
        key=lambda _group, req: f"{client_address(req)}|{scope}",
        rate=settings.JOIN_FAILURE_RATE,
        increment=increment,
    )


def join_blocked(request, scope: str) -> bool:
    usage = _usage(request, scope, increment=False)
    return bool(usage and usage["count"] >= usage["limit"])


def count_join_failure(request, scope: str) -> None:
    _usage(request, scope, increment=True)


def checked_join_attempt(request, scope: str, code: str, lookup):
    """Run `lookup()` (which answers whether `code` is right) under the failure limit.

    A blocked client is refused before anything is looked up; a wrong code, or one for an
    assembly the client may not see (NotFound), is counted.
    """
    if code and join_blocked(request, scope):
        raise TooManyRequests("too_many_attempts", TOO_MANY_WRONG_CODES)
    try:
        result, code_ok = lookup()
    except NotFound:
        if code:
            count_join_failure(request, scope)
        raise
    if code and not code_ok:
        count_join_failure(request, scope)
    return result, code_ok
