"""Close online calls for consensus at their set time, inside the app's own processes.

No cron job and no manual step: every server process runs one small asyncio task that,
every ONLINE_CLOSE_CHECK_SECONDS, closes the calls whose time has come (an indexed query
that finds nothing almost always). Several processes may race to close the same call; the
close takes a row lock and the loser gets a Conflict, which `close_due_calls` skips.

The same tick announces the calls that close within 24 h and 1 h (`announce_closing_calls`,
once each: a unique row decides between processes); the notifications app hears of it and
reminds the members who have not taken a position.
"""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from proposals.services import announce_closing_calls, close_due_calls

logger = logging.getLogger(__name__)
_task: asyncio.Task | None = None


def ensure_started() -> None:
    """Start the ticker in the running event loop, once per process."""
    global _task
    if _task is None or _task.done():
        _task = asyncio.get_running_loop().create_task(_tick_forever(), name="close-due-calls")


def _close_due_calls_once() -> int:
    close_old_connections()
    try:
        closed = len(close_due_calls())
        announce_closing_calls()
        return closed
    finally:
        close_old_connections()


async def _tick_forever() -> None:
    interval = settings.ONLINE_CLOSE_CHECK_SECONDS
    while True:
        try:
            closed = await sync_to_async(_close_due_calls_once, thread_sensitive=False)()
            if closed:
                logger.info("Closed %d online call(s) for consensus at their set time", closed)
        except Exception:
            # A database outage must not end the ticker: it retries at the next tick.
            logger.exception("Could not close due calls for consensus; retrying")
        await asyncio.sleep(interval)
