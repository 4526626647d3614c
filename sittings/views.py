"""The pages that bring the body, its proposals and its sittings together: home, assembly."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assemblies import selectors
from assemblies.access import get_assembly_for, get_member_for, require_active_member
from assemblies.forms import JoinByCodeForm
from assemblies.models import Consent, Membership
from assemblies.rule_text import describe_rule
from core import broadcast
from core.errors import DomainError, NotFound, PermissionDenied
from core.http import domain_errors_as_pages
from proposals import selectors as proposal_selectors
from sittings import stand_in


@require_GET
def home(request):
    return render(
        request,
        "sittings/home.html",
        {
            "assemblies": proposal_selectors.public_assemblies(),
            "my_assemblies": selectors.assemblies_of(request.user),
            "join_form": JoinByCodeForm(),
        },
    )


# The parts a live client may fetch alone (`?part=`), from the page's own template.
ASSEMBLY_PARTS = {"floor-notice", "sitting", "facilitation", "meeting", "proposals", "decisions"}


@require_GET
@domain_errors_as_pages
def assembly_detail(request, slug):
    assembly, member = get_assembly_for(request.user, slug)
    part = request.GET.get("part", "")
    return render(
        request,
        "sittings/assembly.html" + (f"#{part}" if part in ASSEMBLY_PARTS else ""),
        {
            "live_seq": broadcast.dirty.current_seq_sync(assembly.pk),  # before any state
            "assembly": assembly,
            "member": member,
            "meeting": selectors.current_meeting(assembly),
            "proposals": proposal_selectors.open_proposals(assembly),
            "decisions": proposal_selectors.recent_decisions(assembly),
            "members": selectors.active_members(assembly),
            "rule_description": describe_rule(assembly.rule),
            "past_meetings": selectors.past_meetings(assembly),
        },
    )


# --- facilitation of the sitting in session: stand-ins, stepping aside, co-facilitators -----

FACILITATION_ACTS = {
    "offer": lambda actor, meeting, post: stand_in.offer_to_stand_in(actor=actor, meeting=meeting),
    "object": lambda actor, meeting, post: stand_in.object_to(
        actor=actor, consent=_consent_of(meeting, post)
    ),
    "withdraw": lambda actor, meeting, post: stand_in.withdraw(
        actor=actor, consent=_consent_of(meeting, post)
    ),
    "step-aside": lambda actor, meeting, post: stand_in.ask_to_step_aside(
        actor=actor, meeting=meeting, facilitator=_member_of(actor, post)
    ),
    "name": lambda actor, meeting, post: stand_in.name_sitting_facilitator(
        actor=actor, meeting=meeting, member=_member_of(actor, post)
    ),
    "release": lambda actor, meeting, post: stand_in.release_sitting_facilitator(
        actor=actor, meeting=meeting, member=_member_of(actor, post)
    ),
}


def _posted_id(post, name: str) -> int:
    value = post.get(name, "")
    if not value.isdigit() or len(value) > 18:
        raise NotFound(f"{name}_not_found", _("There is no such item."))
    return int(value)


def _consent_of(meeting, post) -> Consent:
    consent = Consent.objects.filter(pk=_posted_id(post, "consent"), meeting=meeting).first()
    if consent is None:
        raise NotFound("consent_not_found", _("There is no such question."))
    return consent


def _member_of(actor: Membership, post) -> Membership:
    return get_member_for(actor.assembly, _posted_id(post, "member"))


def _back(request, slug: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("sittings:assembly", args=[slug])


@require_POST
@login_required
@domain_errors_as_pages
def facilitation(request, slug, action):
    """A member's or facilitator's act on who facilitates the sitting in session."""
    assembly, member = get_assembly_for(request.user, slug)
    act = FACILITATION_ACTS.get(action)
    if act is None:
        raise NotFound("unknown_action", _("There is no such action."))
    require_active_member(member)
    meeting = selectors.current_meeting(assembly)
    try:
        act(member, meeting, request.POST)
    except DomainError as error:
        if isinstance(error, (PermissionDenied, NotFound)):
            raise
        messages.error(request, error.message)
    return redirect(_back(request, slug))
