"""Websocket plumbing: who is connecting (session cookie or API token) and from where."""

from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from core.db import kept_connection_to_async


class BrowserOriginValidator(OriginValidator):
    """Refuse cross-site sockets: a browser always sends Origin, and it must be ours.

    A client with no Origin header is not a browser (a bot, the API's own users), so no
    other site can be riding on its cookies; it is let through to authenticate itself.
    """

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def allowed_origins() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    hosts += [urlparse(origin).netloc for origin in settings.CSRF_TRUSTED_ORIGINS]
    return hosts


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
            scope = {**scope, "user": await _user_for_token(key.strip())}
        return await self.app(scope, receive, send)


def websocket_stack(app):
    """Session cookie first, then a token header overrides it if present."""
    return BrowserOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(app)), allowed_origins())
