"""Every write to a sitting: scheduling, starting and adjourning it, its agenda and floor.

The speaking stack, hand signals and the timer are in `floor.py`.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_assembly_facilitator, require_facilitator
from assemblies.models import (
    AgendaItem,
    Assembly,
    ConsentState,
    Meeting,
    MeetingState,
    Membership,
)
from assemblies.services import append_to_agenda, record_action, require_in_assembly
from core.errors import Conflict, DomainError, NotFound
from core.events import AGENDA_ADDED, MEETING_MOVED, MEETING_SCHEDULED, publish_on_commit
from core.text import deceives, has_control, has_visible

MAX_TITLE = 200
# A sitting is scheduled in a human lifetime; outside it a date is a typo (or an attack that
# overflows time zone arithmetic for every later reader).
SANE_YEARS = (2000, 2100)


def log(meeting: Meeting, actor: Membership | None, action: str, **data) -> None:
    """One line of the public facilitation log about this sitting."""
    record_action(assembly=meeting.assembly, actor=actor, meeting=meeting, action=action, **data)


def publish(meeting: Meeting, kind: str) -> None:
    """The one place this app announces a change of a sitting (after commit)."""
    publish_on_commit(assembly_id=meeting.assembly_id, meeting_id=meeting.pk, kind=kind)


def _require_meeting_of(actor: Membership | None, meeting: Meeting) -> None:
    if actor is not None and actor.assembly_id != meeting.assembly_id:
        raise NotFound("meeting_not_found", _("There is no such sitting."))


@transaction.atomic
def schedule_meeting(
    *,
    actor: Membership,
    assembly: Assembly,
    title: str,
    scheduled_for: datetime | None = None,
    location: str = "",
) -> Meeting:
    require_in_assembly(actor, assembly.pk)
    require_assembly_facilitator(actor)
    title = " ".join((title or "").split())
    if not has_visible(title):
        raise DomainError("title_required", _("A sitting needs a title."))
    if has_control(title, keep_line_breaks=False) or deceives(title):
        raise DomainError(
            "title_invalid",
            _("Use visible characters, without control, invisible or direction-changing ones."),
        )
    if len(title) > MAX_TITLE or len(location or "") > MAX_TITLE:
        raise DomainError("title_too_long", _("At most 200 characters."))
    _check_when(scheduled_for)
    meeting = Meeting.objects.create(
        assembly=assembly, title=title, scheduled_for=scheduled_for, location=location
    )
    record_action(
        assembly=assembly,
        actor=actor,
        meeting=meeting,
        action="assemblies.meeting.scheduled",
        title=title,
    )
    publish_on_commit(
        assembly_id=assembly.pk, meeting_id=meeting.pk, kind="meeting", event=MEETING_SCHEDULED
    )
    return meeting


def _check_when(scheduled_for: datetime | None) -> None:
    if scheduled_for is not None and not SANE_YEARS[0] <= scheduled_for.year <= SANE_YEARS[1]:
        raise DomainError(
            "scheduled_for_invalid", _("Choose a date between the years 2000 and 2100.")
        )


@transaction.atomic
def reschedule_meeting(
    *,
    actor: Membership,
    meeting: Meeting,
    scheduled_for: datetime,
    location: str | None = None,
) -> Meeting:
    """Move a sitting that has not started to another time (and place)."""
    _require_meeting_of(actor, meeting)
    require_assembly_facilitator(actor)
    if scheduled_for is None:
        raise DomainError("scheduled_for_required", _("Choose the sitting's new date and time."))
    _check_when(scheduled_for)
    if location is not None and len(location) > MAX_TITLE:
        raise DomainError("title_too_long", _("At most 200 characters."))
    meeting = _lock_meeting(meeting)
    if meeting.state != MeetingState.SCHEDULED:
        raise Conflict("meeting_not_scheduled", _("Only a sitting not yet started can be moved."))
    if meeting.scheduled_for == scheduled_for and location in (None, meeting.location):
        return meeting
    meeting.scheduled_for = scheduled_for
    fields = ["scheduled_for"]
    if location is not None:
        meeting.location = location
        fields.append("location")
    meeting.save(update_fields=fields)
    log(
        meeting,
        actor,
        "assemblies.meeting.moved",
        title=meeting.title,
        when=scheduled_for.isoformat(),
    )
    publish_on_commit(
        assembly_id=meeting.assembly_id,
        meeting_id=meeting.pk,
        kind="meeting",
        event=MEETING_MOVED,
        reference=scheduled_for.isoformat(),
    )
    return meeting


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("assembly").get(pk=meeting.pk)


@transaction.atomic
def start_meeting(*, actor: Membership, meeting: Meeting) -> Meeting:
    _require_meeting_of(actor, meeting)
    require_facilitator(actor)
    meeting = _lock_meeting(meeting)
    if meeting.state != MeetingState.SCHEDULED:
        raise Conflict("meeting_not_scheduled", _("Only a scheduled sitting can be started."))
    if Meeting.objects.filter(assembly=meeting.assembly, state=MeetingState.IN_SESSION).exists():
        raise Conflict("meeting_in_session", _("Another sitting is in session: adjourn it first."))
    meeting.state = MeetingState.IN_SESSION
    meeting.started_at = meeting.facilitator_seen_at = timezone.now()
    meeting.save(update_fields=["state", "started_at", "facilitator_seen_at"])
    log(meeting, actor, "assemblies.meeting.started")
    publish(meeting, "meeting")
    return meeting


@transaction.atomic
def adjourn_meeting(*, actor: Membership, meeting: Meeting) -> Meeting:
    _require_meeting_of(actor, meeting)
    require_facilitator(actor)
    meeting = _lock_meeting(meeting)
    if meeting.state != MeetingState.IN_SESSION:
        raise Conflict("meeting_not_in_session", _("Only a sitting in session can be adjourned."))
    meeting.state = MeetingState.ADJOURNED
    meeting.ended_at = timezone.now()
    meeting.timer_started_at = None
    meeting.save(update_fields=["state", "ended_at", "timer_started_at"])
    # Who facilitated this sitting without the role, or stepped aside at it, is done.
    Membership.objects.filter(facilitates_sitting=meeting).update(facilitates_sitting=None)
    Membership.objects.filter(stepped_aside_from=meeting).update(stepped_aside_from=None)
    meeting.consents.filter(state=ConsentState.OPEN).update(
        state=ConsentState.LAPSED, settled_at=meeting.ended_at
    )
    log(meeting, actor, "assemblies.meeting.adjourned")
    publish(meeting, "meeting")
    return meeting


@transaction.atomic
def add_to_agenda(*, actor: Membership, meeting: Meeting, proposal) -> AgendaItem:
    _require_meeting_of(actor, meeting)
    require_facilitator(actor)
    meeting = _lock_meeting(meeting)
    if proposal.assembly_id != meeting.assembly_id:
        raise NotFound("proposal_not_found", _("There is no such proposal."))
    if meeting.state == MeetingState.ADJOURNED:
        raise Conflict("meeting_adjourned", _("This sitting is over."))
    if proposal.is_final:
        raise Conflict("proposal_final", _("This proposal is already decided or withdrawn."))
    item = AgendaItem.objects.filter(meeting=meeting, proposal=proposal).first()
    if item is not None:
        return item
    item = append_to_agenda(meeting, proposal)
    if proposal.meeting_id != meeting.pk:
        proposal.meeting = meeting
        proposal.save(update_fields=["meeting"])
    log(meeting, actor, "assemblies.agenda.added", proposal=proposal.title, proposal_id=proposal.pk)
    publish_on_commit(
        assembly_id=meeting.assembly_id,
        meeting_id=meeting.pk,
        proposal_id=proposal.pk,
        kind="agenda",
        event=AGENDA_ADDED,
    )
    return item


@transaction.atomic
def set_current_proposal(*, actor: Membership, meeting: Meeting, proposal) -> Meeting:
    _require_meeting_of(actor, meeting)
    require_facilitator(actor)
    meeting = _lock_meeting(meeting)
    if meeting.state != MeetingState.IN_SESSION:
        raise Conflict("meeting_not_in_session", _("Start the sitting first."))
    if proposal is not None and not meeting.agenda_items.filter(proposal=proposal).exists():
        raise Conflict("not_on_agenda", _("Put the proposal on this sitting's agenda first."))
    meeting.current_proposal = proposal
    meeting.save(update_fields=["current_proposal"])
    log(
        meeting,
        actor,
        "assemblies.meeting.current_proposal",
        proposal=proposal.title if proposal else None,
        proposal_id=proposal.pk if proposal else None,
    )
    publish(meeting, "meeting")
    return meeting


@transaction.atomic
def move_agenda_item(*, actor: Membership, item: AgendaItem, offset: int) -> AgendaItem:
    """Move a proposal up (offset -1) or down (+1) the sitting's agenda."""
    meeting = _lock_meeting(item.meeting)
    _require_meeting_of(actor, meeting)
    require_facilitator(actor)
    items = list(meeting.agenda_items.order_by("position"))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = min(max(index + offset, 0), len(items) - 1)
    if target == index:
        return item
    items.insert(target, items.pop(index))
    # Positions are unique (deferred on PostgreSQL): renumber the whole agenda at once.
    for number, other in enumerate(items, start=1):
        other.position = number
    AgendaItem.objects.bulk_update(items, ["position"])
    log(
        meeting,
        actor,
        "assemblies.agenda.moved",
        proposal=item.proposal.title,
        proposal_id=item.proposal_id,
        position=target + 1,
    )
    publish(meeting, "agenda")
    return item


@transaction.atomic
def remove_from_agenda(*, actor: Membership, item: AgendaItem) -> None:
    meeting = _lock_meeting(item.meeting)
    _require_meeting_of(actor, meeting)
    require_facilitator(actor)
    if meeting.current_proposal_id == item.proposal_id:
        raise Conflict("proposal_is_current", _("Move on to another proposal first."))
    proposal = item.proposal
    item.delete()
    log(
        meeting,
        actor,
        "assemblies.agenda.removed",
        proposal=proposal.title,
        proposal_id=proposal.pk,
    )
    publish(meeting, "agenda")
