"""Rate limits that count only failures, so a crowd behind one address is never locked out.

A join code is guessed by trying many wrong ones; 2,000 people at a sitting sharing one
Wi-Fi address all type the right one. So only wrong codes are counted, per client address
and assembly, and only a client that keeps failing is held back. Counting is done by
django-ratelimit on the shared cache (Redis in production).
"""

import functools
import ipaddress

from django.conf import settings
from django.utils.translation import gettext_lazy
from django_ratelimit.core import get_usage

from core.errors import NotFound, TooManyRequests

TOO_MANY_WRONG_CODES = gettext_lazy(
    "Too many wrong codes from this connection: wait a few minutes, then try again."
)

GROUP = "join-code-failures"


@functools.lru_cache(maxsize=8)
def _trusted_proxies(allowed: tuple[str, ...]):
    """FORWARDED_ALLOW_IPS parsed once per value: networks, plus literals that are not IPs."""
    networks, literals = [], set()
    for item in allowed:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            literals.add(item)
    return networks, literals


def is_trusted_proxy(address: str) -> bool:
    allowed = tuple(settings.FORWARDED_ALLOW_IPS)
    if "*" in allowed:
        return True
    networks, literals = _trusted_proxies(allowed)
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address in literals
    return any(ip in network for network in networks)


def client_address(request) -> str:
    """The client's address: the socket's peer, unless that peer is a trusted proxy.

    Only a request from one of FORWARDED_ALLOW_IPS may name another address in
    TRUSTED_PROXY_HEADER; anyone else's header is ignored. Each proxy appends the address it
    saw, so the list is read from the right and the first hop that is not a trusted proxy is
    the client (what a client wrote at the left of the header itself is never believed).
    """
    peer = request.META.get("REMOTE_ADDR", "")
    if not settings.TRUSTED_PROXY_HEADER or not is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get(settings.TRUSTED_PROXY_HEADER, "").split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else peer


def usage(request, group: str, value: str, rate: str, *, increment: bool) -> dict | None:
    """django-ratelimit's count of `value` in `group` (incremented, or only read)."""
    return get_usage(
        request, group=group, key=lambda _group, _request: value, rate=rate, increment=increment
    )


def over_limit(counted: dict | None) -> bool:
    return bool(counted and counted["limit"] and counted["count"] >= counted["limit"])


def _usage(request, scope: str, *, increment: bool):
    value = f"{client_address(request)}|{scope}"
    return usage(request, GROUP, value, settings.JOIN_FAILURE_RATE, increment=increment)


def join_blocked(request, scope: str) -> bool:
    return over_limit(_usage(request, scope, increment=False))


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
