"""ASGI entry point: HTTP through Django; served by uvicorn in production, daphne in runserver."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multitude.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.ws import websocket_stack  # noqa: E402
from proposals import scheduler  # noqa: E402
from sittings import live  # noqa: E402
from sittings.routing import websocket_urlpatterns  # noqa: E402


class WithBackgroundTasks:
    """Starts the process's background tasks at lifespan startup (uvicorn) or, for servers
    without lifespan (daphne's runserver), with the first connection."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        scheduler.ensure_started()
        live.flusher.ensure_started()
        return await self.app(scope, receive, send)

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scheduler.ensure_started()
                live.flusher.ensure_started()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


application = WithBackgroundTasks(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": websocket_stack(URLRouter(websocket_urlpatterns)),
        }
    )
)
