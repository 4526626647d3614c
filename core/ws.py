"""Websocket plumbing: who is connecting (session cookie or API token) and from where."""

from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from core.db import kept_connection_to_async

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) origin, the port filled in; None if it is not one."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _allowed_hosts() -> list[str]:
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]  # as Django's own host validation
    return list(settings.ALLOWED_HOSTS)


def _same_origin(scope) -> tuple[str, str, int] | None:
    """The origin of the page this socket would belong to: its scheme and Host header, when
    that host is one we serve (the proxy's X-Forwarded-Proto gives wss behind TLS)."""
    host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return _origin(f"{scheme}://{host}")


def _matches_trusted(origin: tuple[str, str, int], trusted: str) -> bool:
    """One CSRF_TRUSTED_ORIGINS entry: exact, or `https://*.example.org` for its subdomains."""
    wildcard = "://*." in trusted
    pattern = _origin(trusted.replace("://*.", "://", 1) if wildcard else trusted)
    if pattern is None:
        return False
    scheme, host, port = pattern
    if (origin[0], origin[2]) != (scheme, port):
        return False
    return is_same_domain(origin[1], f".{host}") if wildcard else origin[1] == host


def origin_allowed(scope, origin_header: str) -> bool:
    """Scheme, host and port must all match: the page's own origin (Host header within
    ALLOWED_HOSTS), SITE_URL's, or one of CSRF_TRUSTED_ORIGINS."""
    origin = _origin(origin_header)
    if origin is None:
        return False  # "null" (sandboxed frames, file: pages), other schemes, garbage
    if origin == _same_origin(scope) or origin == _origin(settings.SITE_URL):
        return True
    return any(_matches_trusted(origin, trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS)


class BrowserOriginValidator:
    """Refuse cross-site sockets: a browser always sends Origin, and it must be ours exactly.

    A client with no Origin header is not a browser (a bot, the API's own users), so no
    other site can be riding on its cookies; it is let through to authenticate itself. A
    refused handshake is answered HTTP 403 (the socket is closed before it is accepted).
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        if not origins or (
            len(origins) == 1 and origin_allowed(scope, origins[0].decode("latin1"))
        ):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


@kept_connection_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware:
    """`Authorization: Token <key>` authenticates a socket like it does the REST API."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin1")
        scheme, _space, key = header.partition(" ")
        if scheme.lower() == "token" and key.strip():
            # The key stays in the scope: an open socket is checked again when tokens change.
            scope = {**scope, "user": await _user_for_token(key.strip()), "token": key.strip()}
        return await self.app(scope, receive, send)


def websocket_stack(app):
    """Session cookie first, then a token header overrides it if present."""
    return BrowserOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(app)))
