"""The floor of a sitting: the speaking stack and hand signals.

Writes here follow the rules of every service (keyword-only, `actor=`, one transaction,
announced after commit); they live apart from `services.py`, which holds the life of
assemblies, memberships and sittings.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_facilitator, require_participant
from assemblies.models import (
    HandSignal,
    Meeting,
    MeetingState,
    Membership,
    Signal,
    StackEntry,
    StackKind,
    StackState,
)
from assemblies.names import name_key
from assemblies.services import clean_display_name
from core.errors import Conflict, DomainError, NotFound
from sittings.services import log, publish

# Called before the ordinary stack, in this order (GA practice).
PRIORITY_KINDS = [
    StackKind.POINT_OF_PROCESS,
    StackKind.CLARIFYING_QUESTION,
    StackKind.DIRECT_RESPONSE,
]


@dataclass(frozen=True)
class Waiting:
    """What ordering needs to know of a stack entry (pure data, for the pure ordering)."""

    entry_id: int
    speaker: int | str  # StackEntry.speaker_key: a member's id, or a hall speaker's name
    kind: str
    priority: int
    requested_at: datetime


def order_stack(
    entries: Iterable[Waiting], *, progressive: bool, spoken: set[int | str]
) -> list[Waiting]:
    """The order the stack keeper calls people in.

    Points of process, then clarifying questions, then direct responses jump the queue.
    Within a band: the keeper's priority first; on a progressive stack, people who have not
    spoken yet this sitting come before those who have; then first come, first served.
    """

    def key(entry: Waiting):
        band = PRIORITY_KINDS.index(entry.kind) if entry.kind in PRIORITY_KINDS else 3
        has_spoken = progressive and entry.speaker in spoken
        return (band, -entry.priority, has_spoken, entry.requested_at, entry.entry_id)

    return sorted(entries, key=key)


def _meeting_in_session(actor: Membership, meeting: Meeting | None) -> Meeting:
    if meeting is None or meeting.assembly_id != actor.assembly_id:
        raise NotFound("meeting_not_found", _("There is no such sitting."))
    if meeting.state != MeetingState.IN_SESSION:
        raise Conflict("meeting_not_in_session", _("The sitting is not in session."))
    return meeting


@transaction.atomic
def raise_hand(*, actor: Membership, meeting: Meeting | None, kind: str) -> StackEntry:
    """Ask to speak. Asking again for the same kind keeps the place already held."""
    require_participant(actor)
    meeting = _meeting_in_session(actor, meeting)
    if kind not in StackKind.values:
        raise DomainError("invalid_kind", _("Unknown kind of request to speak."))
    waiting = StackEntry.objects.filter(
        meeting=meeting, member=actor, kind=kind, state=StackState.WAITING
    ).first()
    if waiting is not None:
        return waiting
    try:
        with transaction.atomic():
            entry = StackEntry.objects.create(meeting=meeting, member=actor, kind=kind)
    except IntegrityError:
        # A double tap raced us: one waiting entry per kind is the rule, keep that one.
        return StackEntry.objects.get(
            meeting=meeting, member=actor, kind=kind, state=StackState.WAITING
        )
    publish(meeting, "stack")
    return entry


@transaction.atomic
def lower_hand(*, actor: Membership, meeting: Meeting | None, kind: str = "") -> int:
    """Withdraw one's own waiting requests (of one kind, or all). Returns how many."""
    require_participant(actor)
    meeting = _meeting_in_session(actor, meeting)
    if kind and kind not in StackKind.values:
        raise DomainError("invalid_kind", _("Unknown kind of request to speak."))
    waiting = StackEntry.objects.filter(meeting=meeting, member=actor, state=StackState.WAITING)
    if kind:
        waiting = waiting.filter(kind=kind)
    count = waiting.update(state=StackState.WITHDRAWN, done_at=timezone.now())
    if count:
        publish(meeting, "stack")
    return count


