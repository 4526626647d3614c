from django.utils.translation import gettext as _

from assemblies.access import get_assembly_for
from assemblies.models import Membership
from core.errors import NotFound
from proposals.models import Proposal


def get_proposal_for(user, slug: str, proposal_id: int) -> tuple[Proposal, Membership | None]:
    """The proposal and the user's membership; NotFound if missing or not visible to them."""
    assembly, member = get_assembly_for(user, slug)
    proposal = (
        Proposal.objects.select_related("assembly", "author", "meeting")
        .filter(assembly=assembly, pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFound("proposal_not_found", _("There is no such proposal."))
    return proposal, member
