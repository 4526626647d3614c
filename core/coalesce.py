"""One database round for many sockets arriving at once.

When an app host is lost, its share of the assembly reconnects to the others within a few
seconds, and each socket must be told who it is and whether it may see the assembly. Asked
one by one, that is three queries and two thread hops per socket: the storm is bounded by
round trips, not by work. A `Coalescer` answers every key asked for while its previous
batch was in flight with one call of a batch function (`keys -> {key: value}`), in a worker
thread on a kept connection (core.db). A lone key is looked up at once, so a quiet server
adds no delay; every answer is read after it was asked for, so nothing is served stale.
"""

import asyncio
from collections.abc import Callable, Hashable

from core.db import kept_connection_to_async

MAX_BATCH = 500


class Coalescer[K: Hashable, V]:
    def __init__(self, lookup: Callable[[list[K]], dict[K, V]], limit: int = MAX_BATCH):
        self.lookup, self.limit = kept_connection_to_async(lookup), limit
        self._waiting: dict[asyncio.AbstractEventLoop, dict[K, list[asyncio.Future]]] = {}
        self._running: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}

    async def get(self, key: K) -> V:
        """The batch function's value for `key` (KeyError if it gave none), or its error."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.setdefault(loop, {}).setdefault(key, []).append(future)
        task = self._running.get(loop)
        if task is None or task.done():
            self._running[loop] = loop.create_task(self._drain(loop), name="coalesce")
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self._waiting[loop]
        while waiting:
            keys = list(waiting)[: self.limit]
            batch = {key: waiting.pop(key) for key in keys}
            try:
                found = await self.lookup(keys)
            except Exception as error:
                found = dict.fromkeys(keys, error)  # every socket of the batch is told
            for key, futures in batch.items():
                _settle(futures, found.get(key))


def _settle(futures: list[asyncio.Future], value) -> None:
    """The value, or the exception the batch function gave for this key (KeyError: none)."""
    for future in futures:
        if future.done():
            continue  # its socket went away meanwhile
        if isinstance(value, BaseException):
            future.set_exception(value)
        elif value is None:
            future.set_exception(KeyError("no value"))
        else:
            future.set_result(value)
