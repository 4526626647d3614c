"""Thin HTML views: parse, authorise through `access`, read through `selectors`, render."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from assemblies import selectors
from assemblies.access import get_assembly_for
from core.http import domain_errors_as_pages


@require_GET
def home(request):
    return render(
        request,
        "assemblies/home.html",
        {
            "assemblies": selectors.public_assemblies(),
            "my_assemblies": selectors.assemblies_of(request.user),
        },
    )


@require_GET
@domain_errors_as_pages
def assembly_detail(request, slug):
    assembly, member = get_assembly_for(request.user, slug)
    members = list(selectors.active_members(assembly))
    return render(
        request,
        "assemblies/assembly_detail.html",
        {
            "assembly": assembly,
            "member": member,
            "meeting": selectors.current_meeting(assembly),
            "proposals": selectors.open_proposals(assembly),
            "decisions": selectors.recent_decisions(assembly),
            "members": members,
            "rule_description": _describe_rule(assembly.decision_rule),
        },
    )


def _describe_rule(rule_data: dict) -> str:
    from assemblies.services import parse_rule
    from proposals.rules import describe

    return describe(parse_rule(rule_data or None))
