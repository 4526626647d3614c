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

from assemblies.access import require_participant
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
from core.errors import Conflict, DomainError, NotFound
from core.events import publish_on_commit

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
    member_id: int
    kind: str
    priority: int
    requested_at: datetime


def order_stack(
    entries: Iterable[Waiting], *, progressive: bool, spoken: set[int]
) -> list[Waiting]:
    """The order the stack keeper calls people in.

    Points of process, then clarifying questions, then direct responses jump the queue.
    Within a band: the keeper's priority first; on a progressive stack, people who have not
    spoken yet this sitting come before those who have; then first come, first served.
    """

    def key(entry: Waiting):
        band = PRIORITY_KINDS.index(entry.kind) if entry.kind in PRIORITY_KINDS else 3
        has_spoken = progressive and entry.member_id in spoken
        return (band, -entry.priority, has_spoken, entry.requested_at, entry.entry_id)

    return sorted(entries, key=key)


def _meeting_in_session(actor: Membership, meeting: Meeting | None) -> Meeting:
    if meeting is None or meeting.assembly_id != actor.assembly_id:
        raise NotFound("meeting_not_found", _("There is no such sitting."))
    if meeting.state != MeetingState.IN_SESSION:
        raise Conflict("meeting_not_in_session", _("The sitting is not in session."))
    return meeting


def _publish(meeting: Meeting, kind: str) -> None:
    publish_on_commit(assembly_id=meeting.assembly_id, meeting_id=meeting.pk, kind=kind)


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
    _publish(meeting, "stack")
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
        _publish(meeting, "stack")
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
    _publish(meeting, "signals")
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
