"""Every write to proposals, positions and decisions. All three edges call these.

Concurrency (PostgreSQL): a position takes a shared advisory lock on its proposal's call,
reads the proposal FOR KEY SHARE and locks its member row FOR NO KEY UPDATE; closing takes
the exclusive advisory lock, then the proposal FOR UPDATE. Positions of different members run
side by side and positions of one member queue. A close waits for the positions already in
flight (they are in the decision); PostgreSQL queues lock requests fairly, so positions that
arrive after a waiting close wait behind it and are then refused: none is lost silently, and
a stream of late positions cannot hold a close off.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies import rules
from assemblies.access import require_facilitator, require_participant
from assemblies.models import Meeting, MeetingState, Membership
from assemblies.services import append_to_agenda, record_action
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.events import publish_on_commit
from proposals import history
from proposals.models import (
    DISCUSSION_PHASES,
    Comment,
    CommentKind,
    CommentStatus,
    Decision,
    Outcome,
    Phase,
    Position,
    PositionKind,
    Proposal,
    Reading,
    Revision,
    TemperatureCheck,
    TemperatureReading,
)
from proposals.selectors import tally_for

MAX_TITLE = 200
MAX_TEXT = 50_000
MAX_REASON = 5_000


def _publish(proposal: Proposal, kind: str) -> None:
    publish_on_commit(
        assembly_id=proposal.assembly_id,
        proposal_id=proposal.pk,
        meeting_id=proposal.meeting_id,
        kind=kind,
    )


def _require_same_assembly(actor: Membership, proposal: Proposal) -> None:
    if actor is None or actor.assembly_id != proposal.assembly_id:
        raise NotFound("proposal_not_found", _("There is no such proposal."))


def _lock_proposal(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().select_related("assembly").get(pk=proposal.pk)


def _clean_text(value: str, *, code: str, message: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(code, message)
    if len(value) > limit:
        raise DomainError(
            f"{code.removesuffix('_required')}_too_long",
            _("This text is too long (at most %(limit)d characters).") % {"limit": limit},
        )
    return value


@transaction.atomic
def submit_proposal(
    *,
    actor: Membership,
    title: str,
    text: str,
    meeting=None,
    closes_at: datetime | None = None,
) -> Proposal:
    """Write a proposal down. On a sitting's agenda it waits to be presented; online
    (with a closing time and no sitting) it opens for positions at once and closes itself."""
    require_participant(actor)
    title = _clean_text(
        title, code="title_required", message=_("A proposal needs a title."), limit=MAX_TITLE
    )
    text = _clean_text(
        text, code="text_required", message=_("A proposal needs a text."), limit=MAX_TEXT
    )
    if meeting is not None and meeting.assembly_id != actor.assembly_id:
        raise NotFound("meeting_not_found", _("There is no such sitting."))
    if meeting is not None:
        # Locked as add_to_agenda does, so two submissions cannot take the same agenda place.
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if meeting.state == MeetingState.ADJOURNED:
            raise Conflict("meeting_adjourned", _("This sitting is over."))
    if closes_at is not None and closes_at <= timezone.now():
        raise DomainError("closes_at_past", _("The closing time must be in the future."))
    proposal = Proposal.objects.create(
        assembly_id=actor.assembly_id, meeting=meeting, author=actor, title=title
    )
    Revision.objects.create(proposal=proposal, number=1, text=text, author=actor)
    if meeting is not None:
        append_to_agenda(meeting, proposal)
    if closes_at is not None:
        _open_call(proposal, closes_at=closes_at)
    _publish(proposal, "proposal")
    return proposal


@transaction.atomic
def revise_proposal(
    *, actor: Membership, proposal: Proposal, text: str, summary: str = ""
) -> Revision:
    """The author rewrites the text; positions taken on the old text become stale."""
    _require_same_assembly(actor, proposal)
    require_participant(actor)
    proposal = _lock_proposal(proposal)
    if proposal.author_id != actor.pk:
        raise PermissionDenied("not_author", _("Only the author can change the text."))
    _require_open(proposal)
    text = _clean_text(
        text, code="text_required", message=_("A proposal needs a text."), limit=MAX_TEXT
    )
    return _new_revision(proposal, text=text, summary=summary, author=actor)


def _new_revision(
    proposal: Proposal, *, text: str, summary: str, author, amendment=None
) -> Revision:
    proposal.revision_number += 1
    proposal.save(update_fields=["revision_number", "updated_at"])
    revision = Revision.objects.create(
        proposal=proposal,
        number=proposal.revision_number,
        text=text,
        summary=summary[:300],
        author=author,
        amendment=amendment,
    )
    _publish(proposal, "revision")
    return revision


def _require_open(proposal: Proposal) -> None:
    if proposal.phase in (Phase.DECIDED, Phase.WITHDRAWN):
        raise Conflict("proposal_closed", _("This proposal is already decided or withdrawn."))
    if proposal.phase == Phase.TABLED:
        raise Conflict("proposal_tabled", _("This proposal is tabled."))


@transaction.atomic
def set_phase(*, actor: Membership, proposal: Proposal, phase: str) -> Proposal:
    """Move a proposal between the discussion phases (the call has its own service)."""
    _require_same_assembly(actor, proposal)
    require_facilitator(actor)
    if phase not in DISCUSSION_PHASES:
        raise DomainError(
            "invalid_phase",
            _(
                "Choose presented, questions, concerns or amendments; the call for consensus, "
                "tabling and withdrawing have their own actions."
            ),
        )
    proposal = _lock_proposal(proposal)
    if proposal.phase not in (Phase.DRAFT, Phase.TABLED, *DISCUSSION_PHASES):
        raise Conflict(
            "phase_locked", _("The call for consensus is open or the proposal is decided.")
        )
    previous = proposal.phase
    proposal.phase = phase
    proposal.save(update_fields=["phase", "updated_at"])
    record_action(
        assembly=proposal.assembly,
        actor=actor,
        meeting=proposal.meeting,
        action="proposals.phase.changed",
        proposal=proposal.title,
        proposal_id=proposal.pk,
        old=previous,
        new=phase,
    )
    _publish(proposal, "phase")
    return proposal


@transaction.atomic
def add_comment(
    *,
    actor: Membership,
    proposal: Proposal,
    kind: str,
    text: str,
    parent: Comment | None = None,
    proposed_text: str = "",
) -> Comment:
    """Ask a clarifying question, answer one, raise a concern or suggest a friendly amendment."""
    _require_same_assembly(actor, proposal)
    require_participant(actor)
    if kind not in CommentKind.values:
        raise DomainError("invalid_kind", _("Unknown kind of comment."))
    _require_open(proposal)
    text = _clean_text(
        text, code="text_required", message=_("Please write something."), limit=MAX_TEXT
    )
    parent = _answerable_question(actor, proposal, parent) if kind == CommentKind.ANSWER else None
    if kind == CommentKind.AMENDMENT:
        proposed_text = _clean_text(
            proposed_text,
            code="proposed_text_required",
            message=_("A friendly amendment needs the proposed new text."),
            limit=MAX_TEXT,
        )
    else:
        proposed_text = ""
    comment = Comment.objects.create(
        proposal=proposal,
        member=actor,
        kind=kind,
        parent=parent,
        text=text,
        proposed_text=proposed_text,
        revision_number=proposal.revision_number,
    )
    if parent is not None and parent.status == CommentStatus.OPEN:
        parent.status = CommentStatus.ADDRESSED
        parent.resolved_at = timezone.now()
        parent.save(update_fields=["status", "resolved_at"])
    _publish(proposal, "comment")
    return comment


def _answerable_question(actor: Membership, proposal: Proposal, parent: Comment | None) -> Comment:
    if parent is None or parent.proposal_id != proposal.pk or parent.kind != CommentKind.QUESTION:
        raise DomainError("question_required", _("An answer must reply to a clarifying question."))
    if actor.pk != proposal.author_id and not actor.is_facilitator:
        raise PermissionDenied(
            "not_author", _("Clarifying questions are answered by the author or a facilitator.")
        )
    return parent


def _lock_amendment(actor: Membership, amendment: Comment) -> tuple[Proposal, Comment]:
    proposal = _lock_proposal(amendment.proposal)
    _require_same_assembly(actor, proposal)
    amendment = Comment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.kind != CommentKind.AMENDMENT:
        raise DomainError("not_amendment", _("This is not a friendly amendment."))
    if proposal.author_id != actor.pk:
        raise PermissionDenied(
            "not_author", _("Only the author of the proposal accepts or declines amendments.")
        )
    if amendment.status != CommentStatus.OPEN:
        raise Conflict("amendment_resolved", _("This amendment was already answered."))
    _require_open(proposal)
    return proposal, amendment


@transaction.atomic
def accept_amendment(*, actor: Membership, amendment: Comment) -> Revision:
    """The author accepts: the amended text becomes a new revision; older positions go stale."""
    require_participant(actor)
    proposal, amendment = _lock_amendment(actor, amendment)
    if amendment.revision_number != proposal.revision_number:
        # Its full text was written against an older revision: accepting it now would
        # silently undo the changes made since.
        raise Conflict(
            "amendment_outdated",
            _("This amendment was written for an earlier revision; ask for an updated one."),
        )
    amendment.status = CommentStatus.ACCEPTED
    amendment.resolved_at = timezone.now()
    amendment.save(update_fields=["status", "resolved_at"])
    summary = _("Friendly amendment by %(name)s") % {"name": amendment.member.display_name}
    return _new_revision(
        proposal, text=amendment.proposed_text, summary=summary, author=actor, amendment=amendment
    )


@transaction.atomic
def decline_amendment(*, actor: Membership, amendment: Comment) -> Comment:
    require_participant(actor)
    proposal, amendment = _lock_amendment(actor, amendment)
    amendment.status = CommentStatus.DECLINED
    amendment.resolved_at = timezone.now()
    amendment.save(update_fields=["status", "resolved_at"])
    _publish(proposal, "comment")
    return amendment


@transaction.atomic
def open_temperature_check(*, actor: Membership, proposal: Proposal) -> TemperatureCheck:
    _require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = _lock_proposal(proposal)
    if proposal.phase not in (Phase.DRAFT, *DISCUSSION_PHASES):
        raise Conflict("not_discussing", _("A temperature check is taken during discussion."))
    if proposal.temperature_checks.filter(closed_at__isnull=True).exists():
        raise Conflict("temperature_open", _("A temperature check is already open."))
    check = TemperatureCheck.objects.create(
        proposal=proposal, opened_by=actor, revision_number=proposal.revision_number
    )
    record_action(
        assembly=proposal.assembly,
        actor=actor,
        meeting=proposal.meeting,
        action="proposals.temperature.opened",
        proposal=proposal.title,
        proposal_id=proposal.pk,
    )
    _publish(proposal, "temperature")
    return check


@transaction.atomic
def close_temperature_check(*, actor: Membership, proposal: Proposal) -> TemperatureCheck:
    _require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = _lock_proposal(proposal)
    check = proposal.temperature_checks.filter(closed_at__isnull=True).first()
    if check is None:
        raise Conflict("no_temperature_check", _("No temperature check is open."))
    check.closed_at = timezone.now()
    check.save(update_fields=["closed_at"])
    readings = reading_counts(check)
    record_action(
        assembly=proposal.assembly,
        actor=actor,
        meeting=proposal.meeting,
        action="proposals.temperature.closed",
        proposal=proposal.title,
        proposal_id=proposal.pk,
        **readings,
    )
    _publish(proposal, "temperature")
    return check


def reading_counts(check: TemperatureCheck) -> dict[str, int]:
    counts = dict.fromkeys(Reading.values, 0)
    for reading in check.readings.values_list("reading", flat=True):
        counts[reading] += 1
    return counts


@transaction.atomic
def give_reading(*, actor: Membership, proposal: Proposal, reading: str) -> TemperatureReading:
    _require_same_assembly(actor, proposal)
    require_participant(actor)
    if reading not in Reading.values:
        raise DomainError("invalid_reading", _("Choose up, so-so or down."))
    check = proposal.temperature_checks.filter(closed_at__isnull=True).first()
    if check is None:
        raise Conflict("no_temperature_check", _("No temperature check is open."))
    row, _created = TemperatureReading.objects.update_or_create(
        check_run=check, member=actor, defaults={"reading": reading}
    )
    _publish(proposal, "temperature")
    return row


def _open_call(proposal: Proposal, *, closes_at: datetime | None) -> None:
    rule = proposal.assembly.rule
    proposal.phase = Phase.CALL
    proposal.rule = rule.to_dict()
    proposal.call_opened_at = timezone.now()
    proposal.closes_at = closes_at
    proposal.save(update_fields=["phase", "rule", "call_opened_at", "closes_at", "updated_at"])


@transaction.atomic
def call_for_consensus(
    *, actor: Membership, proposal: Proposal, closes_at: datetime | None = None
) -> Proposal:
    """Open the call: the assembly's rule is snapshotted so a later change cannot alter it."""
    _require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = _lock_proposal(proposal)
    if proposal.phase not in (Phase.DRAFT, *DISCUSSION_PHASES):
        raise Conflict("call_not_possible", _("The call for consensus is already open or over."))
    if closes_at is not None and closes_at <= timezone.now():
        raise DomainError("closes_at_past", _("The closing time must be in the future."))
    proposal.temperature_checks.filter(closed_at__isnull=True).update(closed_at=timezone.now())
    _open_call(proposal, closes_at=closes_at)
    record_action(
        assembly=proposal.assembly,
        actor=actor,
        meeting=proposal.meeting,
        action="proposals.call.opened",
        proposal=proposal.title,
        proposal_id=proposal.pk,
        rule=proposal.rule,
    )
    _publish(proposal, "phase")
    return proposal


