"""Reads: tallies and current positions, each in a constant number of queries."""

from django.db.models import Count

from proposals.models import Position, PositionKind, Proposal
from proposals.rules import Tally


def tally_for(proposal: Proposal) -> Tally:
    counts = dict(
        Position.objects.filter(proposal=proposal, is_current=True)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return Tally(
        agree=counts.get(PositionKind.AGREE, 0),
        stand_aside=counts.get(PositionKind.STAND_ASIDE, 0),
        block=counts.get(PositionKind.BLOCK, 0),
    )


def current_positions(proposal: Proposal):
    return (
        Position.objects.filter(proposal=proposal, is_current=True)
        .select_related("member")
        .order_by("created_at", "id")
    )


def dissent(proposal: Proposal) -> dict[str, list[Position]]:
    """Blocks and stand-asides with names and reasons, the part the assembly must hear."""
    rows = current_positions(proposal).exclude(kind=PositionKind.AGREE)
    result: dict[str, list[Position]] = {"block": [], "stand_aside": []}
    for position in rows:
        result[position.kind].append(position)
    return result


def current_position_of(proposal: Proposal, member) -> Position | None:
    if member is None:
        return None
    return Position.objects.filter(proposal=proposal, member=member, is_current=True).first()


def discussion(proposal: Proposal) -> dict[str, list]:
    """Questions (with their answers), concerns and amendments, for the proposal page."""
    from proposals.models import Comment, CommentKind

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
    from proposals.models import Decision

    if not proposal.is_final:
        return None
    return Decision.objects.filter(proposal=proposal).select_related("closed_by").first()


def temperature_of(proposal: Proposal, member) -> dict | None:
    """The open temperature check's live reading, and the member's own, if one is open."""
    from proposals.models import Reading, TemperatureReading

    check = proposal.temperature_checks.filter(closed_at__isnull=True).first()
    if check is None:
        return None
    counts = dict.fromkeys(Reading.values, 0)
    mine = None
    for member_id, reading in TemperatureReading.objects.filter(check_run=check).values_list(
        "member_id", "reading"
    ):
        counts[reading] += 1
        if member is not None and member_id == member.pk:
            mine = reading
    return {"check": check, "counts": counts, "mine": mine, "total": sum(counts.values())}


def proposals_for_listing(assembly, *, phase: str | None = None):
    """An assembly's proposals with their live tally and decision, in a fixed number of queries."""
    from django.db.models import Q

    current = Q(positions__is_current=True)
    proposals = (
        Proposal.objects.filter(assembly=assembly)
        .select_related("assembly", "author", "decision")
        .annotate(
            agree_count=Count("positions", filter=current & Q(positions__kind="agree")),
            stand_aside_count=Count("positions", filter=current & Q(positions__kind="stand_aside")),
            block_count=Count("positions", filter=current & Q(positions__kind="block")),
        )
        .order_by("-created_at", "-pk")
    )
    if phase:
        proposals = proposals.filter(phase=phase)
    return proposals


def revisions_of(proposal: Proposal):
    return proposal.revisions.select_related("author").order_by("number")


def comments_of(proposal: Proposal):
    from proposals.models import Comment

    return (
        Comment.objects.filter(proposal=proposal)
        .select_related("member")
        .order_by("created_at", "pk")
    )


def decisions_for_listing(assembly, *, since=None, until=None, outcome: str | None = None):
    from proposals.models import Decision

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
    from proposals.models import Comment

    if comment_id is None:
        return None
    return Comment.objects.filter(proposal=proposal, pk=comment_id).first()
