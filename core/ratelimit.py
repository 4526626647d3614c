"""Rate limits that count only failures, so a crowd behind one address is never locked out.

A join code is guessed by trying many wrong ones; 2,000 people at a sitting sharing one
Wi-Fi address all type the right one. So only wrong codes are counted, per client address
and assembly, and only a client that keeps failing is held back. Counting is done by
django-ratelimit on the shared cache (Redis in production).
"""

from django.conf import settings
from django_ratelimit.core import get_usage

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