# Advisory lock namespace of "the call for consensus of proposal N".
CALL_LOCK_CLASS = 7001


def _call_lock(proposal_id: int, *, exclusive: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite serialises every write transaction anyway.
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [CALL_LOCK_CLASS, proposal_id])


def _lock_for_position(proposal_id: int) -> Proposal:
    """Read the proposal under a lock that a close (FOR UPDATE) waits for, and vice versa.

    FOR KEY SHARE lets positions of many members proceed together; after a close commits,
    the locking read sees the closed phase, so a late position is refused, never dropped.
    """
    queryset = Proposal.objects.select_related("assembly")
    if connection.vendor == "postgresql":
        queryset = queryset.raw(
            "SELECT * FROM proposals_proposal WHERE id = %s FOR KEY SHARE", [proposal_id]
        )
        found = list(queryset)
        if not found:
            raise NotFound("proposal_not_found", _("There is no such proposal."))
        return found[0]
    return Proposal.objects.get(pk=proposal_id)


@transaction.atomic
def take_position(
    *,
    actor: Membership,
    proposal: Proposal,
    kind: str,
    reason: str = "",
    request_id: str = "",
) -> Position:
    """State agree / stand aside / block. A new statement replaces the member's current one."""
    _require_same_assembly(actor, proposal)
    if kind not in PositionKind.values:
        raise DomainError("invalid_kind", _("Choose agree, stand aside or block."))
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise DomainError("reason_too_long", _("A reason has at most 5000 characters."))
    request_id = (request_id or "")[:64]
    _call_lock(proposal.pk, exclusive=False)
    proposal = _lock_for_position(proposal.pk)
    # One member's statements queue behind each other; other members are not held up.
    member = Membership.objects.select_for_update(no_key=True).get(pk=actor.pk)
    require_participant(member)
    if request_id:
        earlier = Position.objects.filter(member=member, request_id=request_id).first()
        if earlier is not None:
            if earlier.proposal_id != proposal.pk:
                # Acknowledging it would report a position on this proposal that was never taken.
                raise Conflict(
                    "request_id_reused", _("This request id was already used for another proposal.")
                )
            return earlier
    if proposal.phase != Phase.CALL:
        raise Conflict(
            "call_not_open", _("Positions can only be taken during the call for consensus.")
        )
    rule = proposal.decision_rule
    if rule.reason_required(kind) and not reason:
        if kind == PositionKind.BLOCK:
            message = _("A block needs a reason: say what principled objection you have.")
        else:
            message = _("A stand-aside needs a reason under this assembly's rule.")
        raise DomainError("reason_required", message)
    Position.objects.filter(proposal=proposal, member=member, is_current=True).update(
        is_current=False
    )
    position = Position.objects.create(
        proposal=proposal,
        member=member,
        kind=kind,
        reason=reason,
        revision_number=proposal.revision_number,
        request_id=request_id,
    )
    _publish(proposal, "position")
    return position


