"""Group commit for positions taken over sockets: one transaction for many members.

Each server process has one `PositionBatcher` per event loop. A socket's `position` message
is queued; the batcher collects what arrives within `WINDOW` seconds (and everything that
queued while the previous batch was being written) and hands them all, as they came, to
`services.take_positions` in a worker thread: the same check and writer as the page's and
the API's `take_position`. The batcher looks nothing up itself. Each socket is answered
after that commit: its `ack`, or the error of its own position.

If the batch as a whole fails (a database error, not a refusal), each position in it is
written again on its own through the same `take_positions`, so each gets its own answer.
"""

import asyncio
import logging

from core.db import kept_connection_to_async
from proposals import services
from proposals.models import Position

logger = logging.getLogger(__name__)

WINDOW = 0.005
MAX_BATCH = 1000


def write_batch(batch: list[services.PositionRequest]) -> list[Position | BaseException]:
    """Runs in a worker thread: one service call for the whole batch."""
    try:
        return services.take_positions(batch)
    except Exception:
        logger.warning("Batch of %s positions failed; writing them one by one", len(batch))
        return [_alone(request) for request in batch]


def _alone(request: services.PositionRequest) -> Position | BaseException:
    try:
        return services.take_positions([request])[0]
    except Exception as error:  # each position gets its own answer
        return error


class PositionBatcher:
    def __init__(self, window: float = WINDOW, limit: int = MAX_BATCH):
        self.window, self.limit = window, limit
        self.queue: list[tuple[services.PositionRequest, asyncio.Future]] = []
        self.wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def take(self, request: services.PositionRequest) -> Position:
        """Queue one position; returns it once committed, or raises its own error."""
        future = asyncio.get_running_loop().create_future()
        self.queue.append((request, future))
        self.wakeup.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="positions")
        return await future

    async def _run(self) -> None:
        write = kept_connection_to_async(write_batch)
        while True:
            await self.wakeup.wait()
            if len(self.queue) < self.limit:
                await asyncio.sleep(self.window)
            batch, self.queue = self.queue[: self.limit], self.queue[self.limit :]
            if not self.queue:
                self.wakeup.clear()
            if not batch:
                continue
            try:
                results = await write([request for request, _future in batch])
            except Exception as error:
                logger.exception("Writing a batch of positions failed")
                results = [error] * len(batch)
            for (_request, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


_batchers: dict[asyncio.AbstractEventLoop, PositionBatcher] = {}


def batcher() -> PositionBatcher:
    loop = asyncio.get_running_loop()
    if loop not in _batchers:
        _batchers[loop] = PositionBatcher()
    return _batchers[loop]
