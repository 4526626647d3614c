"""The live state of an assembly as one snapshot, and its wiring to the broadcaster.

A snapshot is small and complete: the sitting in session (stack, timer, hand signals) and
every live proposal (phase, revision, tally, blocks and stand-asides with reasons, the
temperature reading). It is built in a fixed number of queries whatever the audience,
encoded once, and sent as it is to every socket.
"""

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.dispatch import receiver
from django.utils import timezone, translation

from assemblies import rules
from assemblies.models import (
    Assembly,
    LogEntry,
    Meeting,
    MeetingState,
    Membership,
    MembershipStatus,
    StackEntry,
    StackState,
)
from assemblies.selectors import presence_of
from core import broadcast
from core.db import kept_connection_to_async
from core.events import ACCESS, Change, state_changed
from proposals.models import (
    OPEN_PHASES,
    Comment,
    CommentKind,
    CommentStatus,
    Decision,
    Phase,
    Proposal,
    TemperatureCheck,
    TreeHead,
)
from proposals.selectors import (
    dissent_for,
    hall_counts_for,
    online_tallies_for,
    present_for_quorum,
    readings_for,
    tallies_for,
)
from sittings import stand_in
from sittings.floor import PRIORITY_KINDS, signal_counts, waiting_in_order

logger = logging.getLogger(__name__)

# A decided proposal stays in the snapshot this long, so everyone sees the final tally.
RECENTLY_DECIDED = timedelta(minutes=30)
FADE_EVERY = 1.0


@receiver(state_changed)
def _mark_dirty(sender, change: Change, **kwargs) -> None:
    try:
        broadcast.dirty.mark(
            change.assembly_id, access=change.kind == ACCESS, members=change.member_ids
        )
    except Exception:
        # The write has committed; a live-layer fault must never turn it into an error.
        logger.exception("Could not mark assembly %s dirty", change.assembly_id)


def build_snapshot(assembly_id: int, seq: int) -> dict:
    meeting = (
        Meeting.objects.filter(assembly_id=assembly_id, state=MeetingState.IN_SESSION)
        .select_related("current_proposal")
        .first()
    )
    return {
        "type": "snapshot",
        "seq": seq,
        "assembly": assembly_id,
        # "behind": this process cannot hear the others (Redis away); what it shows may
        # lack changes made through other processes until Redis answers again.
        "status": "behind" if broadcast.live_behind() else "live",
        # A `beat` frame comes this often (seconds): hearing nothing for a few of them, a
        # client takes its connection for lost and reconnects.
        "heartbeat": settings.LIVE_HEARTBEAT_SECONDS,
        "meeting": meeting_state(meeting) if meeting else None,
        "proposals": proposal_states(assembly_id, meeting),
        "log_head": LogEntry.objects.filter(assembly_id=assembly_id).aggregate(m=Max("id"))["m"],
        "people": _people_stamp(assembly_id),
        # Changes when the join code rotates; reveals nothing of it (see Assembly).
        "join_code_stamp": _join_code_stamp(assembly_id),
        # The newest signed tree head: a browser that has not checked it yet asks for the
        # proof that the history extends the one it kept (static/js/monitor.js).
        "tree_head": _tree_head_stamp(assembly_id),
    }


def _tree_head_stamp(assembly_id: int) -> dict | None:
    head = (
        TreeHead.objects.filter(assembly_id=assembly_id)
        .order_by("-tree_size")
        .values("tree_size", "root_hash")
        .first()
    )
    return head


def _people_stamp(assembly_id: int) -> str:
    """Changes when someone joins, asks to join, is admitted, leaves or is removed."""
    counts = Membership.objects.filter(assembly_id=assembly_id).aggregate(
        last=Max("id"),
        active=Count("id", filter=Q(status=MembershipStatus.ACTIVE)),
        pending=Count("id", filter=Q(status=MembershipStatus.PENDING)),
    )
    return f"{counts['last']}.{counts['active']}.{counts['pending']}"


