"""The baseline: the Channels tutorial pattern, on the same project, database and Redis.

Every position is written alone (`services.take_position`), then the writer builds the
tally snapshot and `group_send`s it to the assembly's group; every consumer has its own
channel on the channel layer and receives one message per position, which it sends to its
socket. No coalescing, no hub. Run by bench/live_assembly.py:

    uvicorn baseline_app:application --app-dir bench ...
"""

import json
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multitude.settings")
django_asgi_app = get_asgi_application()

from channels.db import database_sync_to_async  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from assemblies.access import get_assemblies_for_projector  # noqa: E402
from assemblies.models import Membership  # noqa: E402
from core import broadcast  # noqa: E402
from core.errors import DomainError, NotFound  # noqa: E402
from core.ws import websocket_stack  # noqa: E402
from proposals import services  # noqa: E402
from proposals.models import Proposal  # noqa: E402
from sittings import live  # noqa: E402

SEP = (",", ":")  # compact JSON, as the app sends


def _authorise(user, slug):
    """`user` is the socket's (core.ws.SocketUser: an id); the app's own access rule."""
    request = (user.pk, slug, "")
    found = get_assemblies_for_projector([request])[request]
    if isinstance(found, NotFound):
        raise found
    assembly, member = found
    return assembly.pk, member.pk if member else None


def _take(member_id, assembly_id, message):
    position = services.take_position(
        actor=Membership.objects.select_related("assembly").get(pk=member_id),
        proposal=Proposal.objects.get(pk=message["proposal"], assembly_id=assembly_id),
        kind=message["kind"],
        reason=message.get("reason", ""),
        request_id=message.get("request_id", ""),
    )
    return position.pk


def _snapshot(assembly_id, seq):
    return live.encode(live.build_snapshot(assembly_id, seq))


class TutorialConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.assembly_id, self.member_id = await database_sync_to_async(_authorise)(
            self.scope["user"], slug
        )
        self.group = f"tutorial.{self.assembly_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        seq = await broadcast.dirty.current_seq(self.assembly_id)
        await self.send(text_data=await database_sync_to_async(_snapshot)(self.assembly_id, seq))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        message = json.loads(text_data)
        request_id = message.get("request_id")
        try:
            pk = await database_sync_to_async(_take)(self.member_id, self.assembly_id, message)
        except DomainError as error:
            await self.send(
                json.dumps(
                    {"type": "error", "request_id": request_id, **error.as_dict()}, separators=SEP
                )
            )
            return
        await self.send(
            json.dumps({"type": "ack", "request_id": request_id, "position": pk}, separators=SEP)
        )
        seq = await broadcast.dirty.next_seq(self.assembly_id)
        text = await database_sync_to_async(_snapshot)(self.assembly_id, seq)
        await self.channel_layer.group_send(self.group, {"type": "tally.message", "text": text})

    async def tally_message(self, event):
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_stack(
            URLRouter([path("ws/assemblies/<slug:slug>/", TutorialConsumer.as_asgi())])
        ),
    }
)
