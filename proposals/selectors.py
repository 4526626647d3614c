"""Reads: tallies and current positions, each in a constant number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q

from assemblies.models import (
    Assembly,
    Meeting,
    MeetingState,
    MembershipStatus,
    QuorumOf,
    Visibility,
)
from assemblies.rules import Tally
from assemblies.selectors import presence_of
from proposals.models import (
    FINAL_PHASES,
    OPEN_PHASES,
    Comment,
    CommentKind,
    Decision,
    HallCount,
    Mandate,
    Phase,
    Position,
    PositionKind,
    Proposal,
    Proxy,
    Reading,
    TemperatureReading,
    TreeHead,
    proxy_label,
)


@dataclass(frozen=True)
class HallState:
    """The hall's count on one proposal: the counters' current entries and what they give.

    `recorded` is the hall's tally once the two counters' entries agree, else None;
    `differs` tells that two entries disagree (both are shown, nothing is recorded).
    """

    entries: tuple = ()
    recorded: Tally | None = None
    blocks: tuple = ()

    @property
    def differs(self) -> bool:
        return len(self.entries) == 2 and self.recorded is None

    @property
    def state(self) -> str:
        if self.recorded is not None:
            return "recorded"
        if self.differs:
            return "differs"
        return "waiting" if self.entries else "none"

    @property
    def difference(self) -> dict[str, int] | None:
        if not self.differs:
            return None
        first, second = (entry.tally for entry in self.entries)
        return {kind: getattr(second, kind) - getattr(first, kind) for kind in first.as_dict()}

    def as_dict(self) -> dict:
        """The live snapshot's and the API's form of it (counters by name)."""
        return {
            "state": self.state,
            "counts": self.recorded.as_dict() if self.recorded else None,
            "entries": [
                {"counter": entry.counter.display_name, "counts": entry.tally.as_dict()}
                for entry in self.entries
            ],
            "difference": self.difference,
            "blocks": list(self.blocks),
        }


NO_HALL = HallState()


def hall_counts_for(ids: Iterable[int]) -> dict[int, HallState]:
    """Each proposal's hall count, in one query: the one reader of it (docs/hybrid.md)."""
    ids = list(ids)
    entries: dict[int, list[HallCount]] = {pk: [] for pk in ids}
    rows = (
        HallCount.objects.filter(proposal_id__in=ids, cleared_at__isnull=True)
        .select_related("counter")
        .order_by("created_at", "id")
    )
    for row in rows:
        entries[row.proposal_id].append(row)
    return {pk: _hall_state(found) for pk, found in entries.items()}


def _hall_state(entries: list) -> HallState:
    if not entries:
        return NO_HALL
    agreed = len(entries) == 2 and entries[0].tally == entries[1].tally
    return HallState(
        entries=tuple(entries),
        recorded=entries[0].tally if agreed else None,
        blocks=tuple(entries[0].blocks) if agreed else (),
    )


def hall_count_for(proposal: Proposal) -> HallState:
    return hall_counts_for([proposal.pk])[proposal.pk]


def tallies_for(ids: Iterable[int]) -> dict[int, Tally]:
    """The tally of each proposal: its current positions plus the hall's recorded count, the
    sum the rule applies to, in two queries: the one reader of it (pages, the live snapshot,
    the console's preview; a decision counts the positions it records with
    `Tally.from_kinds` and adds the same hall count)."""
    ids = list(ids)
    online = online_tallies_for(ids)
    hall = hall_counts_for(ids)
    return {pk: online[pk] + (hall[pk].recorded or Tally()) for pk in ids}


def online_tallies_for(ids: Iterable[int]) -> dict[int, Tally]:
    """The tally of each proposal's current positions (online only), in one query."""
    ids = list(ids)
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    rows = (
        Position.objects.filter(proposal_id__in=ids, is_current=True)
        .values_list("proposal_id", "kind")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "kind", "n")
    )
    for proposal_id, kind, n in rows:
        counts[proposal_id][kind] = n
    return {pk: Tally(**by_kind) for pk, by_kind in counts.items()}


