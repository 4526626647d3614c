"""Reads for the assembly pages, each a fixed number of queries whatever the size."""

from django.db.models import Count, Prefetch, Q

from assemblies.models import (
    AgendaItem,
    Assembly,
    Meeting,
    MeetingState,
    Membership,
    MembershipStatus,
    Presence,
    PresenceVia,
    Visibility,
)


def assemblies_of(user):
    if not user.is_authenticated:
        return Assembly.objects.none()
    return Assembly.objects.filter(
        memberships__user=user, memberships__status=MembershipStatus.ACTIVE
    ).order_by("name")


def current_meeting(assembly: Assembly) -> Meeting | None:
    """The sitting in session, else the next scheduled one."""
    agenda = Prefetch(
        "agenda_items",
        queryset=AgendaItem.objects.select_related("proposal").order_by("position"),
    )
    meetings = (
        Meeting.objects.filter(assembly=assembly)
        .select_related("current_proposal")
        .prefetch_related(agenda)
    )
    in_session = meetings.filter(state=MeetingState.IN_SESSION).first()
    if in_session:
        return in_session
    return meetings.filter(state=MeetingState.SCHEDULED).order_by("scheduled_for", "id").first()


def active_members(assembly: Assembly):
    return Membership.objects.filter(assembly=assembly, status=MembershipStatus.ACTIVE).order_by(
        "role", "display_name"
    )


def memberships_of(user):
    return (
        Membership.objects.filter(user=user)
        .exclude(status__in=[MembershipStatus.LEFT, MembershipStatus.REMOVED])
        .select_related("assembly")
        .order_by("assembly__name")
    )


def assemblies_for_listing(user):
    """Public assemblies and every assembly the user belongs to, with their own membership
    as `mine` (a list of at most one), in a fixed number of queries."""
    visible = Q(visibility=Visibility.PUBLIC)
    mine = Membership.objects.none()
    if user.is_authenticated:
        visible |= Q(
            memberships__user=user,
            memberships__status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING],
        )
        mine = Membership.objects.filter(user=user)
    ids = Assembly.objects.filter(visible).values("pk")
    return (
        Assembly.objects.filter(pk__in=ids)
        .prefetch_related(Prefetch("memberships", queryset=mine, to_attr="mine"))
        .order_by("name", "pk")
    )


def members_for_listing(assembly: Assembly, *, everyone: bool):
    """Active members; facilitators (`everyone`) also see pending, departed and removed ones."""
    members = Membership.objects.filter(assembly=assembly)
    if not everyone:
        members = members.filter(status=MembershipStatus.ACTIVE)
    return members.order_by("display_name", "pk")


def meetings_for_listing(assembly: Assembly):
    agenda = Prefetch(
        "agenda_items",
        queryset=AgendaItem.objects.select_related("proposal").order_by("position"),
    )
    return (
        Meeting.objects.filter(assembly=assembly)
        .select_related("assembly")
        .prefetch_related(agenda)
        .order_by("-scheduled_for", "-created_at", "-pk")
    )


def past_meetings(assembly: Assembly, limit: int = 20):
    return Meeting.objects.filter(assembly=assembly, state=MeetingState.ADJOURNED).order_by(
        "-ended_at"
    )[:limit]


def presence_of(meeting: Meeting | None) -> dict[str, int]:
    """How many members are present at a sitting and how they came, in one query: the one
    reader of it (projector, console, live snapshot, quorum, the hall count's limit)."""
    counts = {"present": 0, "checked_in": 0, "at_door": 0}
    if meeting is None:
        return counts
    rows = Presence.objects.filter(meeting=meeting).values_list("via").annotate(n=Count("id"))
    for via, n in rows:
        counts["checked_in" if via == PresenceVia.CHECK_IN else "at_door"] += n
    counts["present"] = counts["checked_in"] + counts["at_door"]
    return counts


def present_members(meeting: Meeting):
    return (
        Presence.objects.filter(meeting=meeting)
        .select_related("member", "counted_by")
        .order_by("member__display_name", "member_id")
    )
