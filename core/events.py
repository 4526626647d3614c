"""The one way a write announces a change: after its transaction commits.

Services call `publish_on_commit(...)`; nothing else emits live events. Receivers of
`state_changed` (the live layer) decide how to coalesce and deliver; a write never
broadcasts by itself, and a rolled-back write announces nothing.
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


@dataclass(frozen=True)
class Change:
    assembly_id: int
    proposal_id: int | None = None
    meeting_id: int | None = None
    kind: str = ""
    # Members whose own state changed (their position): their other tabs and devices are
    # told, so "Your position" is the same everywhere.
    member_ids: tuple[int, ...] = ()


def publish_on_commit(
    *,
    assembly_id: int,
    proposal_id: int | None = None,
    meeting_id: int | None = None,
    kind: str = "",
    member_ids: tuple[int, ...] = (),
) -> None:
    change = Change(assembly_id, proposal_id, meeting_id, kind, tuple(member_ids))
    transaction.on_commit(lambda: state_changed.send(sender=Change, change=change))
