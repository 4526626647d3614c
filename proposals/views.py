"""Thin HTML views for proposals."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.http import domain_errors_as_pages
from proposals import selectors
from proposals.access import get_proposal_for
from proposals.rules import describe


@require_GET
@domain_errors_as_pages
def proposal_detail(request, slug, proposal_id):
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    decision = getattr(proposal, "decision", None) if proposal.is_final else None
    tally = selectors.tally_for(proposal)
    rule = proposal.decision_rule
    return render(
        request,
        "proposals/proposal_detail.html",
        {
            "proposal": proposal,
            "assembly": proposal.assembly,
            "member": member,
            "revision": proposal.revisions.get(number=proposal.revision_number),
            "revisions": proposal.revisions.order_by("-number"),
            "tally": tally,
            "positions": selectors.current_positions(proposal),
            "my_position": selectors.current_position_of(proposal, member),
            "comments": selectors.discussion(proposal),
            "decision": decision,
            "rule_description": describe(rule) if rule else "",
        },
    )
