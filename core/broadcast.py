"""Coalesced broadcasting of live snapshots, across every server process.

How a change reaches every socket:

1. A service's write commits; `core.events` then marks its assembly *dirty* — in Redis
   (`SADD`) when REDIS_URL is set, so that any process may publish it, else in this
   process. Marking never fails a write: when Redis is away the mark is kept locally.
2. Each server process runs one flusher task. Every interval it *pops* the dirty
   assemblies (`SPOP`: each one goes to exactly one process), and for each builds the
   snapshot once, numbers it (`INCR`, one sequence per assembly across processes),
   encodes it once and publishes it once to the assembly's group. At most one process
   publishes an assembly per interval (`Dirty.claim`): every process delivers every
   snapshot to its sockets, so two processes each publishing once per interval would
   double what each socket receives; the one that finds it claimed keeps its mark.
   The dirty mark is cleared *before* the state is read, so a write that commits during
   the build marks the assembly again and is in the next snapshot: every committed write
   is published within two intervals.
3. Each process has one `Hub`: a single channel-layer channel subscribed to the groups of
   the assemblies that have sockets in this process. It hands each published text to
   those sockets directly, instead of one channel-layer dispatch per consumer.

Clients keep the snapshot with the highest `seq` and drop older ones.
"""

import asyncio
import contextlib
import functools
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis
import redis.asyncio as aioredis
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings

from core import redis_clients
from core.ws_server import PreparedText

logger = logging.getLogger(__name__)

DIRTY_KEY = "live:dirty"
# Assemblies whose *access* changed (a member removed, a token revoked, the assembly made
# private...): their next snapshot asks every process to recheck its open sockets first.
ACCESS_KEY = "live:access"
# A socket that connects gets the newest published snapshot if it is this recent and still
# the newest (same seq); else one is built, once for all the sockets connecting meanwhile.
FIRST_SNAPSHOT_REUSE_SECONDS = 5.0
SEQ_KEY = "live:seq:{assembly_id}"
# Members of an assembly whose own state changed since its last snapshot (see `Change`).
MINE_KEY = "live:mine:{assembly_id}"
# Held for one interval by the process that publishes an assembly's snapshot: every process
# delivers every snapshot to its own sockets, so without it N processes flushing the same
# assembly would each publish once per interval, N times the intended rate.
PUBLISHING_KEY = "live:publishing:{assembly_id}"


def group_name(assembly_id: int) -> str:
    return f"live.assembly.{assembly_id}"


def _key(name: str) -> str:
    return f"{settings.REDIS_PREFIX}:{name}"


