"""ASGI entry point: HTTP through Django; served by uvicorn in production, daphne in runserver."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multitude.settings")

# Django must be set up before anything imports models (the live routing, later).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app})