@dataclass(frozen=True)
class PositionRequest:
    """One member's statement in a batch (see `take_positions`)."""

    actor: Membership
    proposal: Proposal
    kind: str
    reason: str = ""
    request_id: str = ""


def _reason_required_error(kind: str) -> DomainError:
    if kind == PositionKind.BLOCK:
        message = _("A block needs a reason: say what principled objection you have.")
    else:
        message = _("A stand-aside needs a reason under this assembly's rule.")
    return DomainError("reason_required", message)


@transaction.atomic
def take_positions(*, actor_positions: list[PositionRequest]) -> list[Position | DomainError]:
    """Many members' statements in ONE transaction, with the invariants of `take_position`.

    Returns one result per request, in order: the position (new, or the earlier one for a
    repeated `request_id`), or the `DomainError` refusing that request alone; the others are
    still written. The locks are the same as `take_position`'s, taken in a fixed order
    (proposals, then members, by id) so concurrent batches cannot deadlock: a batch racing a
    close is wholly before it (its positions are in the decision) or wholly after (refused).
    Several statements of one member in a batch apply in order, the last one current.
    """
    results: list[Position | DomainError | None] = [None] * len(actor_positions)
    pending: list[tuple[int, PositionRequest, str, str]] = []
    for index, item in enumerate(actor_positions):
        try:
            _require_same_assembly(item.actor, item.proposal)
            if item.kind not in PositionKind.values:
                raise DomainError("invalid_kind", _("Choose agree, stand aside or block."))
            reason = (item.reason or "").strip()
            if len(reason) > MAX_REASON:
                raise DomainError("reason_too_long", _("A reason has at most 5000 characters."))
        except DomainError as error:
            results[index] = error
            continue
        pending.append((index, item, reason, (item.request_id or "")[:64]))

    proposals: dict[int, Proposal | DomainError] = {}
    for proposal_id in sorted({item.proposal.pk for _i, item, _r, _q in pending}):
        _call_lock(proposal_id, exclusive=False)
        try:
            proposals[proposal_id] = _lock_for_position(proposal_id)
        except DomainError as error:
            proposals[proposal_id] = error
    members = {
        m.pk: m
        for m in Membership.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted({item.actor.pk for _i, item, _r, _q in pending}))
        .order_by("pk")
    }
    asked = [(item.actor.pk, rid) for _i, item, _r, rid in pending if rid]
    earlier: dict[tuple[int, str], Position] = {}
    if asked:
        for position in Position.objects.filter(
            member_id__in={m for m, _ in asked}, request_id__in={r for _, r in asked}
        ):
            earlier[(position.member_id, position.request_id)] = position

    rounds: list[list[tuple[int, Position]]] = []
    occurrences: dict[int, int] = {}
    for index, item, reason, request_id in pending:
        try:
            proposal = proposals[item.proposal.pk]
            if isinstance(proposal, DomainError):
                raise proposal
            member = members.get(item.actor.pk)
            require_participant(member)
            if request_id and (member.pk, request_id) in earlier:
                before = earlier[(member.pk, request_id)]
                if before.proposal_id != proposal.pk:
                    raise Conflict(
                        "request_id_reused",
                        _("This request id was already used for another proposal."),
                    )
                results[index] = before
                continue
            if proposal.phase != Phase.CALL:
                raise Conflict(
                    "call_not_open", _("Positions can only be taken during the call for consensus.")
                )
            if proposal.decision_rule.reason_required(item.kind) and not reason:
                raise _reason_required_error(item.kind)
        except DomainError as error:
            results[index] = error
            continue
        position = Position(
            proposal=proposal,
            member=member,
            kind=item.kind,
            reason=reason,
            revision_number=proposal.revision_number,
            request_id=request_id,
        )
        if request_id:
            earlier[(member.pk, request_id)] = position  # a repeat in this batch: applied once
        turn = occurrences[member.pk] = occurrences.get(member.pk, -1) + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append((index, position))

    written: set[int] = set()
    for round_ in rounds:
        by_proposal: dict[int, list[int]] = {}
        for _index, position in round_:
            by_proposal.setdefault(position.proposal_id, []).append(position.member_id)
        for proposal_id, member_ids in by_proposal.items():
            Position.objects.filter(
                proposal_id=proposal_id, member_id__in=member_ids, is_current=True
            ).update(is_current=False)
        Position.objects.bulk_create([position for _index, position in round_])
        for index, position in round_:
            results[index] = position
            written.add(position.proposal_id)
    for proposal_id in sorted(written):
        _publish(proposals[proposal_id], "position")
    return results