class Dirty:
    """The set of assemblies whose state changed since their last snapshot."""

    def __init__(self):
        self._local: set[int] = set()
        self._local_access: set[int] = set()
        self._local_mine: dict[int, set[int]] = defaultdict(set)
        self._lock = threading.Lock()
        self._sync_redis = None
        self._async_redis: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
        self._local_seq: dict[int, int] = defaultdict(int)

    @property
    def shared(self) -> bool:
        return bool(settings.REDIS_URL)

    def mark(self, assembly_id: int, *, access: bool = False, members=()) -> None:
        """Called after a commit, from any thread. Never raises: the write is already done.

        `access=True`: who may see or act changed; the snapshot carries a recheck request.
        `members`: whose own state changed; their sockets are told with the snapshot.
        """
        if self.shared and not _availability.open:
            try:
                pipe = self._redis_sync().pipeline(transaction=False)
                if access:
                    pipe.sadd(_key(ACCESS_KEY), assembly_id)
                if members:
                    pipe.sadd(_key(MINE_KEY.format(assembly_id=assembly_id)), *members)
                pipe.sadd(_key(DIRTY_KEY), assembly_id)
                pipe.execute()
                _availability.succeeded()
                return
            except redis.RedisError:
                _availability.failed()
                logger.warning("Redis unavailable: assembly %s kept dirty locally", assembly_id)
        self.mark_here(assembly_id, access=access, members=members)

    def mark_here(self, assembly_id: int, *, access: bool = False, members=()) -> None:
        """Mark in this process only: its flusher publishes it (never waits on Redis)."""
        with self._lock:
            self._local.add(assembly_id)
            if access:
                self._local_access.add(assembly_id)
            if members:
                self._local_mine[assembly_id].update(members)

    async def pop_members(self, assembly_id: int) -> set[int]:
        """The members marked for this assembly since its last snapshot (see `mark`)."""
        with self._lock:
            members = self._local_mine.pop(assembly_id, set())
        if self.shared and not _availability.open:
            try:
                key = _key(MINE_KEY.format(assembly_id=assembly_id))
                found = await self._redis_async().spop(key, 100_000)
                members.update(int(member) for member in found or [])
            except (redis.RedisError, OSError):
                _availability.failed()
        return members

    async def pop_all(self) -> tuple[set[int], set[int]]:
        """The dirty assemblies, and those of them whose access changed."""
        with self._lock:
            popped, self._local = self._local, set()
            access, self._local_access = self._local_access, set()
        if self.shared and not _availability.open:
            try:
                # Access first: a mark made between the two pops is then at worst rechecked
                # with the next snapshot, never published without its recheck.
                pipe = self._redis_async().pipeline(transaction=False)
                pipe.spop(_key(ACCESS_KEY), 10_000)
                pipe.spop(_key(DIRTY_KEY), 10_000)
                changed, members = await pipe.execute()
                access.update(int(member) for member in changed or [])
                popped.update(int(member) for member in members or [])
                _availability.succeeded()
            except (redis.RedisError, OSError):
                _availability.failed()
                logger.warning("Redis unavailable: publishing only this process's changes")
        return popped | access, access

    async def claim(self, assembly_id: int, seconds: float) -> bool:
        """Whether this process may publish the assembly's snapshot now: at most one per
        `seconds` across all processes (see PUBLISHING_KEY). Without Redis: always."""
        if not self.shared or _availability.open:
            return True
        try:
            key = _key(PUBLISHING_KEY.format(assembly_id=assembly_id))
            milliseconds = max(1, int(seconds * 1000))
            return bool(await self._redis_async().set(key, 1, nx=True, px=milliseconds))
        except (redis.RedisError, OSError):
            _availability.failed()
            return True  # a Redis fault never holds a change back

    async def next_seq(self, assembly_id: int) -> int:
        if self.shared and not _availability.open:
            try:
                return await self._next_shared_seq(assembly_id)
            except (redis.RedisError, OSError):
                _availability.failed()
        with self._lock:
            if self.shared:
                # Numbered here while Redis is away: from the clock, so clients that saw
                # Redis's numbers keep these; Redis continues above them when it is back.
                floor = int(time.time() * 1000) * 1000
                self._local_seq[assembly_id] = max(self._local_seq[assembly_id] + 1, floor)
            else:
                self._local_seq[assembly_id] += 1
            return self._local_seq[assembly_id]

    async def _next_shared_seq(self, assembly_id: int) -> int:
        key = _key(SEQ_KEY.format(assembly_id=assembly_id))
        numbered_here = self._local_seq[assembly_id]
        # A new counter starts from the clock (milliseconds x 1000), so the sequence keeps
        # increasing even after Redis restarts empty: clients never see it go backwards and
        # drop fresh snapshots as old.
        client = self._redis_async()
        pipe = client.pipeline(transaction=False)
        pipe.set(key, int(time.time() * 1000) * 1000, nx=True)
        pipe.incr(key)
        _created, value = await pipe.execute()
        if value <= numbered_here:  # this process numbered snapshots meanwhile
            value = await client.incrby(key, numbered_here - value + 1)
        _availability.succeeded()
        return int(value)

    async def current_seq(self, assembly_id: int) -> int:
        if self.shared:
            try:
                key = _key(SEQ_KEY.format(assembly_id=assembly_id))
                return int(await self._redis_async().get(key) or 0)
            except (redis.RedisError, OSError):
                pass
        return self._local_seq[assembly_id]

    def current_seq_sync(self, assembly_id: int) -> int:
        """`current_seq` for a page being rendered: its parts show at least this state."""
        if self.shared:
            try:
                key = _key(SEQ_KEY.format(assembly_id=assembly_id))
                return int(self._redis_sync().get(key) or 0)
            except redis.RedisError:
                pass
        return self._local_seq[assembly_id]

    def _redis_sync(self) -> redis.Redis:
        if self._sync_redis is None:
            self._sync_redis = redis_clients.sync_client(socket_timeout=1, socket_connect_timeout=1)
        return self._sync_redis

    def _redis_async(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if loop not in self._async_redis:
            self._async_redis[loop] = redis_clients.async_client(
                socket_timeout=2, socket_connect_timeout=1
            )
        return self._async_redis[loop]


dirty = Dirty()


class _Breaker:
    """Whether Redis answers, told apart from a passing hiccup (a circuit breaker).

    Closed: Redis is used. One failed operation does not open it, nor do failures separated
    by successes (a timeout under full CPU, a restart within a second): it opens after
    `OPEN_AFTER_FAILURES` failures in a row spanning at least `OPEN_AFTER_SECONDS`. Open:
    nothing waits on Redis (marks stay in this process, snapshots go to this process's
    sockets only, marked "behind"); every `PROBE_EVERY` seconds one ping is tried
    (half-open): success closes it, failure keeps it open. Writes are never refused for
    Redis in any state: PostgreSQL decides whether a position is recorded.
    """

    OPEN_AFTER_FAILURES = 3
    OPEN_AFTER_SECONDS = 1.0
    PROBE_EVERY = 1.0

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.open, self.failures, self.first_failure_at, self.opened_at = False, 0, 0.0, 0.0

    def failed(self) -> None:
        """A Redis operation just failed (any thread)."""
        now = time.monotonic()
        with self._lock:
            if self.failures == 0:
                self.first_failure_at = now
            self.failures += 1
            sustained = now - self.first_failure_at >= self.OPEN_AFTER_SECONDS
            if self.open or (self.failures >= self.OPEN_AFTER_FAILURES and sustained):
                if not self.open:
                    logger.warning("Redis unavailable: live updates reach this process only")
                self.open, self.opened_at = True, now

    def succeeded(self) -> None:
        with self._lock:
            if self.open:
                logger.info("Redis answers again: live updates reach every process")
            self.open, self.failures = False, 0

    async def available(self) -> bool:
        """False while open; when a probe is due, one ping decides."""
        if not settings.REDIS_URL or not self.open:
            return True
        if time.monotonic() - self.opened_at < self.PROBE_EVERY:
            return False
        try:
            await asyncio.wait_for(dirty._redis_async().ping(), timeout=0.5)
        except (redis.RedisError, OSError, TimeoutError):
            with self._lock:
                self.opened_at = time.monotonic()
            return False
        self.succeeded()
        return True


_availability = _Breaker()


async def live_available() -> bool:
    """False while Redis is away (sustained failure); writes are still recorded then."""
    return await _availability.available()


def live_behind() -> bool:
    """True while this process cannot hear the others' changes (see `_Breaker`)."""
    return _availability.open


async def with_retries(operation: Callable[[], Awaitable], deadline: float = 0.5):
    """`operation()`, tried again after a short pause while `deadline` seconds allow: a
    transient timeout is absorbed here; the last failure is raised."""
    give_up_at = time.monotonic() + deadline
    pause = 0.05
    while True:
        try:
            return await operation()
        except (redis.RedisError, OSError, TimeoutError, ConnectionError):
            if time.monotonic() + pause > give_up_at:
                raise
            await asyncio.sleep(pause)
            pause *= 2


class Socket(Protocol):
    def deliver_now(self, snapshot: PreparedText, seq: int) -> bool:
        """Deliver at once without awaiting (the frame written, or the snapshot older than
        what the socket shows); False when only `deliver` can."""

    async def deliver(self, text: str, seq: int) -> None: ...

    def beat_now(self, frame: PreparedText) -> bool:
        """The heartbeat frame written at once; False when only `send_beat` can."""

    async def send_beat(self, text: str) -> None: ...


# Set by the live layer: rechecks the access of a process's open sockets of one assembly
# (closing or downgrading those that lost it) before they get the next snapshot.
AccessCheck = Callable[[int, list[Socket]], Awaitable[None]]
_access_check: AccessCheck | None = None


def set_access_check(check: AccessCheck) -> None:
    global _access_check
    _access_check = check


class Hub:
    """This process's sockets, by assembly, fed from one channel-layer channel."""

    def __init__(self):
        self.sockets: dict[int, set[Socket]] = defaultdict(set)
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self._pump: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.latest: dict[int, tuple[int, str, float]] = {}
        self._building: dict[tuple[int, int], asyncio.Future] = {}

    async def add(self, assembly_id: int, socket: Socket) -> None:
        async with self._lock:
            await self._ensure_channel()
            first = not self.sockets[assembly_id]
            self.sockets[assembly_id].add(socket)
            if first:
                try:
                    await self.layer.group_add(group_name(assembly_id), self.channel)
                except Exception:
                    # Redis away: the socket still gets this process's snapshots; the
                    # subscription is made again when Redis answers (see `reconnect`).
                    _availability.failed()
                    logger.warning("Could not subscribe to assembly %s yet", assembly_id)

    async def reconnect(self) -> None:
        """After a Redis outage: a fresh layer, channel and subscriptions, and a new snapshot
        for every local assembly (what was published meanwhile never arrived here)."""
        async with self._lock:
            old, old_pump = self.layer, self._pump
            self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
            self.channel, self._pump = None, None
            if old_pump is not None:
                old_pump.cancel()
            await self._ensure_channel()
            for assembly_id in self.sockets:
                await self.layer.group_add(group_name(assembly_id), self.channel)
            with contextlib.suppress(Exception):
                await old.flush()
        for assembly_id in list(self.sockets):
            dirty.mark(assembly_id)
        logger.info("Live layer reconnected: %d assemblies resubscribed", len(self.sockets))

    async def discard(self, assembly_id: int, socket: Socket) -> None:
        async with self._lock:
            local = self.sockets.get(assembly_id)
            if not local:
                return
            local.discard(socket)
            if not local:
                del self.sockets[assembly_id]
                try:
                    await self.layer.group_discard(group_name(assembly_id), self.channel)
                except Exception:
                    logger.warning("Could not leave the group of assembly %s", assembly_id)

    async def first_snapshot(
        self, assembly_id: int, seq: int, build: Callable[[int, int], Awaitable[str]]
    ) -> str:
        """The first snapshot of a socket that joined, numbered `seq` (the current one).

        Any snapshot numbered `seq` will do: the socket is already in the hub, so every
        change not in it is in a later, higher-numbered one that reaches the socket.
        """
        latest = self.latest.get(assembly_id)
        if (
            latest
            and latest[0] == seq
            and time.monotonic() - latest[2] < FIRST_SNAPSHOT_REUSE_SECONDS
        ):
            return latest[1]
        key = (assembly_id, seq)
        future = self._building.get(key)
        if future is None:
            future = self._building[key] = asyncio.ensure_future(build(assembly_id, seq))
            future.add_done_callback(lambda _f: self._building.pop(key, None))
        text = await asyncio.shield(future)
        self._remember(assembly_id, seq, text)
        return text

    def _remember(self, assembly_id: int, seq: int, text: str) -> None:
        latest = self.latest.get(assembly_id)
        if latest is None or seq >= latest[0]:
            self.latest[assembly_id] = (seq, text, time.monotonic())

    def count(self) -> int:
        return sum(len(local) for local in self.sockets.values())

    async def _ensure_channel(self) -> None:
        if self.channel is None:
            self.channel = await self.layer.new_channel("live-hub.")
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._pump_forever())

    async def _pump_forever(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Live channel receive failed; retrying", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            await self.deliver_local(
                message["assembly"],
                message["text"],
                message["seq"],
                message.get("recheck"),
                message.get("mine") or (),
            )

    async def deliver_local(
        self, assembly_id: int, text: str, seq: int, recheck: bool = False, mine=()
    ) -> None:
        """Write one encoded snapshot to every local socket of the assembly.

        With `recheck`, the sockets' access is checked again first, so one that lost it
        never gets this snapshot. The websocket frame is encoded once and the same bytes
        written to every socket whose server offers it (core.ws_server); the others take
        their ordinary `send`, started eagerly: a socket whose buffer has room is written
        without scheduling a task; only a slow one is waited for.
        """
        if recheck and _access_check is not None and self.sockets.get(assembly_id):
            try:
                await _access_check(assembly_id, list(self.sockets[assembly_id]))
            except Exception:
                logger.exception("Rechecking the sockets of assembly %s failed", assembly_id)
        sockets = list(self.sockets.get(assembly_id, ()))
        if sockets:
            self._remember(assembly_id, seq, text)
        snapshot = PreparedText(text)
        await _write_to_each(
            sockets, lambda s: s.deliver_now(snapshot, seq), lambda s: s.deliver(text, seq)
        )
        if mine:
            await self._tell_members(sockets, set(mine), seq)

    async def _tell_members(self, sockets: list, members: set[int], seq: int) -> None:
        """A small frame to each socket of a member whose own state changed: the page then
        fetches what is that member's alone ("Your position"), which no snapshot carries."""
        frame = PreparedText(json.dumps({"type": "mine", "seq": seq}, separators=(",", ":")))
        for socket in sockets:
            if getattr(socket, "member_id", None) in members and not socket.deliver_now(frame, seq):
                with contextlib.suppress(Exception):
                    await socket.deliver(frame.text, seq)

    async def beat(self) -> None:
        """A tiny frame to every local socket, every LIVE_HEARTBEAT_SECONDS. A client that
        hears nothing, not even this, for a few heartbeats takes its connection for lost
        (a host gone silent, a network cut that sent no reset) and reconnects elsewhere."""
        sockets = [socket for local in list(self.sockets.values()) for socket in local]
        await _write_to_each(sockets, lambda s: s.beat_now(BEAT), lambda s: s.send_beat(BEAT.text))


