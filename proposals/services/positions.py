"""Taking a position: one check and one writer for the page, the API and the socket.

`take_positions` is the writer: many members' statements in ONE transaction (the socket's
group commit, see `sittings.batching`). `take_position` is its one-item case and raises
that item's refusal. Every request passes `_check`, whichever edge it came from.
"""

from dataclasses import dataclass, replace

from django.db import transaction
from django.utils.translation import gettext as _

from assemblies.access import require_participant
from assemblies.models import Membership
from core.errors import Conflict, DomainError, NotFound
from core.events import PROXY_USED
from proposals.models import Phase, Position, PositionKind, Proposal
from proposals.services._common import (
    call_lock,
    clean_reason,
    lock_for_position,
    log,
    not_found,
    publish,
)
from proposals.services.proxies import check_mandate, proxy_for_statement

MAX_REQUEST_ID = 64


@dataclass(frozen=True)
class PositionRequest:
    """One member's statement, as an edge received it: ids only, nothing looked up yet.

    `assembly_id` is the assembly the edge resolved (the URL's or the socket's); a proposal
    of another assembly is answered as missing.
    """

    member_id: int | None
    assembly_id: int
    proposal_id: int
    kind: str
    reason: str = ""
    request_id: str = ""
    # Set when the member states this for another, with her proxy ("Ben for Ana").
    for_member_id: int | None = None


def take_position(
    *,
    actor: Membership | None,
    proposal: Proposal,
    kind: str,
    reason: str = "",
    request_id: str = "",
    for_member: Membership | None = None,
) -> Position:
    """State agree / stand aside / block. A new statement replaces the member's current one.

    With `for_member`, the actor states it for that member with her proxy (see `proxies`).
    """
    request = PositionRequest(
        member_id=actor.pk if actor is not None else None,
        assembly_id=proposal.assembly_id,
        proposal_id=proposal.pk,
        kind=kind,
        reason=reason,
        request_id=request_id,
        for_member_id=for_member.pk if for_member is not None else None,
    )
    [result] = take_positions([request])
    if isinstance(result, DomainError):
        raise result
    return result


@transaction.atomic
def take_positions(requests: list[PositionRequest]) -> list[Position | DomainError]:
    """Write many statements at once; one result per request, in order.

    A result is the position (new, or the earlier one for a repeated `request_id`) or the
    `DomainError` refusing that request alone; the others are still written. The locks are
    taken in a fixed order (proposals, then members, by id) so concurrent batches cannot
    deadlock: a batch racing a close is wholly before it (its positions are in the decision)
    or wholly after (refused). Several statements of one member apply in order, the last one
    current.
    """
    results: list[Position | DomainError | None] = [None] * len(requests)
    valid: list[tuple[int, PositionRequest]] = []
    for index, request in enumerate(requests):
        try:
            valid.append((index, _clean(request)))
        except DomainError as error:
            results[index] = error
    proposals = _lock_proposals({request.proposal_id for _i, request in valid})
    members = _lock_members(
        {
            member_id
            for _i, request in valid
            for member_id in (request.member_id, request.for_member_id)
            if member_id
        }
    )
    earlier = _earlier_positions(members, [request for _i, request in valid])

    rounds: list[list[tuple[int, Position]]] = []
    turns: dict[int, int] = {}
    for index, request in valid:
        try:
            actor = members.get(request.member_id)
            proposal = _proposal_for(proposals, request, actor)
            member = _stated_for(request, actor, members, proposal)
            repeated = _check(request, member, proposal, earlier)
            proxy = None
            if repeated is None and member is not actor:
                proxy, request = _with_proxy(request, actor, member, proposal)
            if repeated is None:
                _require_reason(request, proposal)
        except DomainError as error:
            results[index] = error
            continue
        if repeated is not None:
            results[index] = repeated
            continue
        position = Position(
            proposal=proposal,
            member=member,
            kind=request.kind,
            reason=request.reason,
            revision_number=proposal.revision_number,
            request_id=request.request_id,
            **({"stated_by": actor, "proxy": proxy} if member is not actor else {}),
        )
        if position.request_id:
            earlier[(member.pk, position.request_id)] = position  # a repeat here: applied once
        turn = turns[member.pk] = turns.get(member.pk, -1) + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append((index, position))
    for index, position in _write(rounds):
        results[index] = position
    writers: dict[int, set[int]] = {}
    for round_ in rounds:
        for _index, position in round_:
            writers.setdefault(position.proposal_id, set()).add(position.member_id)
            if position.stated_by_id:
                writers[position.proposal_id].add(position.stated_by_id)
                _announce_proxy_used(position)
    for proposal_id in sorted(writers):
        publish(proposals[proposal_id], "position", tuple(sorted(writers[proposal_id])))
    return results


