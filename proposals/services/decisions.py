"""Ending a proposal: closing the call by the rule, withdrawing it, and recording the decision."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies import rules
from assemblies.access import require_facilitator, require_participant
from assemblies.models import Assembly, Membership, QuorumOf
from assemblies.services import apply_governance_decision
from core.errors import Conflict, PermissionDenied
from core.events import CALL_CLOSING_SOON, DECISION_RECORDED
from proposals import history, transparency
from proposals.models import CallReminder, Decision, Outcome, Phase, Proposal
from proposals.selectors import current_positions, hall_count_for, present_for_quorum
from proposals.services._common import (
    call_lock,
    lock_proposal,
    log,
    publish,
    require_same_assembly,
)


@transaction.atomic
def close_call(
    *, actor: Membership | None, proposal: Proposal, now: datetime | None = None
) -> Decision:
    """Close the call: the rule decides the outcome from the tally, and it is recorded.

    `actor=None` is the automatic close of an online proposal at its closing time.
    """
    if actor is not None:
        require_same_assembly(actor, proposal)
        require_facilitator(actor)
    call_lock(proposal.pk, exclusive=True)
    proposal = lock_proposal(proposal)
    if proposal.phase != Phase.CALL:
        raise Conflict("call_not_open", _("The call for consensus is not open (already closed?)."))
    if actor is None and (
        proposal.closes_at is None or proposal.closes_at > (now or timezone.now())
    ):
        raise Conflict("not_due", _("This call has no closing time or it has not come yet."))
    return _record_decision(proposal, outcome=None, actor=actor, now=now)


@transaction.atomic
def withdraw_proposal(*, actor: Membership, proposal: Proposal) -> Decision:
    """The author (or a facilitator) withdraws it; the withdrawal is recorded in the history."""
    require_same_assembly(actor, proposal)
    require_participant(actor)
    if actor.pk != proposal.author_id and not actor.is_facilitator:
        raise PermissionDenied(
            "not_author", _("Only the author or a facilitator can withdraw a proposal.")
        )
    proposal = lock_proposal(proposal)
    if proposal.phase in (Phase.DECIDED, Phase.WITHDRAWN):
        raise Conflict("proposal_closed", _("This proposal is already decided or withdrawn."))
    return _record_decision(proposal, outcome=Outcome.WITHDRAWN, actor=actor, now=None)


def _record_decision(
    proposal: Proposal, *, outcome: str | None, actor: Membership | None, now: datetime | None
) -> Decision:
    """Append the decision to the assembly's chain. Caller holds the proposal's row lock.

    `outcome=None`: the rule decides, from the same positions the record lists (read once).
    """
    # The chain is per assembly: lock it so two closes cannot take the same place in it.
    Assembly.objects.select_for_update(no_key=True).filter(pk=proposal.assembly_id).first()
    previous = (
        Decision.objects.filter(assembly_id=proposal.assembly_id)
        .order_by("-sequence")
        .values_list("sequence", "digest")
        .first()
    )
    sequence, previous_digest = (previous[0] + 1, previous[1]) if previous else (1, history.GENESIS)
    decided_at = now or timezone.now()
    positions = list(current_positions(proposal).order_by("member_id"))
    online = rules.Tally.from_kinds(position.kind for position in positions)
    hall = hall_count_for(proposal)
    tally = online + (hall.recorded or rules.Tally())
    present = present_for_quorum(proposal)
    if outcome is None:
        outcome = rules.decide(proposal.decision_rule, tally, present=present)
    record = _record(proposal, sequence, outcome, tally, positions, actor, decided_at)
    # Only a decision with a hall count or a quorum of those present has these: older
    # records keep their exact shape, and the digest covers what is here.
    if hall.recorded is not None:
        record["online_counts"] = online.as_dict()
        record["hall"] = {
            "counts": hall.recorded.as_dict(),
            "counters": sorted(entry.counter.display_name for entry in hall.entries),
            "blocks": list(hall.blocks),
        }
    if present is not None:
        record["quorum"] = {"of": QuorumOf.PRESENT.value, "present": present}
    decision = Decision.objects.create(
        proposal=proposal,
        assembly_id=proposal.assembly_id,
        sequence=sequence,
        outcome=outcome,
        agree_count=tally.agree,
        stand_aside_count=tally.stand_aside,
        block_count=tally.block,
        hall_counts=hall.recorded.as_dict() if hall.recorded else None,
        rule=proposal.rule,
        revision_number=proposal.revision_number,
        closed_by=actor,
        decided_at=decided_at,
        record=record,
        previous_digest=previous_digest,
        digest=history.compute_digest(previous_digest, record),
    )
    # Signed in the decision's transaction: no decision is ever without its head.
    transparency.sign_head(
        assembly_id=proposal.assembly_id, slug=proposal.assembly.slug, now=decided_at
    )
    withdrawn = outcome == Outcome.WITHDRAWN
    proposal.phase = Phase.WITHDRAWN if withdrawn else Phase.DECIDED
    proposal.save(update_fields=["phase", "updated_at"])
    proposal.temperature_checks.filter(closed_at__isnull=True).update(closed_at=decided_at)
    action = "proposals.proposal.withdrawn" if withdrawn else "proposals.call.closed"
    hall_data = {"hall": hall.recorded.as_dict()} if hall.recorded else {}
    log(proposal, actor, action, outcome=outcome, counts=tally.as_dict(), **hall_data)
    if proposal.governance and rules.Outcome(outcome).passed:
        apply_governance_decision(
            assembly=proposal.assembly,
            governance=proposal.governance,
            decision={"decision": sequence, "proposal": proposal.title},
        )
    publish(proposal, "decision", event=DECISION_RECORDED)
    return decision


def _record(proposal, sequence, outcome, tally, positions, closed_by, decided_at) -> dict:
    return history.decision_record(
        assembly=proposal.assembly.slug,
        sequence=sequence,
        proposal={
            "id": proposal.pk,
            "title": proposal.title,
            "revision": proposal.revision_number,
            "text": proposal.revisions.get(number=proposal.revision_number).text,
            # Only a proposal of roles has it: older records keep their exact shape.
            **({"governance": proposal.governance} if proposal.governance else {}),
        },
        outcome=outcome,
        rule=proposal.rule,
        counts=tally.as_dict(),
        positions=[
            {
                "member_id": position.member_id,
                "member": position.member.display_name,
                "kind": position.kind,
                "reason": position.reason,
                "revision": position.revision_number,
                "taken_at": position.created_at,
                # Only a position stated with a proxy has it: older records keep their shape.
                **(
                    {
                        "stated_by": {
                            "member_id": position.stated_by_id,
                            "member": position.stated_by.display_name,
                        }
                    }
                    if position.stated_by_id
                    else {}
                ),
            }
            for position in positions
        ],
        closed_by=(
            {"member_id": closed_by.pk, "member": closed_by.display_name} if closed_by else None
        ),
        decided_at=decided_at,
    )


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


# Hours before an online call closes when the members who have not taken a position yet are
# reminded; the longest first.
REMINDER_LEAD_HOURS = (24, 1)


def announce_closing_calls(*, now: datetime | None = None) -> list[CallReminder]:
    """Announce, once each, the online calls that close within a reminder's lead time.

    Run by the same ticker that closes due calls (proposals/scheduler.py), so no cron job.
    A lead is skipped when the call opened after its time (the call's own announcement was
    later) or when a shorter lead is already due (a server that was down reminds once).
    """
    now = now or timezone.now()
    announced = []
    for index, lead in enumerate(REMINDER_LEAD_HOURS):
        shorter = REMINDER_LEAD_HOURS[index + 1] if index + 1 < len(REMINDER_LEAD_HOURS) else 0
        done = CallReminder.objects.filter(
            proposal=OuterRef("pk"), lead_hours=lead, closes_at=OuterRef("closes_at")
        )
        due = Proposal.objects.filter(
            phase=Phase.CALL,
            closes_at__gt=now + timedelta(hours=shorter),
            closes_at__lte=now + timedelta(hours=lead),
        ).filter(~Exists(done))
        for proposal in due.select_related("assembly", "meeting"):
            if proposal.call_opened_at and proposal.call_opened_at > proposal.closes_at - timedelta(
                hours=lead
            ):
                continue
            reminder = _announce(proposal, lead)
            if reminder is not None:
                announced.append(reminder)
    return announced


def _announce(proposal: Proposal, lead: int) -> CallReminder | None:
    try:
        with transaction.atomic():
            reminder = CallReminder.objects.create(
                proposal=proposal, lead_hours=lead, closes_at=proposal.closes_at
            )
            log(proposal, None, "proposals.call.reminded", hours=lead)
            publish(proposal, "reminder", event=CALL_CLOSING_SOON, reference=f"{lead}h")
    except IntegrityError:
        return None  # another process announced it first
    return reminder
