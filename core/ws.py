"""Websocket plumbing: who is connecting (session cookie or API token) and from where."""

from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from core.coalesce import Coalescer
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
    host = _header(scope, b"host")
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


TOKEN_LENGTH = 40  # rest_framework.authtoken's keys


def _users_for_tokens(keys: list[str]) -> dict[str, object]:
    """Each token's active user, else an anonymous one: one query for a whole storm of
    sockets connecting at once (core.coalesce)."""
    from rest_framework.authtoken.models import Token

    found = {
        token.key: token.user for token in Token.objects.select_related("user").filter(key__in=keys)
    }
    return {
        key: found[key] if key in found and found[key].is_active else AnonymousUser()
        for key in keys
    }


_tokens = Coalescer(_users_for_tokens)


@kept_connection_to_async
def _user_for_session(session_key: str) -> tuple[object, str | None]:
    """The session's user, checked as Django checks a request's (its auth hash included),
    and the session's key if the session exists."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))
    return user, store.session_key


@dataclass(frozen=True, slots=True)
class SocketUser:
    """Who a socket belongs to, as much as the live layer reads (`pk`, `is_authenticated`).

    A socket's scope lives as long as the socket: the whole User row in it (its password
    hash, dates and model state) cost about a kilobyte per socket, times ten thousand."""

    pk: int | None

    @property
    def id(self) -> int | None:
        return self.pk

    @property
    def is_authenticated(self) -> bool:
        return self.pk is not None

    @property
    def is_anonymous(self) -> bool:
        return self.pk is None


ANONYMOUS = SocketUser(None)


async def _who_connects(token: str, session_key: str | None) -> tuple[SocketUser, str | None]:
    """A token's user if a token is given (it wins), else the session cookie's."""
    user = AnonymousUser()
    if session_key:
        user, session_key = await _user_for_session(session_key)
    if token:
        user = await _tokens.get(token) if len(token) == TOKEN_LENGTH else AnonymousUser()
    return (SocketUser(user.pk) if user.is_authenticated else ANONYMOUS), session_key


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


class SocketAuthMiddleware:
    """Who is connecting: `Authorization: Token <key>` like the REST API, else the session
    cookie's user, in one database call on a kept connection (shared by the tokens of
    the sockets connecting at the same time).

    Channels' AuthMiddlewareStack does the same in three layers (cookies, session, user),
    each keeping its own copy of the scope, and a session wrapper, for as long as the
    socket is open; with ten thousand sockets a process those copies were a fifth of its
    memory. The scope gets `user` (a `SocketUser`: the id, not the row), `session_key`
    (None when the session does not exist)
    and, when one was sent, `token`: the key stays in the scope so that an open socket is
    checked again when tokens change.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        scheme, _space, key = _header(scope, b"authorization").partition(" ")
        token = key.strip() if scheme.lower() == "token" else ""
        cookies = parse_cookie(_header(scope, b"cookie"))
        user, session_key = await _who_connects(token, cookies.get(settings.SESSION_COOKIE_NAME))
        # Filled in, not copied: each socket has its own scope, and a copy would be kept
        # (by this frame) as long as the socket.
        scope["user"], scope["session_key"] = user, session_key
        if token:
            scope["token"] = token
        return await self.app(scope, receive, send)


def websocket_stack(app):
    """Origin first, then who is connecting (a token header overrides the session cookie)."""
    return BrowserOriginValidator(SocketAuthMiddleware(app))
