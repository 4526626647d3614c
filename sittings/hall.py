"""The whole assembly, not only the phones: presence at a sitting and the hall's count.

A member present marks herself present (the check-in button, or the projector's QR code
pointing at the check-in page) or a counter counts her at the door. A facilitator chooses
the sitting's two counters; during the call for consensus each enters the agree / stand
aside / block she saw in the hall, with the blocks' reasons as spoken. The hall's figures
count (`proposals.selectors.hall_counts_for`) only while the two counts agree; a facilitator
may call a recount, which clears both. Every step writes a public log line; the rules are in
docs/hybrid.md.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assemblies.access import require_facilitator, require_participant
from assemblies.models import Meeting, Membership, Presence, PresenceVia
from assemblies.selectors import presence_of
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.text import deceives, has_control, has_visible
from proposals.models import HallCount, Phase, Proposal
from proposals.selectors import hall_count_for
from proposals.services._common import call_lock, lock_for_position
from sittings.services import log, publish
from sittings.stand_in import in_session_locked, member_locked

COUNTERS = 2
MAX_REASON = 2000
MAX_NAME = 80


# --- the counters ------------------------------------------------------------------------------


@transaction.atomic
def choose_counters(
    *, actor: Membership, meeting: Meeting | None, members: list[Membership]
) -> list[Membership]:
    """A facilitator chooses the two members who count the hall for this sitting."""
    require_facilitator(actor)
    meeting = in_session_locked(actor, meeting)
    if len({member.pk for member in members}) != COUNTERS:
        raise DomainError("two_counters", _("Choose two different members to count the hall."))
    chosen = []
    for member in members:
        member = member_locked(meeting, member)
        require_participant(member)
        chosen.append(member)
    meeting.hall_counters.set(chosen)
    # A replaced counter's count no longer stands: only the two counters' counts can agree.
    HallCount.objects.filter(meeting=meeting, cleared_at__isnull=True).exclude(
        counter__in=chosen
    ).update(cleared_at=timezone.now())
    names = sorted(member.display_name for member in chosen)
    log(meeting, actor, "assemblies.hall.counters_chosen", members=names)
    publish(meeting, "hall")
    return chosen


def require_counter(actor: Membership | None, meeting: Meeting) -> Membership:
    actor = require_participant(actor)
    if not meeting.hall_counters.filter(pk=actor.pk).exists():
        raise PermissionDenied(
            "not_counter", _("Only the two members chosen to count the hall can do this.")
        )
    return actor


# --- presence ----------------------------------------------------------------------------------


@transaction.atomic
def check_in(*, actor: Membership, meeting: Meeting | None) -> Presence:
    """A member marks herself present at the sitting in session (once; again is a no-op)."""
    require_participant(actor)
    meeting = in_session_locked(actor, meeting)
    presence, created = Presence.objects.get_or_create(
        meeting=meeting, member=actor, defaults={"via": PresenceVia.CHECK_IN}
    )
    if created:
        log(meeting, actor, "assemblies.presence.checked_in")
        publish(meeting, "presence")
    return presence


@transaction.atomic
def count_at_door(*, actor: Membership, meeting: Meeting | None, member: Membership) -> Presence:
    """A counter counts a member present at the door (a member without a phone, say)."""
    meeting = in_session_locked(actor, meeting)
    require_counter(actor, meeting)
    member = member_locked(meeting, member)
    require_participant(member)
    presence, created = Presence.objects.get_or_create(
        meeting=meeting, member=member, defaults={"via": PresenceVia.DOOR, "counted_by": actor}
    )
    if not created:
        raise Conflict(
            "already_present",
            _("%(name)s is already counted present.") % {"name": member.display_name},
        )
    log(meeting, actor, "assemblies.presence.counted_at_door", member=member.display_name)
    publish(meeting, "presence")
    return presence


# --- the hall's count --------------------------------------------------------------------------


def _count(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DomainError("count_invalid", _("Counts are whole numbers, zero or more."))
    return value


def _clean_blocks(blocks, block: int, rule) -> list[dict]:
    """The blocks as spoken: one per block counted, each with its reason and a name or ""."""
    if not isinstance(blocks, list) or len(blocks) != block:
        raise DomainError(
            "blocks_mismatch",
            _("Give one reason, as spoken, for each block counted (%(n)s).") % {"n": block},
        )
    cleaned = []
    for item in blocks:
        item = item if isinstance(item, dict) else {}
        name = " ".join(str(item.get("name") or "").split())
        reason = str(item.get("reason") or "").strip()
        for text, limit, keep_line_breaks in ((name, MAX_NAME, False), (reason, MAX_REASON, True)):
            if text and (
                len(text) > limit
                or has_control(text, keep_line_breaks=keep_line_breaks)
                or deceives(text)
            ):
                raise DomainError(
                    "text_invalid",
                    _(
                        "Use visible characters, without control, invisible or "
                        "direction-changing ones, and at most 80 for a name, 2000 for a reason."
                    ),
                )
        if rule.reason_required_for_block and not has_visible(reason):
            raise DomainError(
                "reason_required", _("This assembly's rule asks every block for its reason.")
            )
        cleaned.append({"name": name, "reason": reason})
    return cleaned


def _open_call_in(meeting: Meeting, proposal: Proposal) -> Proposal:
    if proposal.assembly_id != meeting.assembly_id:
        raise NotFound("proposal_not_found", _("There is no such proposal."))
    call_lock(proposal.pk, exclusive=False)  # a close waits for this count, and vice versa
    proposal = lock_for_position(proposal.pk)
    if proposal.phase != Phase.CALL:
        raise Conflict("call_not_open", _("The call for consensus is not open (already closed?)."))
    if meeting.current_proposal_id != proposal.pk:
        raise Conflict(
            "not_on_the_floor", _("The hall counts the proposal on the floor of this sitting.")
        )
    return proposal


@transaction.atomic
def enter_hall_count(
    *,
    actor: Membership,
    meeting: Meeting | None,
    proposal: Proposal,
    agree: int,
    stand_aside: int,
    block: int,
    blocks: list,
) -> HallCount:
    """One counter's count of the hall. She may correct it until the two counts agree."""
    # The sitting's row lock serialises every hall write (two taps of one counter, a recount).
    meeting = in_session_locked(actor, meeting)
    require_counter(actor, meeting)
    proposal = _open_call_in(meeting, proposal)
    counts = {
        "agree": _count("agree", agree),
        "stand_aside": _count("stand_aside", stand_aside),
        "block": _count("block", block),
    }
    blocks = _clean_blocks(blocks, counts["block"], proposal.decision_rule)
    present = presence_of(meeting)["present"]
    if sum(counts.values()) > present:
        raise DomainError(
            "more_than_present",
            _(
                "The hall count (%(counted)s) is larger than the members present "
                "(%(present)s): count again, or count the people at the door first."
            )
            % {"counted": sum(counts.values()), "present": present},
        )
    if hall_count_for(proposal).recorded is not None:
        raise Conflict(
            "hall_recorded",
            _("The two counts agree and are recorded; a facilitator may call a recount."),
        )
    entry, _created = HallCount.objects.update_or_create(
        proposal=proposal,
        counter=actor,
        cleared_at__isnull=True,
        defaults={"meeting": meeting, "blocks": blocks, **counts},
    )
    state = hall_count_for(proposal)
    log(meeting, actor, "assemblies.hall.counted", proposal=proposal.title, **counts)
    if state.recorded is not None:
        log(meeting, actor, "assemblies.hall.recorded", proposal=proposal.title, **counts)
    elif state.differs:
        first, second = (_figures(entry.tally) for entry in state.entries)
        log(
            meeting,
            actor,
            "assemblies.hall.differs",
            proposal=proposal.title,
            first=first,
            second=second,
        )
    publish(meeting, "hall")
    return entry


def _figures(tally) -> str:
    """Agree / stand aside / block as the log shows them: "38/2/0"."""
    return f"{tally.agree}/{tally.stand_aside}/{tally.block}"


@transaction.atomic
def call_recount(*, actor: Membership, meeting: Meeting | None, proposal: Proposal) -> int:
    """A facilitator clears both counts of the hall (recorded or not); the counters count again."""
    require_facilitator(actor)
    meeting = in_session_locked(actor, meeting)
    proposal = _open_call_in(meeting, proposal)
    cleared = HallCount.objects.filter(proposal=proposal, cleared_at__isnull=True).update(
        cleared_at=timezone.now()
    )
    if not cleared:
        raise Conflict("nothing_to_recount", _("The hall has not been counted on this call."))
    log(meeting, actor, "assemblies.hall.recount", proposal=proposal.title)
    publish(meeting, "hall")
    return cleared
