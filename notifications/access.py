"""Fetch and authorise for this app's edges (outsiders get NotFound, revealing nothing)."""

from django.utils.translation import gettext as _

from assemblies.access import get_assembly_for, require_active_member, require_facilitator
from assemblies.models import Membership, MembershipStatus
from core.errors import NotFound
from notifications import tokens
from notifications.models import Webhook
from proposals.models import Proposal


def member_of(user, slug: str) -> Membership:
    """The person's active membership of this assembly (for their own settings)."""
    _assembly, member = get_assembly_for(user, slug)
    return require_active_member(member)


def facilitator_of(user, slug: str) -> Membership:
    _assembly, member = get_assembly_for(user, slug)
    return require_facilitator(member)


def webhook_of(member: Membership, webhook_id: int) -> Webhook:
    webhook = Webhook.objects.filter(pk=webhook_id, assembly_id=member.assembly_id).first()
    if webhook is None:
        raise NotFound("webhook_not_found", _("There is no such webhook."))
    return webhook


def unsubscribing_member(token: str) -> Membership:
    """The member an unsubscribe link was made for; a tampered token names nobody."""
    membership_id = tokens.membership_from_unsubscribe(token)
    member = (
        Membership.objects.select_related("assembly").filter(pk=membership_id).first()
        if membership_id
        else None
    )
    if member is None:
        raise NotFound("link_invalid", _("This link is not valid (was it cut short?)."))
    return member


def responding_member(token: str, slug: str, proposal_id: int) -> tuple[Membership, Proposal]:
    """The member and proposal a one-tap answer link was made for, if it is still valid."""
    claims = tokens.respond_claims(token)
    invalid = NotFound(
        "link_invalid", _("This link is not valid or has expired: open the proposal instead.")
    )
    if claims is None or claims[1] != proposal_id:
        raise invalid
    member = (
        Membership.objects.select_related("assembly", "user")
        .filter(pk=claims[0], status=MembershipStatus.ACTIVE, assembly__slug=slug)
        .first()
    )
    proposal = (
        Proposal.objects.select_related("assembly")
        .filter(pk=proposal_id, assembly__slug=slug)
        .first()
    )
    if member is None or proposal is None:
        raise invalid
    return member, proposal