@transaction.atomic
def close_call(
    *, actor: Membership | None, proposal: Proposal, now: datetime | None = None
) -> Decision:
    """Close the call: the rule decides the outcome from the tally, and it is recorded.

    `actor=None` is the automatic close of an online proposal at its closing time.
    """
    if actor is not None:
        _require_same_assembly(actor, proposal)
        require_facilitator(actor)
    _call_lock(proposal.pk, exclusive=True)
    proposal = _lock_proposal(proposal)
    if proposal.phase != Phase.CALL:
        raise Conflict("call_not_open", _("The call for consensus is not open (already closed?)."))
    if actor is None and (
        proposal.closes_at is None or proposal.closes_at > (now or timezone.now())
    ):
        raise Conflict("not_due", _("This call has no closing time or it has not come yet."))
    outcome = rules.decide(proposal.decision_rule, tally_for(proposal))
    return _record_decision(proposal, outcome=outcome, actor=actor, now=now)


@transaction.atomic
def table_proposal(*, actor: Membership, proposal: Proposal) -> Proposal:
    """Set aside for a later sitting; positions taken so far are kept but no longer current."""
    _require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = _lock_proposal(proposal)
    if proposal.phase in (Phase.DECIDED, Phase.WITHDRAWN, Phase.TABLED):
        raise Conflict(
            "proposal_closed", _("This proposal is already decided, withdrawn or tabled.")
        )
    was_call = proposal.phase == Phase.CALL
    proposal.phase = Phase.TABLED
    proposal.closes_at = None
    proposal.save(update_fields=["phase", "closes_at", "updated_at"])
    if was_call:
        # A later call starts afresh: members restate their positions on the text then.
        Position.objects.filter(proposal=proposal, is_current=True).update(is_current=False)
    proposal.temperature_checks.filter(closed_at__isnull=True).update(closed_at=timezone.now())
    record_action(
        assembly=proposal.assembly,
        actor=actor,
        meeting=proposal.meeting,
        action="proposals.proposal.tabled",
        proposal=proposal.title,
        proposal_id=proposal.pk,
    )
    _publish(proposal, "phase")
    return proposal