def _join_code_stamp(assembly_id: int) -> str | None:
    assembly = Assembly.objects.filter(pk=assembly_id).only("join_code").first()
    return assembly.join_code_stamp() if assembly else None


def sitting_for(assembly_id: int) -> dict | None:
    """The live state of the sitting in session, for the first render of a page."""
    meeting = Meeting.objects.filter(assembly_id=assembly_id, state=MeetingState.IN_SESSION).first()
    return meeting_state(meeting) if meeting else None


def meeting_state(meeting: Meeting) -> dict:
    speaker = (
        StackEntry.objects.filter(meeting=meeting, state=StackState.SPEAKING)
        .select_related("member")
        .first()
    )
    return {
        "id": meeting.pk,
        "title": meeting.title,
        "state": meeting.state,
        "current_proposal": meeting.current_proposal_id,
        "progressive_stack": meeting.progressive_stack,
        "speaker": _stack_item(speaker) if speaker else None,
        "stack": [_stack_item(entry) for entry in waiting_in_order(meeting)],
        "timer": _timer(meeting),
        "signals": signal_counts(meeting),
        "facilitation": facilitation_state(meeting),
        "presence": presence_of(meeting),
        "counters": [m.display_name for m in meeting.hall_counters.order_by("display_name", "pk")],
    }


def facilitation_state(meeting: Meeting) -> dict:
    return facilitation_json(stand_in.facilitation_of(meeting))


def facilitation_json(state: dict) -> dict:
    """`stand_in.facilitation_of`, as the snapshot carries it (names, the question as JSON)."""
    consent = state["consent"]
    return {
        "facilitators": [m.display_name for m in state["facilitators"]],
        "away": state["away"],
        "consent": (
            {
                "id": consent.pk,
                "kind": consent.kind,
                "candidate": consent.candidate.display_name,
                "candidate_id": consent.candidate_id,
                "raised_by": consent.raised_by.display_name,
                "raised_by_id": consent.raised_by_id,
                "closes_at": consent.closes_at.isoformat(),
            }
            if consent
            else None
        ),
    }


def _stack_item(entry: StackEntry) -> dict:
    # One snapshot goes to every socket, so a hall speaker's "(in the hall)" is written in
    # the site's language, also on a page's first render (the same text as the updates).
    with translation.override(settings.LANGUAGE_CODE):
        name = entry.speaker_name
    return {
        "id": entry.pk,
        "member": name,
        "member_id": entry.member_id,
        "from_hall": entry.from_hall,
        "kind": entry.kind,
        "state": entry.state,
        "priority": entry.priority,
        "jumps_queue": entry.kind in PRIORITY_KINDS,
    }


def _timer(meeting: Meeting) -> dict | None:
    if meeting.timer_started_at is None:
        return {"seconds": meeting.timer_seconds, "started_at": None, "remaining": None}
    elapsed = (timezone.now() - meeting.timer_started_at).total_seconds()
    return {
        "seconds": meeting.timer_seconds,
        "started_at": meeting.timer_started_at.isoformat(),
        "remaining": max(0, round(meeting.timer_seconds - elapsed)),
    }


def proposal_states(assembly_id: int, meeting: Meeting | None) -> list[dict]:
    live = list(_live_proposals(assembly_id, meeting))
    ids = [p.pk for p in live]
    tallies = tallies_for(ids)
    online = online_tallies_for(ids)
    halls = hall_counts_for(ids)
    dissent = dissent_for(ids)
    temperatures = _temperatures(ids)
    discussion = _discussion_stamps(ids)
    outcomes = dict(
        Decision.objects.filter(proposal_id__in=ids).values_list("proposal_id", "outcome")
    )
    return [
        {
            "id": p.pk,
            "title": p.title,
            "phase": p.phase,
            "revision": p.revision_number,
            "tally": tallies[p.pk].as_dict(),
            "online": online[p.pk].as_dict(),
            "hall": halls[p.pk].as_dict(),
            "blocks": [_dissent_item(position) for position in dissent[p.pk]["block"]],
            "stand_asides": [_dissent_item(position) for position in dissent[p.pk]["stand_aside"]],
            "temperature": temperatures.get(p.pk),
            "discussion": discussion.get(p.pk, NO_DISCUSSION),
            "closes_at": p.closes_at.isoformat() if p.closes_at else None,
            "outcome": outcomes.get(p.pk),
            "provisional_outcome": _provisional(p, tallies[p.pk]),
        }
        for p in live
    ]


