"""Each server process notes its facilitators' connections and settles quick consents.

One small asyncio task per process (started with the first socket, like the live flusher):
every second it settles the quick consents whose time is up; every
FACILITATOR_PRESENCE_SECONDS it tells the database which of its open sockets belong to
facilitators (one query for all of them) and marks the sittings whose facilitators have all
been gone for FACILITATOR_AWAY_SECONDS. Processes share nothing but the database, so a
facilitator connected to any process keeps her sitting "seen".
"""

import asyncio
import logging
import time

from django.conf import settings

from core import broadcast
from core.db import kept_connection_to_async
from sittings import stand_in

logger = logging.getLogger(__name__)
_task: asyncio.Task | None = None
SETTLE_EVERY = 1.0


def ensure_started() -> None:
    global _task
    if _task is None or _task.done():
        _task = asyncio.get_running_loop().create_task(_run(), name="facilitator-presence")


def connected_members() -> set[int]:
    """The members with a socket open in this process, whatever their assembly."""
    return {
        socket.member_id
        for sockets in list(broadcast.hub().sockets.values())
        for socket in list(sockets)
        if getattr(socket, "member_id", None)
    }


def _note_presence(member_ids: set[int]) -> None:
    stand_in.note_facilitators_connected(member_ids)
    stand_in.note_facilitators_away()


async def _run() -> None:
    noted_at = 0.0
    while True:
        try:
            await kept_connection_to_async(stand_in.settle_due_consents)()
            if time.monotonic() - noted_at >= settings.FACILITATOR_PRESENCE_SECONDS:
                noted_at = time.monotonic()
                await kept_connection_to_async(_note_presence)(connected_members())
        except Exception:
            # A database outage must not end the task: it tries again at the next tick.
            logger.exception("Could not note facilitators or settle quick consents; retrying")
        await asyncio.sleep(min(SETTLE_EVERY, settings.FACILITATOR_PRESENCE_SECONDS))