@transaction.atomic
def withdraw_proposal(*, actor: Membership, proposal: Proposal) -> Decision:
    """The author (or a facilitator) withdraws it; the withdrawal is recorded in the history."""
    _require_same_assembly(actor, proposal)
    require_participant(actor)
    if actor.pk != proposal.author_id and not actor.is_facilitator:
        raise PermissionDenied(
            "not_author", _("Only the author or a facilitator can withdraw a proposal.")
        )
    proposal = _lock_proposal(proposal)
    if proposal.phase in (Phase.DECIDED, Phase.WITHDRAWN):
        raise Conflict("proposal_closed", _("This proposal is already decided or withdrawn."))
    return _record_decision(proposal, outcome=Outcome.WITHDRAWN, actor=actor, now=None)


def _record_decision(
    proposal: Proposal, *, outcome: str, actor: Membership | None, now: datetime | None
) -> Decision:
    """Append the decision to the assembly's chain. Caller holds the proposal's row lock."""
    # The chain is per assembly: lock it so two closes cannot take the same place in it.
    from assemblies.models import Assembly

    Assembly.objects.select_for_update(no_key=True).filter(pk=proposal.assembly_id).first()
    previous = (
        Decision.objects.filter(assembly_id=proposal.assembly_id)
        .order_by("-sequence")
        .values_list("sequence", "digest")
        .first()
    )
    sequence, previous_digest = (previous[0] + 1, previous[1]) if previous else (1, history.GENESIS)
    decided_at = now or timezone.now()
    positions = list(
        proposal.positions.filter(is_current=True).select_related("member").order_by("member_id")
    )
    tally = rules.Tally.from_kinds(position.kind for position in positions)
    record = decision_record(
        proposal=proposal,
        sequence=sequence,
        outcome=outcome,
        tally=tally,
        positions=positions,
        closed_by=actor,
        decided_at=decided_at,
    )
    decision = Decision.objects.create(
        proposal=proposal,
        assembly_id=proposal.assembly_id,
        sequence=sequence,
        outcome=outcome,
        agree_count=tally.agree,
        stand_aside_count=tally.stand_aside,
        block_count=tally.block,
        rule=proposal.rule,
        revision_number=proposal.revision_number,
        closed_by=actor,
        decided_at=decided_at,
        record=record,
        previous_digest=previous_digest,
        digest=history.compute_digest(previous_digest, record),
    )
    proposal.phase = Phase.WITHDRAWN if outcome == Outcome.WITHDRAWN else Phase.DECIDED
    proposal.save(update_fields=["phase", "updated_at"])
    proposal.temperature_checks.filter(closed_at__isnull=True).update(closed_at=decided_at)
    record_action(
        assembly=proposal.assembly,
        actor=actor,
        meeting=proposal.meeting,
        action="proposals.proposal.withdrawn"
        if outcome == Outcome.WITHDRAWN
        else "proposals.call.closed",
        proposal=proposal.title,
        proposal_id=proposal.pk,
        outcome=outcome,
        counts=tally.as_dict(),
    )
    _publish(proposal, "decision")
    return decision