@transaction.atomic
def show_signal(*, actor: Membership, meeting: Meeting | None, signal: str) -> HandSignal:
    """Show a hand signal; it counts in the sitting's aggregate for HAND_SIGNAL_SECONDS."""
    require_participant(actor)
    meeting = _meeting_in_session(actor, meeting)
    if signal not in Signal.values:
        raise DomainError("invalid_signal", _("Unknown hand signal."))
    row, _created = HandSignal.objects.update_or_create(
        meeting=meeting, member=actor, defaults={"signal": signal, "shown_at": timezone.now()}
    )
    publish(meeting, "signals")
    return row


def signal_counts(meeting: Meeting, *, now: datetime | None = None) -> dict[str, int]:
    # How long a raised hand counts in the aggregate before it fades.
    since = (now or timezone.now()) - timedelta(seconds=settings.HAND_SIGNAL_SECONDS)
    counts = dict.fromkeys(Signal.values, 0)
    for signal in HandSignal.objects.filter(meeting=meeting, shown_at__gte=since).values_list(
        "signal", flat=True
    ):
        counts[signal] += 1
    return counts


# --- the stack keeper and the timekeeper (facilitators) ------------------------------------


def _keeper_meeting(actor: Membership, meeting: Meeting | None) -> Meeting:
    meeting = _meeting_in_session(actor, meeting)
    require_facilitator(actor)
    locked = Meeting.objects.select_for_update().select_related("assembly").get(pk=meeting.pk)
    # Check again under the lock: the sitting may have been adjourned since it was read.
    return _meeting_in_session(actor, locked)


def _finish_speaker(meeting: Meeting, now) -> StackEntry | None:
    speaker = StackEntry.objects.filter(meeting=meeting, state=StackState.SPEAKING).first()
    if speaker is not None:
        speaker.state = StackState.DONE
        speaker.done_at = now
        speaker.save(update_fields=["state", "done_at"])
    return speaker


def waiting_in_order(meeting: Meeting) -> list[StackEntry]:
    """The waiting requests to speak, in the order the stack keeper calls them."""
    waiting = list(
        StackEntry.objects.filter(meeting=meeting, state=StackState.WAITING).select_related(
            "member"
        )
    )
    spoken = {
        entry.speaker_key
        for entry in StackEntry.objects.filter(meeting=meeting, state=StackState.DONE).only(
            "member_id", "hall_name"
        )
    }
    ordered = order_stack(
        [Waiting(e.pk, e.speaker_key, e.kind, e.priority, e.requested_at) for e in waiting],
        progressive=meeting.progressive_stack,
        spoken=spoken,
    )
    by_id = {entry.pk: entry for entry in waiting}
    return [by_id[item.entry_id] for item in ordered]


def next_in_line(meeting: Meeting) -> StackEntry | None:
    return next(iter(waiting_in_order(meeting)), None)


@transaction.atomic
def call_next(*, actor: Membership, meeting: Meeting | None) -> StackEntry | None:
    """The current speaker is done; the next in line speaks and the timer restarts."""
    meeting = _keeper_meeting(actor, meeting)
    now = timezone.now()
    _finish_speaker(meeting, now)
    entry = next_in_line(meeting)
    if entry is not None:
        entry.state = StackState.SPEAKING
        entry.called_at = now
        entry.save(update_fields=["state", "called_at"])
    meeting.timer_started_at = now if entry is not None else None
    meeting.save(update_fields=["timer_started_at"])
    log(
        meeting,
        actor,
        "assemblies.stack.called",
        **(_who(entry) if entry else {"member": None}),
        kind=entry.kind if entry else None,
    )
    publish(meeting, "stack")
    return entry


def _who(entry: StackEntry) -> dict:
    """Who an entry is, for its log line: the name, and whether they are in the hall (the
    sentence is made when shown, so "(in the hall)" follows the reader's language)."""
    if entry.from_hall:
        return {"member": entry.hall_name, "from_hall": True}
    return {"member": entry.member.display_name}


def _keeper_entry(actor: Membership, entry: StackEntry) -> tuple[Meeting, StackEntry]:
    meeting = _keeper_meeting(actor, entry.meeting)
    # Only the entry is locked: a hall entry has no member row to lock (an outer join).
    entry = (
        StackEntry.objects.select_for_update(of=("self",)).select_related("member").get(pk=entry.pk)
    )
    if entry.state not in (StackState.WAITING, StackState.SPEAKING):
        raise Conflict("entry_done", _("This request to speak is no longer on the stack."))
    return meeting, entry