def present_for_quorum(proposal: Proposal) -> int | None:
    """The members present at the sitting in session, when the assembly measures quorum by
    them; None (quorum of positions) otherwise, and for a call with no sitting in session."""
    if proposal.assembly.quorum_of != QuorumOf.PRESENT:
        return None
    meeting = Meeting.objects.filter(
        assembly_id=proposal.assembly_id, state=MeetingState.IN_SESSION
    ).first()
    return presence_of(meeting)["present"] if meeting else None


def tally_for(proposal: Proposal) -> Tally:
    return tallies_for([proposal.pk])[proposal.pk]


def current_positions(proposal: Proposal):
    return (
        Position.objects.filter(proposal=proposal, is_current=True)
        .select_related("member", "stated_by")
        .order_by("created_at", "id")
    )


def dissent_for(ids: Iterable[int]) -> dict[int, dict[str, list[Position]]]:
    """Blocks and stand-asides with names, reasons and the revision each was taken on (so a
    stale mark looks the same everywhere), per proposal, in one query."""
    ids = list(ids)
    result: dict[int, dict[str, list[Position]]] = {
        pk: {"block": [], "stand_aside": []} for pk in ids
    }
    rows = (
        Position.objects.filter(
            proposal_id__in=ids,
            is_current=True,
            kind__in=[PositionKind.BLOCK, PositionKind.STAND_ASIDE],
        )
        .select_related("member", "stated_by")
        .order_by("created_at", "id")
    )
    for position in rows:
        result[position.proposal_id][position.kind].append(position)
    return result


def dissent(proposal: Proposal) -> dict[str, list[Position]]:
    """The part the assembly must hear, for one proposal."""
    return dissent_for([proposal.pk])[proposal.pk]


def current_position_of(proposal: Proposal, member) -> Position | None:
    if member is None:
        return None
    return (
        Position.objects.filter(proposal=proposal, member=member, is_current=True)
        .select_related("stated_by")
        .first()
    )


def recorded_name(position: dict) -> str:
    """Who a position of a decision's record is: "Ana", or "Ben for Ana" (her proxy)."""
    stated_by = position.get("stated_by")
    if isinstance(stated_by, dict):
        return proxy_label(stated_by.get("member", ""), position.get("member", ""))
    return position.get("member", "")


def discussion(proposal: Proposal) -> dict[str, list]:
    """Questions (with their answers), concerns and amendments, for the proposal page."""
    comments = list(
        Comment.objects.filter(proposal=proposal).select_related("member").order_by("created_at")
    )
    answers: dict[int, list] = {}
    for comment in comments:
        if comment.kind == CommentKind.ANSWER:
            answers.setdefault(comment.parent_id, []).append(comment)
    grouped: dict[str, list] = {"question": [], "concern": [], "amendment": []}
    for comment in comments:
        if comment.kind != CommentKind.ANSWER:
            comment.answers = answers.get(comment.pk, [])
            grouped[comment.kind].append(comment)
    return grouped


def decision_of(proposal: Proposal):
    if not proposal.is_final:
        return None
    return Decision.objects.filter(proposal=proposal).select_related("closed_by").first()