async def _write_to_each(sockets: list, write_now, send) -> None:
    """`write_now(socket)` for each socket (the prepared frame, written at once); where it
    cannot, the coroutine `send(socket)`, started eagerly: a socket whose buffer has room is
    written without scheduling a task; only the slow ones are waited for."""
    loop = asyncio.get_running_loop()
    slow = []
    for socket in sockets:
        if write_now(socket):
            continue
        task = asyncio.Task(send(socket), loop=loop, eager_start=True)
        if not task.done():
            slow.append(task)
        elif not task.cancelled():
            task.exception()  # retrieved: a socket closing meanwhile is not an error
    if slow:
        await asyncio.gather(*slow, return_exceptions=True)


BEAT = PreparedText(json.dumps({"type": "beat"}, separators=(",", ":")))

_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]


async def publish(assembly_id: int, text: str, seq: int, recheck: bool = False, mine=()) -> None:
    """One PUBLISH per snapshot; every process delivers it to its own sockets."""
    message = {"type": "live.snapshot", "assembly": assembly_id, "text": text, "seq": seq}
    if recheck:
        message["recheck"] = True
    if mine:
        message["mine"] = sorted(mine)
    await hub().layer.group_send(group_name(assembly_id), message)


class Flusher:
    """Turns dirty marks into published snapshots, at most once per interval."""

    def __init__(
        self,
        encode_snapshot: Callable[[int, int], Awaitable[str | None]],
        before_flush: Callable[[], None] = lambda: None,
    ):
        self.encode_snapshot = encode_snapshot
        self.before_flush = before_flush
        self._task: asyncio.Task | None = None

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="live-flusher")

    async def flush_once(self) -> int:
        published = 0
        self.before_flush()
        changed, access = await dirty.pop_all()
        for assembly_id in sorted(changed):
            if not await dirty.claim(assembly_id, interval()):
                # Another process published it within the interval: ours waits for the
                # next flush (kept here, with its recheck; its members stay in Redis).
                dirty.mark_here(assembly_id, access=assembly_id in access)
                continue
            seq = await dirty.next_seq(assembly_id)
            text = await self.encode_snapshot(assembly_id, seq)
            if text is None:
                continue
            recheck = assembly_id in access
            mine = await dirty.pop_members(assembly_id)
            if _availability.open:
                # Redis away: this process's sockets see this process's changes now; every
                # assembly is published again when Redis answers (see `Hub.reconnect`).
                await hub().deliver_local(assembly_id, text, seq, recheck, mine)
                continue
            try:
                await with_retries(
                    functools.partial(publish, assembly_id, text, seq, recheck, mine)
                )
                published += 1
            except Exception:
                _availability.failed()
                logger.warning("Publishing assembly %s failed; will retry", assembly_id)
                await hub().deliver_local(assembly_id, text, seq, recheck, mine)
                dirty.mark_here(assembly_id, access=recheck, members=mine)
        return published

    async def _run(self) -> None:
        was_available = True
        next_beat = time.monotonic() + settings.LIVE_HEARTBEAT_SECONDS
        beating: asyncio.Task | None = None
        while True:
            if time.monotonic() >= next_beat and (beating is None or beating.done()):
                # Its own task: a slow reader's beat never holds up the next snapshot.
                beating = asyncio.get_running_loop().create_task(hub().beat(), name="live-beat")
                next_beat = time.monotonic() + settings.LIVE_HEARTBEAT_SECONDS
            try:
                available = await live_available()
                if available and not was_available:
                    await hub().reconnect()
                elif was_available and not available:
                    # The status changed to "behind": every local socket hears it now,
                    # even when nothing else changed.
                    for assembly_id in list(hub().sockets):
                        dirty.mark_here(assembly_id)
                was_available = available
                await self.flush_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Live flush failed; retrying")
            await asyncio.sleep(interval())


def interval_for(local_sockets: int, base: float, per_second: float, cap: float) -> float:
    """The coalescing interval for a process holding `local_sockets`: `base` for a small
    audience, then long enough that the process writes at most `per_second` snapshots a
    second to its sockets, but never longer than `cap`."""
    return min(cap, max(base, local_sockets / per_second))


def interval() -> float:
    """This process's current coalescing interval (see `interval_for`)."""
    return interval_for(
        sum(h.count() for h in _hubs.values()),
        settings.LIVE_PUBLISH_INTERVAL,
        settings.LIVE_DELIVERIES_PER_SECOND,
        max(settings.LIVE_PUBLISH_INTERVAL, settings.LIVE_PUBLISH_INTERVAL_MAX),
    )
