"""The one way a write announces a change: after its transaction commits.

Services call `publish_on_commit(...)`; nothing else emits live events. Receivers of
`state_changed` (the live layer, the notifications) decide how to coalesce and deliver; a
write never broadcasts by itself, and a rolled-back write announces nothing.

A change may also name the *event* a person outside the room would want to hear of
(`Change.event`, one of `EVENTS`): the notifications app above every other listens for
these, so the lower apps tell it what happened without knowing it exists.
"""

from dataclasses import dataclass

from django.db import transaction
from django.dispatch import Signal

# Sent with `change=Change(...)` once the writing transaction has committed.
state_changed = Signal()

# The kind of change after which open sockets must be checked again: who may see or act in
# the assembly changed (a member removed or gone, a token revoked, an account deactivated or
# logged out, the assembly made private).
ACCESS = "access"

# Events worth telling members who are not looking (docs/notifications.md). `reference`
# tells two occurrences of one event apart: the reminder's lead time, the sitting's new time.
PROPOSAL_SUBMITTED = "proposals.proposal.submitted"
AGENDA_ADDED = "sittings.agenda.added"
CALL_OPENED = "proposals.call.opened"
CALL_CLOSING_SOON = "proposals.call.closing_soon"
DECISION_RECORDED = "proposals.decision.recorded"
MEETING_SCHEDULED = "sittings.meeting.scheduled"
MEETING_MOVED = "sittings.meeting.moved"
# A member's proxy was used: she alone hears of it (`reference` names the position).
PROXY_USED = "proposals.proxy.used"
EVENTS = (
    PROPOSAL_SUBMITTED,
    AGENDA_ADDED,
    CALL_OPENED,
    CALL_CLOSING_SOON,
    DECISION_RECORDED,
    MEETING_SCHEDULED,
    MEETING_MOVED,
    PROXY_USED,
)


@dataclass(frozen=True)
class Change:
    assembly_id: int
    proposal_id: int | None = None
    meeting_id: int | None = None
    kind: str = ""
    # Members whose own state changed (their position): their other tabs and devices are
    # told, so "Your position" is the same everywhere.
    member_ids: tuple[int, ...] = ()
    # What happened, for listeners outside the room (one of EVENTS, or empty).
    event: str = ""
    reference: str = ""


def publish_on_commit(
    *,
    assembly_id: int,
    proposal_id: int | None = None,
    meeting_id: int | None = None,
    kind: str = "",
    member_ids: tuple[int, ...] = (),
    event: str = "",
    reference: str = "",
) -> None:
    if event and event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    change = Change(assembly_id, proposal_id, meeting_id, kind, tuple(member_ids), event, reference)
    transaction.on_commit(lambda: state_changed.send(sender=Change, change=change))
