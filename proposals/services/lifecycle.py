"""A proposal's way to the call: submitting, revising, the discussion phases, the call, tabling."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_facilitator, require_participant
from assemblies.models import Meeting, MeetingState, Membership
from assemblies.services import append_to_agenda
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.events import CALL_OPENED, PROPOSAL_SUBMITTED
from proposals.models import (
    DISCUSSION_PHASES,
    Phase,
    Position,
    Proposal,
    Revision,
)
from proposals.services._common import (
    MAX_TEXT,
    MAX_TITLE,
    clean_text,
    lock_proposal,
    log,
    publish,
    require_open,
    require_same_assembly,
)


@transaction.atomic
def submit_proposal(
    *,
    actor: Membership,
    title: str,
    text: str,
    meeting=None,
    closes_at: datetime | None = None,
    governance: dict | None = None,
) -> Proposal:
    """Write a proposal down. On a sitting's agenda it waits to be presented; online
    (with a closing time and no sitting) it opens for positions at once and closes itself.

    `governance` (checked by `proposals.services.roles`) makes it a proposal of roles."""
    require_participant(actor)
    title = clean_text(
        title,
        code="title_required",
        message=_("A proposal needs a title."),
        limit=MAX_TITLE,
        title=True,
    )
    text = clean_text(
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
        assembly_id=actor.assembly_id,
        meeting=meeting,
        author=actor,
        title=title,
        governance=governance,
    )
    Revision.objects.create(proposal=proposal, number=1, text=text, author=actor)
    if meeting is not None:
        append_to_agenda(meeting, proposal)
    if closes_at is not None:
        _open_call(proposal, closes_at=closes_at)
    # An online proposal is a call at once: that is the news, not the submission.
    publish(proposal, "proposal", event=CALL_OPENED if closes_at else PROPOSAL_SUBMITTED)
    return proposal


@transaction.atomic
def revise_proposal(
    *, actor: Membership, proposal: Proposal, text: str, summary: str = ""
) -> Revision:
    """The author rewrites the text; positions taken on the old text become stale."""
    require_same_assembly(actor, proposal)
    require_participant(actor)
    proposal = lock_proposal(proposal)
    if proposal.author_id != actor.pk:
        raise PermissionDenied("not_author", _("Only the author can change the text."))
    require_open(proposal)
    text = clean_text(
        text, code="text_required", message=_("A proposal needs a text."), limit=MAX_TEXT
    )
    return new_revision(proposal, text=text, summary=summary, author=actor)


def new_revision(
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
    publish(proposal, "revision")
    return revision


@transaction.atomic
def set_phase(*, actor: Membership, proposal: Proposal, phase: str) -> Proposal:
    """Move a proposal between the discussion phases (the call has its own service)."""
    require_same_assembly(actor, proposal)
    require_facilitator(actor)
    if phase not in DISCUSSION_PHASES:
        raise DomainError(
            "invalid_phase",
            _(
                "Choose presented, questions, concerns or amendments; the call for consensus, "
                "tabling and withdrawing have their own actions."
            ),
        )
    proposal = lock_proposal(proposal)
    if proposal.phase not in (Phase.DRAFT, Phase.TABLED, *DISCUSSION_PHASES):
        raise Conflict(
            "phase_locked", _("The call for consensus is open or the proposal is decided.")
        )
    previous = proposal.phase
    proposal.phase = phase
    proposal.save(update_fields=["phase", "updated_at"])
    log(proposal, actor, "proposals.phase.changed", old=previous, new=phase)
    publish(proposal, "phase")
    return proposal


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
    require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = lock_proposal(proposal)
    if proposal.phase not in (Phase.DRAFT, *DISCUSSION_PHASES):
        raise Conflict("call_not_possible", _("The call for consensus is already open or over."))
    if closes_at is not None and closes_at <= timezone.now():
        raise DomainError("closes_at_past", _("The closing time must be in the future."))
    proposal.temperature_checks.filter(closed_at__isnull=True).update(closed_at=timezone.now())
    _open_call(proposal, closes_at=closes_at)
    log(proposal, actor, "proposals.call.opened", rule=proposal.rule)
    publish(proposal, "phase", event=CALL_OPENED)
    return proposal


@transaction.atomic
def table_proposal(*, actor: Membership, proposal: Proposal) -> Proposal:
    """Set aside for a later sitting; positions taken so far are kept but no longer current."""
    require_same_assembly(actor, proposal)
    require_facilitator(actor)
    proposal = lock_proposal(proposal)
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
    log(proposal, actor, "proposals.proposal.tabled")
    publish(proposal, "phase")
    return proposal