def _timestamp(value: datetime) -> str:
    return value.astimezone(timezone.UTC).isoformat(timespec="microseconds")


def decision_record(
    *, proposal, sequence, outcome, tally, positions, closed_by, decided_at
) -> dict:
    """The canonical content of a decision, covered by its digest (see docs)."""
    return {
        "assembly": proposal.assembly.slug,
        "sequence": sequence,
        "proposal": {
            "id": proposal.pk,
            "title": proposal.title,
            "revision": proposal.revision_number,
            "text": proposal.revisions.get(number=proposal.revision_number).text,
        },
        "outcome": str(outcome),
        "rule": proposal.rule,
        "counts": tally.as_dict(),
        "positions": [
            {
                "member_id": position.member_id,
                "member": position.member.display_name,
                "kind": position.kind,
                "reason": position.reason,
                "revision": position.revision_number,
                "taken_at": _timestamp(position.created_at),
            }
            for position in positions
        ],
        "closed_by": (
            {"member_id": closed_by.pk, "member": closed_by.display_name} if closed_by else None
        ),
        "decided_at": _timestamp(decided_at),
    }


def close_due_calls(*, now: datetime | None = None) -> list[Decision]:
    """Close every online call whose time has come (called lazily and by the live ticker)."""
    now = now or timezone.now()
    decisions = []
    due = Proposal.objects.filter(phase=Phase.CALL, closes_at__lte=now).values_list("pk", flat=True)
    for proposal_id in due:
        try:
            decisions.append(close_call(actor=None, proposal=Proposal(pk=proposal_id), now=now))
        except Conflict:
            continue  # closed meanwhile by a facilitator or another process
    return decisions
