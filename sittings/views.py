"""The pages that bring the body, its proposals and its sittings together: home, assembly."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from assemblies import selectors
from assemblies.access import get_assembly_for
from assemblies.forms import JoinByCodeForm
from assemblies.rule_text import describe_rule
from core import broadcast
from core.http import domain_errors_as_pages
from proposals import selectors as proposal_selectors


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
ASSEMBLY_PARTS = {"floor-notice", "sitting", "meeting", "proposals", "decisions"}


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
