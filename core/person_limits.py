"""Limits per person on the live socket, across all of a person's sockets and processes.

A per-connection limit alone lets one person open a hundred sockets and write through all
of them, or come straight back after being disconnected. So, per authenticated person:

- at most `LIVE_SOCKETS_PER_PERSON` open sockets in one server process (a phone, a laptop,
  a few tabs; processes are few);
- at most `LIVE_WRITES_PER_PERSON_PER_SECOND` writes a second, counted in Redis across
  every socket and process (in the process without Redis);
- after a disconnection for abuse (close code 4429), no new socket for
  `LIVE_ABUSE_PENALTY_SECONDS`.

If Redis cannot be reached the shared counts are skipped (writes are recorded as usual):
the per-connection limits still hold.
"""

import asyncio
import logging
import time
from collections import defaultdict

import redis
import redis.asyncio as aioredis
from django.conf import settings

from core import redis_clients

logger = logging.getLogger(__name__)

_open: dict[int, int] = defaultdict(int)
_local_writes: dict[tuple[int, int], int] = defaultdict(int)
_local_penalties: dict[int, float] = {}
_clients: dict = {}


def _redis() -> aioredis.Redis | None:
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    if loop not in _clients:
        _clients[loop] = redis_clients.async_client(socket_timeout=1, socket_connect_timeout=1)
    return _clients[loop]


def _key(*parts) -> str:
    return ":".join([settings.REDIS_PREFIX, "person", *map(str, parts)])


def socket_opened(user_id: int) -> bool:
    """Count a new socket of this person; False (and not counted) when over the cap."""
    if _open[user_id] >= settings.LIVE_SOCKETS_PER_PERSON:
        return False
    _open[user_id] += 1
    return True


def socket_closed(user_id: int) -> None:
    _open[user_id] -= 1
    if _open[user_id] <= 0:
        del _open[user_id]


INCR, EXISTS = "incr", "exists"


class SharedCounts:
    """Counts and checks in Redis of many sockets, sent as one pipeline per round trip.

    Ten thousand people stating positions within seconds, or reconnecting after a host is
    lost, would otherwise cost a round trip each, which under full CPU times out (and fails
    open). Here the counts and checks wanted while one pipeline is in flight go together in
    the next one.
    """

    def __init__(self, client: aioredis.Redis):
        self.client = client
        self.pending: list[tuple[str, str, asyncio.Future]] = []
        self.sending: asyncio.Task | None = None

    async def incr(self, key: str) -> int:
        """The key's count after adding one (it expires a few seconds later)."""
        return await self._queue(INCR, key)

    async def exists(self, key: str) -> bool:
        return bool(await self._queue(EXISTS, key))

    async def _queue(self, command: str, key: str):
        loop = asyncio.get_running_loop()
        answered = loop.create_future()
        self.pending.append((command, key, answered))
        if self.sending is None:
            self.sending = loop.create_task(self._send_while_pending())
        return await answered

    async def _send_while_pending(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                await self._send(batch)
        finally:
            self.sending = None

    async def _send(self, batch: list[tuple[str, str, asyncio.Future]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for command, key, _answered in batch:
            if command == INCR:
                pipe.incr(key)
                pipe.expire(key, 3)
            else:
                pipe.exists(key)
        try:
            results = iter(await pipe.execute())
        except BaseException as error:
            # Every socket waiting on this batch hears of it (fails open); a cancellation
            # still propagates.
            failure = error if isinstance(error, Exception) else redis.ConnectionError()
            for _command, _key, answered in batch:
                if not answered.done():
                    answered.set_exception(failure)
            if not isinstance(error, Exception):
                raise
            return
        for command, _key, answered in batch:
            result = next(results)
            if command == INCR:
                next(results)  # the EXPIRE's answer
            if not answered.done():
                answered.set_result(result)


_counts: dict = {}


def _shared_counts(client: aioredis.Redis) -> SharedCounts:
    loop = asyncio.get_running_loop()
    if loop not in _counts:
        _counts[loop] = SharedCounts(client)
    return _counts[loop]


async def write_allowed(user_id: int) -> bool:
    """Spend one of the person's writes of this second."""
    second = int(time.time())
    client = _redis()
    if client is not None:
        try:
            count = await _shared_counts(client).incr(_key("writes", user_id, second))
            return count <= settings.LIVE_WRITES_PER_PERSON_PER_SECOND
        except (redis.RedisError, OSError):
            logger.warning("Per-person write limit unavailable (Redis)")
            return True
    for stale in [k for k in _local_writes if k[1] < second - 2]:
        del _local_writes[stale]
    _local_writes[(user_id, second)] += 1
    return _local_writes[(user_id, second)] <= settings.LIVE_WRITES_PER_PERSON_PER_SECOND


async def penalise(user_id: int) -> None:
    """After a disconnection for abuse: no new socket for a while."""
    seconds = settings.LIVE_ABUSE_PENALTY_SECONDS
    client = _redis()
    if client is not None:
        try:
            await client.set(_key("penalty", user_id), 1, ex=max(1, int(seconds)))
            return
        except (redis.RedisError, OSError):
            logger.warning("Per-person penalty unavailable (Redis); kept in this process")
    _local_penalties[user_id] = time.monotonic() + seconds


async def penalised(user_id: int) -> bool:
    client = _redis()
    if client is not None:
        try:
            return await _shared_counts(client).exists(_key("penalty", user_id))
        except (redis.RedisError, OSError):
            pass
    return _local_penalties.get(user_id, 0) > time.monotonic()