def readings_for(check_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Up / so-so / down counts of each temperature check, in one query: the one reader."""
    counts = {pk: dict.fromkeys(Reading.values, 0) for pk in check_ids}
    rows = (
        TemperatureReading.objects.filter(check_run_id__in=list(counts))
        .values_list("check_run_id", "reading")
        .annotate(n=Count("id"))
        .values_list("check_run_id", "reading", "n")
    )
    for check_id, reading, n in rows:
        counts[check_id][reading] = n
    return counts


def temperature_of(proposal: Proposal, member) -> dict | None:
    """The open temperature check's live reading, and the member's own, if one is open."""
    check = proposal.temperature_checks.filter(closed_at__isnull=True).first()
    if check is None:
        return None
    counts = readings_for([check.pk])[check.pk]
    mine = None
    if member is not None:
        mine = (
            TemperatureReading.objects.filter(check_run=check, member=member)
            .values_list("reading", flat=True)
            .first()
        )
    return {"check": check, "counts": counts, "mine": mine, "total": sum(counts.values())}


def proposals_for_listing(assembly, *, phase: str | None = None):
    """An assembly's proposals with their decision; their tallies come from `tallies_for`."""
    proposals = (
        Proposal.objects.filter(assembly=assembly)
        .select_related("assembly", "author", "decision")
        .order_by("-created_at", "-pk")
    )
    if phase:
        proposals = proposals.filter(phase=phase)
    return proposals


def revisions_of(proposal: Proposal):
    return proposal.revisions.select_related("author").order_by("number")


def comments_of(proposal: Proposal):
    return (
        Comment.objects.filter(proposal=proposal)
        .select_related("member")
        .order_by("created_at", "pk")
    )


def decisions_for_listing(assembly, *, since=None, until=None, outcome: str | None = None):
    decisions = (
        Decision.objects.filter(assembly=assembly)
        .select_related("assembly", "proposal", "closed_by")
        .defer("record")  # the full record is served by the detail and the exports
    )
    if since is not None:
        decisions = decisions.filter(decided_at__gte=since)
    if until is not None:
        decisions = decisions.filter(decided_at__lt=until)
    if outcome:
        decisions = decisions.filter(outcome=outcome)
    return decisions


def comment_of(proposal: Proposal, comment_id: int | None):
    """A comment on this proposal by id, or None (the services refuse what does not fit)."""
    if comment_id is None:
        return None
    return Comment.objects.filter(proposal=proposal, pk=comment_id).first()


def public_assemblies():
    return (
        Assembly.objects.filter(visibility=Visibility.PUBLIC)
        .annotate(
            member_count=Count(
                "memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE), distinct=True
            ),
            open_count=Count(
                "proposals", filter=Q(proposals__phase__in=OPEN_PHASES), distinct=True
            ),
        )
        .order_by("name")
    )


def open_proposals(assembly: Assembly):
    return (
        Proposal.objects.filter(assembly=assembly, phase__in=[*OPEN_PHASES, Phase.TABLED])
        .select_related("author")
        .order_by("-updated_at")
    )


def recent_decisions(assembly: Assembly, limit: int = 50):
    return (
        Decision.objects.filter(assembly=assembly)
        .select_related("proposal")
        .order_by("-sequence")[:limit]
    )


def decision_count(assembly) -> int:
    return Decision.objects.filter(assembly=assembly).count()


def tree_head_of(decision: Decision | None):
    """The head signed with this decision (its tree ends with it), for its page."""
    if decision is None:
        return None
    return tree_head_of_size(decision.assembly_id, decision.sequence)


def tree_head_of_size(assembly_id: int, tree_size: int):
    return TreeHead.objects.filter(assembly_id=assembly_id, tree_size=tree_size).first()


def latest_tree_head(assembly):
    return TreeHead.objects.filter(assembly=assembly).order_by("-tree_size").first()


def took_position_in(decision: Decision | None, member) -> bool:
    """Whether the member's position is in the decision's record (so they have a receipt)."""
    if decision is None or member is None:
        return False
    positions = (decision.record or {}).get("positions", [])
    return any(position.get("member_id") == member.pk for position in positions)


def hall_figures(proposal: Proposal | None) -> dict:
    """What the `includes/hall_figures.html` block shows: presence at the sitting in session,
    the hall's count and the online tally of this proposal (its sum is `tally_for`)."""
    if proposal is None:
        return {"hall": NO_HALL, "online": Tally(), "presence": None}
    meeting = Meeting.objects.filter(
        assembly_id=proposal.assembly_id, state=MeetingState.IN_SESSION
    ).first()
    return {
        "hall": hall_count_for(proposal),
        "online": online_tallies_for([proposal.pk])[proposal.pk],
        "presence": presence_of(meeting) if meeting else None,
    }


# --- proxies -------------------------------------------------------------------------------------


def proxies_of(assembly, *, active_only: bool = True):
    """The assembly's proxies (public, like the log that records them), oldest first."""
    proxies = Proxy.objects.filter(assembly=assembly).select_related(
        "giver", "holder", "meeting", "proposal"
    )
    if active_only:
        proxies = proxies.filter(revoked_at__isnull=True)
    return proxies.order_by("created_at", "pk")


def proxies_of_member(member) -> dict[str, list]:
    """The proxies a member gave and those she carries, active ones, for her pages."""
    if member is None:
        return {"given": [], "held": []}
    active = proxies_of(member.assembly)
    mine = {"given": list(active.filter(giver=member)), "held": list(active.filter(holder=member))}
    for proxy in mine["given"] + mine["held"]:
        proxy.revocable = not proxy_call_opened(proxy)  # the page offers only what it can do
    return mine


def proxy_call_opened(proxy: Proxy) -> bool:
    """Whether a call the proxy covers has opened (or its sitting ended): it then stands."""
    if proxy.proposal_id:
        phase = Proposal.objects.filter(pk=proxy.proposal_id).values_list("phase", flat=True)
        return phase.first() in (Phase.CALL, *FINAL_PHASES)
    if proxy.meeting.state == MeetingState.ADJOURNED:
        return True
    return Proposal.objects.filter(meeting_id=proxy.meeting_id, phase=Phase.CALL).exists()


@dataclass
class CarriedProxy:
    """A proxy the member carries on this proposal, and what stands for its giver now."""

    proxy: Proxy
    position: Position | None

    @property
    def kinds(self) -> list[tuple[str, str]]:
        """The positions the mandate (and the assembly) let the holder state for the giver."""
        proxy = self.proxy
        if proxy.mandate != Mandate.JUDGEMENT:
            allowed = [proxy.mandate]
        else:
            allowed = [PositionKind.AGREE, PositionKind.STAND_ASIDE]
            if proxy.may_block and proxy.assembly.proxy_may_block:
                allowed.append(PositionKind.BLOCK)
        return [(kind, PositionKind(kind).label) for kind in allowed]

    @property
    def giver_spoke(self) -> bool:
        """The giver stated her own position: the proxy no longer applies."""
        return self.position is not None and self.position.stated_by_id is None


def proxies_carried_on(proposal: Proposal, holder) -> list[CarriedProxy]:
    """The active proxies `holder` carries that cover `proposal`, with each giver's position."""
    if holder is None:
        return []
    proxies = list(
        Proxy.objects.filter(Proxy.covering(proposal), holder=holder, revoked_at__isnull=True)
        .select_related("giver", "assembly")
        .order_by("giver__display_name", "pk")
    )
    positions = {
        p.member_id: p
        for p in Position.objects.filter(
            proposal=proposal, is_current=True, member__in=[x.giver_id for x in proxies]
        ).select_related("stated_by")
    }
    seen, carried = set(), []
    for proxy in proxies:
        if proxy.giver_id not in seen:  # a giver listed once, whatever covers the proposal
            seen.add(proxy.giver_id)
            carried.append(CarriedProxy(proxy, positions.get(proxy.giver_id)))
    return carried


def proxy_given_on(proposal: Proposal, member) -> Proxy | None:
    """The active proxy `member` gave that covers `proposal` (for her proposal page)."""
    if member is None:
        return None
    return (
        Proxy.objects.filter(Proxy.covering(proposal), giver=member, revoked_at__isnull=True)
        .select_related("holder")
        .first()
    )
