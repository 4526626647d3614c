from django.utils.translation import gettext as _

from assemblies.access import can_view, get_assembly_for, membership_for
from assemblies.models import Assembly, Meeting, Membership
from core.errors import NotFound
from proposals.models import Comment, Decision, Proposal


def get_proposal_in(assembly: Assembly | int, proposal_id: int) -> Proposal:
    """This proposal of this assembly (or its id): the one lookup every edge uses, after it
    authorised the caller on the assembly. NotFound if it is missing or of another assembly."""
    assembly_id = assembly if isinstance(assembly, int) else assembly.pk
    proposal = (
        Proposal.objects.select_related("assembly", "author", "meeting")
        .filter(assembly_id=assembly_id, pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFound("proposal_not_found", _("There is no such proposal."))
    return proposal


def get_proxy_scope(assembly: Assembly, *, meeting_id=None, proposal_id=None) -> dict:
    """What a proxy is given for, named by id: {"meeting": …} or {"proposal": …} of this
    assembly (NotFound otherwise); both or neither are left to the service to refuse."""
    scope = {}
    if meeting_id is not None:
        scope["meeting"] = Meeting.objects.filter(assembly=assembly, pk=meeting_id).first()
        if scope["meeting"] is None:
            raise NotFound("meeting_not_found", _("There is no such sitting."))
    if proposal_id is not None:
        scope["proposal"] = get_proposal_in(assembly, proposal_id)
    return scope


def get_proposal_for(user, slug: str, proposal_id: int) -> tuple[Proposal, Membership | None]:
    """The proposal and the user's membership; NotFound if missing or not visible to them."""
    assembly, member = get_assembly_for(user, slug)
    return get_proposal_in(assembly, proposal_id), member


def _visible_or_not_found(user, assembly, code: str, message: str) -> Membership | None:
    member = membership_for(user, assembly)
    if not can_view(assembly, member):
        raise NotFound(code, message)
    return member


def get_proposal_by_id_for(user, proposal_id: int) -> tuple[Proposal, Membership | None]:
    """As `get_proposal_for`, by id alone (the API's /proposals/{id}/)."""
    proposal = (
        Proposal.objects.select_related("assembly", "author", "meeting")
        .filter(pk=proposal_id)
        .first()
    )
    message = _("There is no such proposal.")
    if proposal is None:
        raise NotFound("proposal_not_found", message)
    member = _visible_or_not_found(user, proposal.assembly, "proposal_not_found", message)
    return proposal, member


def get_decision_for(user, decision_id: int) -> tuple[Decision, Membership | None]:
    decision = (
        Decision.objects.select_related("assembly", "proposal", "closed_by")
        .filter(pk=decision_id)
        .first()
    )
    message = _("There is no such decision.")
    if decision is None:
        raise NotFound("decision_not_found", message)
    member = _visible_or_not_found(user, decision.assembly, "decision_not_found", message)
    return decision, member


def get_comment_for(user, comment_id: int) -> tuple[Comment, Membership | None]:
    comment = (
        Comment.objects.select_related("proposal__assembly", "member").filter(pk=comment_id).first()
    )
    message = _("There is no such comment.")
    if comment is None:
        raise NotFound("comment_not_found", message)
    assembly = comment.proposal.assembly
    member = _visible_or_not_found(user, assembly, "comment_not_found", message)
    return comment, member
