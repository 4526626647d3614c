"""Reads for notifications: who hears of an event, each one's choice and language."""

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from assemblies.models import Meeting, MeetingState, Membership, MembershipStatus, Role
from core import events
from notifications.models import Delivery, Level, Preference, Recipient, Webhook
from proposals.models import Phase, Position, Proposal

# What a member who chose "only calls and decisions" still hears of.
CALL_EVENTS = frozenset(
    {events.CALL_OPENED, events.CALL_CLOSING_SOON, events.DECISION_RECORDED, events.PROXY_USED}
)
# Told to one member alone (never to the assembly's chat webhooks): her proxy was used.
PERSONAL_EVENTS = frozenset({events.PROXY_USED})
# Sent at once even to members who chose the daily digest: a reminder a day late is no use.
URGENT_EVENTS = frozenset({events.CALL_CLOSING_SOON})


def level_of(member: Membership) -> str:
    preference = Preference.objects.filter(membership=member).first()
    return preference.level if preference else Level.ALL


def preference_for(member: Membership) -> Preference:
    """The member's preference row (made with the defaults the first time it is asked)."""
    preference, _created = Preference.objects.get_or_create(membership=member)
    return preference


def language_of(user, default: str | None = None) -> str:
    """The language a person chose for their emails (else `default`, else the site's)."""
    recipient = Recipient.objects.filter(user=user).first()
    if recipient is not None:
        return recipient.language
    return default if default in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def recipients_for(
    *, event: str, assembly_id: int, proposal: Proposal | None, only: set[int] | None = None
) -> list[tuple[Membership, str]]:
    """(member, level) of everyone who should hear of this event, with an email address.

    A closing reminder goes only to members who may take a position and have none yet;
    `only` limits it to these members (a personal event: the giver of a proxy used).
    """
    members = (
        Membership.objects.filter(assembly_id=assembly_id, status=MembershipStatus.ACTIVE)
        .exclude(user__email="")
        .filter(user__is_active=True)
        .select_related("user", "notification_preference")
    )
    if only is not None:
        members = members.filter(pk__in=only)
    if event == events.CALL_CLOSING_SOON:
        positioned = Position.objects.filter(
            proposal=proposal, member=OuterRef("pk"), is_current=True
        )
        members = members.exclude(role=Role.OBSERVER).filter(~Exists(positioned))
    chosen = []
    for member in members:
        preference = getattr(member, "notification_preference", None)
        level = preference.level if preference else Level.ALL
        if level == Level.NONE or (level == Level.CALLS and event not in CALL_EVENTS):
            continue
        chosen.append((member, level))
    return chosen


def calendar_member(slug: str, key: str) -> Membership | None:
    """The active member whose secret calendar key this is, in this assembly."""
    if not key:
        return None
    preference = (
        Preference.objects.filter(
            calendar_key=key,
            membership__assembly__slug=slug,
            membership__status=MembershipStatus.ACTIVE,
        )
        .select_related("membership__assembly")
        .first()
    )
    return preference.membership if preference else None


def calendar_sittings(assembly) -> QuerySet[Meeting]:
    return (
        Meeting.objects.filter(assembly=assembly, scheduled_for__isnull=False)
        .exclude(state=MeetingState.ADJOURNED, ended_at__isnull=True)
        .order_by("scheduled_for", "pk")
    )


def calendar_closings(assembly) -> QuerySet[Proposal]:
    """Online calls with a closing time: open ones, and decided ones (where they closed)."""
    return Proposal.objects.filter(
        assembly=assembly, closes_at__isnull=False, phase__in=[Phase.CALL, Phase.DECIDED]
    ).order_by("closes_at", "pk")


def webhooks_of(assembly) -> QuerySet[Webhook]:
    return Webhook.objects.filter(assembly=assembly)


def recent_deliveries(assembly, limit: int = 30) -> QuerySet[Delivery]:
    return Delivery.objects.filter(webhook__assembly=assembly).select_related("webhook")[:limit]
