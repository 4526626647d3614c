"""What every service of this app shares: the lock protocol, checks, the log line, publishing.

Concurrency (PostgreSQL): a position takes a shared advisory lock on its proposal's call,
reads the proposal FOR KEY SHARE and locks its member row FOR NO KEY UPDATE; closing takes
the exclusive advisory lock, then the proposal FOR UPDATE. Positions of different members run
side by side and positions of one member queue. A close waits for the positions already in
flight (they are in the decision); PostgreSQL queues lock requests fairly, so positions that
arrive after a waiting close wait behind it and are then refused: none is lost silently, and
a stream of late positions cannot hold a close off.
"""

from django.db import connection
from django.utils.translation import gettext as _

from assemblies.models import Membership
from assemblies.services import record_action
from core.errors import Conflict, DomainError, NotFound
from core.events import publish_on_commit
from core.text import deceives, has_control, has_visible
from proposals.models import Phase, Proposal

MAX_TITLE = 200
MAX_TEXT = 50_000
MAX_REASON = 5_000

# Advisory lock namespace of "the call for consensus of proposal N".
CALL_LOCK_CLASS = 7001


def publish(
    proposal: Proposal,
    kind: str,
    member_ids: tuple[int, ...] = (),
    *,
    event: str = "",
    reference: str = "",
) -> None:
    """The one place this app announces a change (after commit, see core.events)."""
    publish_on_commit(
        assembly_id=proposal.assembly_id,
        proposal_id=proposal.pk,
        meeting_id=proposal.meeting_id,
        kind=kind,
        member_ids=member_ids,
        event=event,
        reference=reference,
    )


def log(proposal: Proposal, actor: Membership | None, action: str, **data) -> None:
    """One line of the public facilitation log about this proposal."""
    record_action(
        assembly=proposal.assembly,
        actor=actor,
        meeting=proposal.meeting,
        action=action,
        proposal=proposal.title,
        proposal_id=proposal.pk,
        **data,
    )


def not_found() -> NotFound:
    return NotFound("proposal_not_found", _("There is no such proposal."))


def require_same_assembly(actor: Membership | None, proposal: Proposal) -> None:
    if actor is None or actor.assembly_id != proposal.assembly_id:
        raise not_found()


def require_open(proposal: Proposal) -> None:
    if proposal.phase in (Phase.DECIDED, Phase.WITHDRAWN):
        raise Conflict("proposal_closed", _("This proposal is already decided or withdrawn."))
    if proposal.phase == Phase.TABLED:
        raise Conflict("proposal_tabled", _("This proposal is tabled."))


def clean_text(value: str, *, code: str, message: str, limit: int, title: bool = False) -> str:
    """A text as it is stored: stripped, with something visible in it, no control characters
    (line breaks stay in texts); a `title` names the proposal, so it may not disguise itself."""
    value = (value or "").strip()
    base = code.removesuffix("_required")
    if has_control(value, keep_line_breaks=not title):
        raise DomainError(
            f"{base}_invalid", _("This text contains control characters or broken text.")
        )
    if not has_visible(value):
        raise DomainError(code, message)
    if title and deceives(value):
        raise DomainError(
            f"{base}_invalid",
            _("Use visible characters, without invisible or direction-changing ones."),
        )
    if len(value) > limit:
        raise DomainError(
            f"{base}_too_long",
            _("This text is too long (at most %(limit)d characters).") % {"limit": limit},
        )
    return value


def clean_reason(reason: str) -> str:
    """A position's reason as it is stored: stripped, bounded, with no control characters;
    only invisible characters mean no reason was given."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise DomainError("reason_too_long", _("A reason has at most 5000 characters."))
    if has_control(reason, keep_line_breaks=True):
        raise DomainError(
            "reason_invalid", _("A reason cannot contain control characters or broken text.")
        )
    return reason if has_visible(reason) else ""


def lock_proposal(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().select_related("assembly").get(pk=proposal.pk)


def call_lock(proposal_id: int, *, exclusive: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite serialises every write transaction anyway.
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [CALL_LOCK_CLASS, proposal_id])


def lock_for_position(proposal_id: int) -> Proposal:
    """Read the proposal under a lock that a close (FOR UPDATE) waits for, and vice versa.

    FOR KEY SHARE lets positions of many members proceed together; after a close commits,
    the locking read sees the closed phase, so a late position is refused, never dropped.
    """
    if connection.vendor == "postgresql":
        found = list(
            Proposal.objects.raw(
                "SELECT * FROM proposals_proposal WHERE id = %s FOR KEY SHARE", [proposal_id]
            )
        )
    else:
        found = list(Proposal.objects.filter(pk=proposal_id))
    if not found:
        raise not_found()
    return found[0]
