"""Group commit for positions taken over sockets: one transaction for many members.

Each server process has one `PositionBatcher` per event loop. A socket's `position` message
is queued; the batcher collects what arrives within `WINDOW` seconds (and everything that
queued while the previous batch was being written), looks the members and proposals up in
two queries, and writes them all with one `services.take_positions` call in a worker thread.
Each socket is answered after that commit: its `ack`, or the error of its own position.

If the batch as a whole fails (a database error, not a refusal), every position in it is
retried alone through `services.take_position`, so each gets its own answer.
"""

import asyncio
import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from assemblies.models import Membership
from core.db import kept_connection_to_async
from core.errors import DomainError, NotFound
from proposals import services
from proposals.models import Position, Proposal

logger = logging.getLogger(__name__)

WINDOW = 0.005
MAX_BATCH = 1000


@dataclass
class Pending:
    assembly_id: int
    member_id: int | None
    proposal_id: int
    kind: str
    reason: str
    request_id: str
    future: asyncio.Future


def _not_a_member() -> DomainError:
    return DomainError("not_a_member", _("Only members of this assembly can do this."), status=403)


def _not_found() -> NotFound:
    return NotFound("proposal_not_found", _("There is no such proposal."))


def write_batch(batch: list[Pending]) -> list[Position | BaseException]:
    """Runs in a worker thread: two lookups, one batched service call."""
    member_ids = {p.member_id for p in batch if p.member_id}
    members = Membership.objects.select_related("assembly").in_bulk(member_ids)
    proposals = Proposal.objects.in_bulk({p.proposal_id for p in batch})
    results: list[Position | BaseException | None] = [None] * len(batch)
    requests, places = [], []
    for index, item in enumerate(batch):
        member = members.get(item.member_id) if item.member_id else None
        proposal = proposals.get(item.proposal_id)
        if member is None:
            results[index] = _not_a_member()
        elif proposal is None or proposal.assembly_id != item.assembly_id:
            results[index] = _not_found()
        else:
            requests.append(
                services.PositionRequest(
                    actor=member,
                    proposal=proposal,
                    kind=item.kind,
                    reason=item.reason,
                    request_id=item.request_id,
                )
            )
            places.append(index)
    if requests:
        try:
            written = services.take_positions(actor_positions=requests)
        except Exception:
            logger.warning("Batch of %s positions failed; retrying one by one", len(requests))
            written = [_alone(request) for request in requests]
        for index, result in zip(places, written, strict=True):
            results[index] = result
    return results


def _alone(request: services.PositionRequest) -> Position | BaseException:
    try:
        return services.take_position(
            actor=request.actor,
            proposal=request.proposal,
            kind=request.kind,
            reason=request.reason,
            request_id=request.request_id,
        )
    except Exception as error:  # each position gets its own answer
        return error


class PositionBatcher:
    def __init__(self, window: float = WINDOW, limit: int = MAX_BATCH):
        self.window, self.limit = window, limit
        self.queue: list[Pending] = []
        self.wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def take(self, **fields) -> Position:
        """Queue one position; returns it once committed, or raises its own error."""
        future = asyncio.get_running_loop().create_future()
        self.queue.append(Pending(future=future, **fields))
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
                results = await write(batch)
            except Exception as error:
                logger.exception("Writing a batch of positions failed")
                results = [error] * len(batch)
            for item, result in zip(batch, results, strict=True):
                if item.future.done():
                    continue
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)


_batchers: dict[asyncio.AbstractEventLoop, PositionBatcher] = {}


def batcher() -> PositionBatcher:
    loop = asyncio.get_running_loop()
    if loop not in _batchers:
        _batchers[loop] = PositionBatcher()
    return _batchers[loop]
