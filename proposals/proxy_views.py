"""Pages of proxies (docs/hybrid.md): give, revoke or decline one, and state a position for
the member whose proxy one carries. Each POST parses a form and calls one service, then
redirects (a refusal is shown as a message on the page it returns to)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assemblies import selectors as assembly_selectors
from assemblies.access import get_assembly_for, get_member_for
from assemblies.models import Meeting, MeetingState, Role
from core.errors import DomainError, NotFound, PermissionDenied
from core.http import domain_errors_as_pages, form_error
from proposals import selectors, services
from proposals.access import get_proposal_for, get_proxy_scope
from proposals.forms import ProxyForm, ProxyPositionForm
from proposals.models import OPEN_PHASES, Proposal, Proxy

# Which field of the form a refusal of `give_proxy` concerns.
PROXY_ERRORS = {
    "proxy_to_oneself": "holder",
    "holder_cannot_take_part": "holder",
    "proxy_cap": "holder",
    "member_not_found": "holder",
    "proxy_already_given": "scope",
    "meeting_adjourned": "scope",
    "proposal_closed": "scope",
    "meeting_not_found": "scope",
    "proposal_not_found": "scope",
    "invalid_mandate": "mandate",
    "proxy_block_not_allowed": "mandate",
    "reason_too_long": "reason",
    "reason_invalid": "reason",
}


def _proxy_form(assembly, member, data=None) -> ProxyForm:
    sittings = Meeting.objects.filter(assembly=assembly).exclude(state=MeetingState.ADJOURNED)
    proposals = Proposal.objects.filter(assembly=assembly, phase__in=OPEN_PHASES)
    holders = assembly_selectors.active_members(assembly).exclude(role=Role.OBSERVER)
    if member is not None:
        holders = holders.exclude(pk=member.pk)
    return ProxyForm(
        data,
        sittings=sittings.order_by("scheduled_for", "pk"),
        proposals=proposals.order_by("title", "pk"),
        members=holders.order_by("display_name"),
        may_block=assembly.proxy_may_block,
    )


@require_http_methods(["GET", "POST"])
@domain_errors_as_pages
def proxies(request, slug):
    """The assembly's proxies (public, like the log) and, for a member, the form to give one."""
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    assembly, member = get_assembly_for(request.user, slug)
    form = _proxy_form(assembly, member, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            _give(assembly, member, form)
        except DomainError as error:
            if isinstance(error, NotFound) and error.code not in PROXY_ERRORS:
                raise
            form_error(form, error, PROXY_ERRORS, None)
        else:
            messages.success(
                request, _("Your proxy is given. You can revoke it until the call opens.")
            )
            return redirect("proposals:proxies", slug=assembly.slug)
    context = {
        "assembly": assembly,
        "member": member,
        "form": form,
        "mine": selectors.proxies_of_member(member),
        "all_proxies": selectors.proxies_of(assembly),
    }
    return render(request, "proposals/proxies.html", context, status=400 if form.errors else 200)


def _give(assembly, member, form: ProxyForm):
    kind, pk = form.scope_of()
    data = form.cleaned_data
    return services.give_proxy(
        actor=member,
        holder=get_member_for(assembly, data["holder"]),
        mandate=data["mandate"],
        may_block=data.get("may_block", False),
        reason=data["reason"],
        **get_proxy_scope(assembly, **{f"{kind}_id": pk}),
    )


@require_POST
@login_required
@domain_errors_as_pages
def revoke(request, slug, proxy_id):
    """The giver revokes her proxy, or the holder declines it; back where the button was."""
    assembly, member = get_assembly_for(request.user, slug)
    proxy = Proxy.objects.filter(assembly=assembly, pk=proxy_id).first()
    if proxy is None:
        raise NotFound("proxy_not_found", _("There is no such proxy."))
    try:
        services.revoke_proxy(actor=member, proxy=proxy)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, _("The proxy is revoked."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("proposals:proxies", slug=assembly.slug)


@require_POST
@login_required
@domain_errors_as_pages
def take_proxy_position(request, slug, proposal_id):
    """A holder states the position of the member whose proxy she carries."""
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    form = ProxyPositionForm(request.POST)
    back = redirect(proposal.get_absolute_url() + "#proxies")
    if not form.is_valid():
        messages.error(request, _("Choose the position to state for this member."))
        return back
    data = form.cleaned_data
    try:
        giver = get_member_for(proposal.assembly, data["for_member"])
        services.take_position(
            actor=member,
            proposal=proposal,
            kind=data["kind"],
            reason=data["reason"],
            request_id=data["request_id"],
            for_member=giver,
        )
    except DomainError as error:
        if isinstance(error, PermissionDenied) and error.code != "no_proxy":
            raise
        messages.error(request, error.message)
        return back
    messages.success(
        request,
        _("Recorded: %(holder)s for %(giver)s.")
        % {"holder": member.display_name, "giver": giver.display_name},
    )
    return back
