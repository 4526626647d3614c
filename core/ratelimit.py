"""Rate-limit plumbing, no domain in it: the client's address (believing forwarded headers
only from configured proxies) and django-ratelimit's counts on the shared cache (Redis in
production). The join-code limits are in `assemblies/join_guard.py`, the login limits in
`core/auth_limits.py`.
"""

import functools
import ipaddress

from django.conf import settings
from django_ratelimit.core import get_usage


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