def _stated_for(request, actor, members, proposal) -> Membership | None:
    """Whose position this is: the actor's own, or the member she carries the proxy of."""
    if not request.for_member_id or request.for_member_id == request.member_id:
        return actor
    require_participant(actor)
    giver = members.get(request.for_member_id)
    if giver is None or giver.assembly_id != proposal.assembly_id:
        raise NotFound("member_not_found", _("There is no such member in this assembly."))
    return giver


def _with_proxy(request, holder, giver, proposal):
    """The proxy the holder uses, and the request with the mandate's reason if she gave none."""
    proxy = proxy_for_statement(holder=holder, giver=giver, proposal=proposal)
    check_mandate(proxy, request.kind)
    if not request.reason and proxy.reason and proxy.mandate == request.kind:
        request = replace(request, reason=proxy.reason)
    return proxy, request


def _announce_proxy_used(position: Position) -> None:
    """A proxy used is a public act, and the giver hears of it (notifications)."""
    log(
        position.proposal,
        position.stated_by,
        "proposals.proxy.used",
        member=position.member.display_name,
        position=position.kind,
    )
    publish(
        position.proposal,
        "proxy",
        (position.member_id,),
        event=PROXY_USED,
        reference=f"position:{position.pk}",
    )


def _clean(request: PositionRequest) -> PositionRequest:
    """What can be refused before any lock (the kind, the reason's shape); the request as
    it is written: the reason stripped, the request id at most `MAX_REQUEST_ID` long."""
    if request.kind not in PositionKind.values:
        raise DomainError("invalid_kind", _("Choose agree, stand aside or block."))
    reason = clean_reason(request.reason)
    return replace(request, reason=reason, request_id=(request.request_id or "")[:MAX_REQUEST_ID])


def _lock_proposals(ids: set[int]) -> dict[int, Proposal | DomainError]:
    proposals: dict[int, Proposal | DomainError] = {}
    for proposal_id in sorted(ids):
        call_lock(proposal_id, exclusive=False)
        try:
            proposals[proposal_id] = lock_for_position(proposal_id)
        except DomainError as error:
            proposals[proposal_id] = error
    return proposals


def _lock_members(ids: set[int]) -> dict[int, Membership]:
    # One member's statements queue behind each other; other members are not held up.
    return {
        member.pk: member
        for member in Membership.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    }


def _earlier_positions(
    members: dict[int, Membership], requests: list[PositionRequest]
) -> dict[tuple[int, str], Position]:
    asked = {
        (r.for_member_id or r.member_id, r.request_id)
        for r in requests
        if r.request_id and (r.for_member_id or r.member_id) in members
    }
    if not asked:
        return {}
    found = Position.objects.filter(
        member_id__in={m for m, _r in asked}, request_id__in={r for _m, r in asked}
    )
    return {(p.member_id, p.request_id): p for p in found}


def _proposal_for(proposals, request: PositionRequest, member: Membership | None) -> Proposal:
    proposal = proposals[request.proposal_id]
    if isinstance(proposal, DomainError):
        raise proposal
    # A statement from outside this assembly is answered as if the proposal were missing.
    if proposal.assembly_id != request.assembly_id:
        raise not_found()
    if member is None or member.assembly_id != proposal.assembly_id:
        raise not_found()
    return proposal


def _check(request, member, proposal, earlier) -> Position | None:
    """Who may state it and when (the proxy and the reason are checked after it); returns
    the earlier position for a repeated request id."""
    require_participant(member)
    if request.request_id and (member.pk, request.request_id) in earlier:
        before = earlier[(member.pk, request.request_id)]
        if before.proposal_id != proposal.pk:
            # Acknowledging it would report a position on this proposal that was never taken.
            raise Conflict(
                "request_id_reused", _("This request id was already used for another proposal.")
            )
        return before
    if proposal.phase != Phase.CALL:
        raise Conflict(
            "call_not_open", _("Positions can only be taken during the call for consensus.")
        )
    return None


def _require_reason(request: PositionRequest, proposal: Proposal) -> None:
    if proposal.decision_rule.reason_required(request.kind) and not request.reason:
        raise reason_required_error(request.kind)


def reason_required_error(kind: str) -> DomainError:
    """The refusal of a position without the reason the rule asks for (every edge)."""
    if kind == PositionKind.BLOCK:
        message = _("A block needs a reason: say what principled objection you have.")
    else:
        message = _("A stand-aside needs a reason under this assembly's rule.")
    return DomainError("reason_required", message)


def _write(rounds: list[list[tuple[int, Position]]]):
    """Each round holds at most one statement per member: retire the current ones, insert."""
    for round_ in rounds:
        by_proposal: dict[int, list[int]] = {}
        for _index, position in round_:
            by_proposal.setdefault(position.proposal_id, []).append(position.member_id)
        for proposal_id, member_ids in by_proposal.items():
            Position.objects.filter(
                proposal_id=proposal_id, member_id__in=member_ids, is_current=True
            ).update(is_current=False)
        Position.objects.bulk_create([position for _index, position in round_])
        yield from round_