def _dissent_item(position) -> dict:
    return {
        "member": position.who,  # "Ben for Ana" when stated with her proxy
        "member_id": position.member_id,
        "reason": position.reason,
        "revision": position.revision_number,
    }


def _provisional(proposal: Proposal, tally: rules.Tally) -> str | None:
    """What the rule would decide if the call closed now: public, since the rule decides."""
    if proposal.phase != Phase.CALL or not proposal.rule:
        return None
    present = present_for_quorum(proposal)
    return str(rules.decide(proposal.decision_rule, tally, present=present))


def _live_proposals(assembly_id: int, meeting: Meeting | None):
    recent = timezone.now() - RECENTLY_DECIDED
    open_phases = [phase for phase in OPEN_PHASES if phase != Phase.DRAFT]
    live = Q(phase__in=open_phases) | Q(
        phase__in=[Phase.DECIDED, Phase.WITHDRAWN], updated_at__gte=recent
    )
    if meeting is not None and meeting.current_proposal_id:
        live |= Q(pk=meeting.current_proposal_id)
    return Proposal.objects.filter(live, assembly_id=assembly_id).order_by("pk")


NO_DISCUSSION = {"question": "0", "concern": "0", "amendment": "0"}


def _discussion_stamps(ids: list[int]) -> dict[int, dict[str, str]]:
    """Per proposal, a short stamp per list that changes whenever that list does: questions
    (and their answers), concerns, amendments (added, accepted or declined)."""
    rows = (
        Comment.objects.filter(proposal_id__in=ids)
        .values("proposal_id", "kind")
        .annotate(last=Max("id"), resolved=Count("id", filter=~Q(status=CommentStatus.OPEN)))
    )
    stamps: dict[int, dict[str, str]] = {}
    for row in rows:
        stamp = stamps.setdefault(row["proposal_id"], dict(NO_DISCUSSION))
        kind = CommentKind.QUESTION if row["kind"] == CommentKind.ANSWER else row["kind"]
        if kind == CommentKind.AMENDMENT:
            stamp[kind] = f"{row['last']}.{row['resolved']}"
        else:
            stamp[kind] = str(max(int(stamp[kind]), row["last"]))
    return stamps


def _temperatures(ids: list[int]) -> dict[int, dict[str, int]]:
    open_checks = dict(
        TemperatureCheck.objects.filter(proposal_id__in=ids, closed_at__isnull=True).values_list(
            "pk", "proposal_id"
        )
    )
    return {open_checks[pk]: counts for pk, counts in readings_for(open_checks).items()}


def encode(snapshot: dict) -> str:
    return json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)


# --- wiring to the broadcaster --------------------------------------------------------------

_fading: dict[int, float] = {}


def _build_and_encode(assembly_id: int, seq: int) -> str:
    snapshot = build_snapshot(assembly_id, seq)
    meeting = snapshot["meeting"]
    if meeting and any(meeting["signals"].values()):
        # Raised hands fade: publish again shortly even if nothing else changes.
        _fading[assembly_id] = time.monotonic() + FADE_EVERY
    elif meeting and meeting["timer"] and meeting["timer"]["remaining"]:
        _fading[assembly_id] = time.monotonic() + FADE_EVERY
    return encode(snapshot)


def _refresh_fading() -> None:
    now = time.monotonic()
    for assembly_id, due in list(_fading.items()):
        if due <= now:
            del _fading[assembly_id]
            broadcast.dirty.mark(assembly_id)


async def encode_snapshot(assembly_id: int, seq: int) -> str:
    return await kept_connection_to_async(_build_and_encode)(assembly_id, seq)


flusher = broadcast.Flusher(encode_snapshot, before_flush=_refresh_fading)