@transaction.atomic
def take_off_stack(*, actor: Membership, entry: StackEntry, skip: bool) -> StackEntry:
    """Skip (the person is not there) or remove (out of order) a request to speak."""
    meeting, entry = _keeper_entry(actor, entry)
    entry.state = StackState.SKIPPED if skip else StackState.REMOVED
    entry.done_at = timezone.now()
    entry.save(update_fields=["state", "done_at"])
    action = "assemblies.stack.skipped" if skip else "assemblies.stack.removed"
    log(meeting, actor, action, **_who(entry), kind=entry.kind)
    publish(meeting, "stack")
    return entry


@transaction.atomic
def raise_priority(*, actor: Membership, entry: StackEntry, by: int = 1) -> StackEntry:
    """The stack keeper moves someone up ("step up"), within their band of the stack."""
    meeting, entry = _keeper_entry(actor, entry)
    entry.priority = max(-10, min(10, entry.priority + by))
    entry.save(update_fields=["priority"])
    log(
        meeting,
        actor,
        "assemblies.stack.priority",
        **_who(entry),
        priority=entry.priority,
    )
    publish(meeting, "stack")
    return entry


@transaction.atomic
def set_progressive_stack(*, actor: Membership, meeting: Meeting | None, on: bool) -> Meeting:
    meeting = _keeper_meeting(actor, meeting)
    meeting.progressive_stack = on
    meeting.save(update_fields=["progressive_stack"])
    log(meeting, actor, "assemblies.stack.progressive", on=on)
    publish(meeting, "stack")
    return meeting


@transaction.atomic
def set_timer(
    *, actor: Membership, meeting: Meeting | None, running: bool, seconds: int | None = None
) -> Meeting:
    """Start (from full time) or stop the speaker timer; optionally change its length."""
    meeting = _keeper_meeting(actor, meeting)
    if seconds is not None:
        if not 10 <= seconds <= 3600:
            raise DomainError("invalid_seconds", _("Speaking time is between 10 s and 1 hour."))
        meeting.timer_seconds = seconds
    meeting.timer_started_at = timezone.now() if running else None
    meeting.save(update_fields=["timer_seconds", "timer_started_at"])
    log(
        meeting,
        actor,
        "assemblies.timer.started" if running else "assemblies.timer.stopped",
        seconds=meeting.timer_seconds,
    )
    publish(meeting, "timer")
    return meeting


@transaction.atomic
def add_speaker_from_the_floor(
    *, actor: Membership, meeting: Meeting | None, display_name: str, kind: str = "speak"
) -> StackEntry:
    """The stack keeper puts someone in the hall without a phone on the same stack.

    They are not made a member: they take no position and are not counted, and the stack,
    the log and the minutes show them as "Ana (in the hall)", never to be mistaken for a
    member named Ana. Their name passes the checks of every name (visible, no role). Adding
    the same name for the same kind again keeps the place already held (a double click).
    """
    meeting = _keeper_meeting(actor, meeting)
    if kind not in StackKind.values:
        raise DomainError("invalid_kind", _("Unknown kind of request to speak."))
    name = clean_display_name(display_name)
    waiting = _waiting_in_the_hall(meeting, name, kind)
    if waiting is not None:
        return waiting
    entry = StackEntry.objects.create(meeting=meeting, hall_name=name, kind=kind)
    log(meeting, actor, "assemblies.stack.added_from_floor", member=name, kind=kind)
    publish(meeting, "stack")
    return entry


def _waiting_in_the_hall(meeting: Meeting, name: str, kind: str) -> StackEntry | None:
    """A waiting hall entry of this name and kind. The caller holds the meeting's lock."""
    key = name_key(name)
    entries = StackEntry.objects.filter(
        meeting=meeting, member__isnull=True, kind=kind, state=StackState.WAITING
    )
    return next((e for e in entries if name_key(e.hall_name) == key), None)
