"""Thin HTML views for proposals: every POST parses a form and calls one service.

Without JavaScript each form POSTs and redirects; with htmx (hx-boost) the same requests
swap the page in place. A refusal re-renders the page with the message on its field.
"""

import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assemblies import selectors as assembly_selectors
from assemblies import services as assembly_services
from assemblies.access import get_assembly_for
from assemblies.models import Membership
from assemblies.rule_text import describe_rule
from core import broadcast
from core.errors import DomainError, NotFound, PermissionDenied
from core.http import domain_errors_as_pages, form_error, stash_form, take_stashed_form
from proposals import diffs, selectors, services
from proposals.access import get_proposal_for
from proposals.forms import (
    AmendmentForm,
    AnswerForm,
    CommentForm,
    PositionForm,
    ProposalForm,
    ReadingForm,
    RolesForm,
)
from proposals.models import Comment, CommentKind, PositionKind, Proposal

# The parts of the page a live client may fetch alone (`?part=`), rendered from the same
# template as the whole page (`{% partialdef %}`), so both always look the same.
PAGE_PARTS = {
    "floor-notice",
    "hall",
    "header",
    "decision",
    "text",
    "sitting",
    "facilitation",
    "temperature",
    "positions",
    "dissent",
    "questions",
    "concerns",
    "amendments",
    "revisions",
}

FORMS = {
    "position_form": lambda data, rule: PositionForm(data, rule=rule),
    "question_form": lambda data, rule: CommentForm(data, prefix="question"),
    "concern_form": lambda data, rule: CommentForm(data, prefix="concern"),
    "amendment_form": lambda data, rule: AmendmentForm(data, prefix="amendment"),
}


def _page(request, proposal: Proposal, member: Membership | None, status=200, **forms_given):
    live_seq = broadcast.dirty.current_seq_sync(proposal.assembly_id)  # before any state
    rule = proposal.decision_rule
    my_position = selectors.current_position_of(proposal, member)
    revision = proposal.revisions.get(number=proposal.revision_number)
    decision = selectors.decision_of(proposal)
    initial = {"kind": my_position.kind} if my_position else {}
    # One id per rendered form: a form posted twice (or sent again from the offline outbox)
    # is applied once.
    initial["request_id"] = f"form-{uuid.uuid4().hex}"
    if my_position and my_position.reason:
        initial[f"reason_{my_position.kind}"] = my_position.reason  # its own kind's box only
    context = {
        "live_seq": live_seq,
        "proposal": proposal,
        "assembly": proposal.assembly,
        "member": member,
        "revision": revision,
        "revisions": proposal.revisions.order_by("-number"),
        "tally": selectors.tally_for(proposal),
        **selectors.hall_figures(proposal),
        "dissent": selectors.dissent(proposal),
        "my_position": my_position,
        "my_proxy": selectors.proxy_given_on(proposal, member),
        "proxies_carried": selectors.proxies_carried_on(proposal, member),
        "comments": selectors.discussion(proposal),
        "decision": decision,
        "tree_head": selectors.tree_head_of(decision),
        "has_receipt": selectors.took_position_in(decision, member),
        "rule_description": describe_rule(rule) if rule else "",
        "temperature": selectors.temperature_of(proposal, member),
        "can_act": member is not None and member.can_act,
        "is_author": member is not None and member.pk == proposal.author_id,
        "answer_form": AnswerForm(),
        "position_form": PositionForm(initial=initial, rule=rule),
        "question_form": CommentForm(prefix="question"),
        "concern_form": CommentForm(prefix="concern"),
        # An amendment starts from the text as it stands: change it, don't retype it.
        "amendment_form": AmendmentForm(
            prefix="amendment", initial={"proposed_text": revision.text}
        ),
        **forms_given,
    }
    template = "proposals/proposal_detail.html"
    part = request.GET.get("part", "")
    if part in PAGE_PARTS:
        template += f"#{part}"
    else:
        context.update(_restored(request, rule))  # the page itself, not a live part of it
    return render(request, template, context, status=status)


def _restored(request, rule) -> dict:
    """A refused form kept by the last POST (see `core.http.stash_form`), shown once."""
    stashed = take_stashed_form(request)
    if stashed is None or stashed["form"] not in FORMS:
        return {}
    form = FORMS[stashed["form"]](stashed["data"], rule)
    form.is_valid()
    context = {stashed["form"]: form, **stashed["flags"]}
    if stashed["error"]:
        code, message = stashed["error"]
        field = FIELD_OF_ERROR.get(code)
        if field == "reason" and form.is_valid():
            field = f"reason_{form.cleaned_data['kind']}"
        form.add_error(field if field in form.fields else None, message)
        context["refusal"] = {"message": message}
    return context


# Which field a service's refusal concerns, on the page's forms.
FIELD_OF_ERROR = {
    "reason_required": "reason",
    "reason_too_long": "reason",
    "reason_invalid": "reason",
    "text_required": "text",
    "text_too_long": "text",
    "proposed_text_required": "proposed_text",
    "proposed_text_unchanged": "proposed_text",
}


@require_GET
@domain_errors_as_pages
def proposal_detail(request, slug, proposal_id):
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    return _page(request, proposal, member)


def _back(proposal: Proposal, anchor: str = ""):
    return redirect(proposal.get_absolute_url() + (f"#{anchor}" if anchor else ""))


def _refused(request, proposal: Proposal, form, form_name: str, anchor: str, error=None, **flags):
    """Post/Redirect/Get on refusal too: the page shows the form, its errors and what was
    written, at the page's own address. Outsiders still get 404."""
    if isinstance(error, (NotFound, PermissionDenied)):
        raise error  # 404 reveals nothing; 403 says who may not act, as on every page
    stash_form(request, form_name, form, error, **flags)
    return _back(proposal, anchor)


def _get_goes_to_page(view):
    """A form's action URL opened with GET (a reload, a history entry): show the page."""

    @wraps(view)
    def wrapper(request, slug, proposal_id, *args, **kwargs):
        if request.method == "GET":
            return _page_address(request, slug, proposal_id)
        return view(request, slug, proposal_id, *args, **kwargs)

    return require_http_methods(["GET", "POST"])(wrapper)


@domain_errors_as_pages
def _page_address(request, slug, proposal_id):
    proposal, _member = get_proposal_for(request.user, slug, proposal_id)
    return _back(proposal)


@_get_goes_to_page
@login_required
@domain_errors_as_pages
def take_position(request, slug, proposal_id):
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    form = PositionForm(request.POST, rule=proposal.decision_rule)
    if not form.is_valid():
        return _refused(request, proposal, form, "position_form", "positions")
    data = form.cleaned_data
    if request.POST.get("back"):
        # Back from the block's confirmation to the form, with what was written in it.
        return _refused(request, proposal, form, "position_form", "positions")
    if data["kind"] == PositionKind.BLOCK and not data["confirm"]:
        # Say plainly what a block means before it counts.
        return _refused(
            request, proposal, form, "position_form", "confirm-heading", confirm_block=True
        )
    try:
        services.take_position(
            actor=member,
            proposal=proposal,
            kind=data["kind"],
            reason=form.reason,
            request_id=data["request_id"],
        )
    except DomainError as error:
        return _refused(request, proposal, form, "position_form", "positions", error)
    messages.success(request, _("Your position is recorded."))
    return _back(proposal, "positions")


TEXT_ERRORS = {"text_required": "text", "text_too_long": "text"}


@_get_goes_to_page
@login_required
@domain_errors_as_pages
def add_comment(request, slug, proposal_id, kind):
    """A clarifying question or a concern (the URL says which)."""
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    form_name = f"{kind}_form"
    form = CommentForm(request.POST, prefix=kind)
    if not form.is_valid():
        return _refused(request, proposal, form, form_name, "discussion")
    try:
        services.add_comment(
            actor=member, proposal=proposal, kind=kind, text=form.cleaned_data["text"]
        )
    except DomainError as error:
        return _refused(request, proposal, form, form_name, "discussion", error)
    messages.success(request, _("Thank you: your words are on the record."))
    return _back(proposal, "discussion")


@_get_goes_to_page
@login_required
@domain_errors_as_pages
def answer_question(request, slug, proposal_id, comment_id):
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    question = _comment_of(proposal, comment_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write an answer first."))
        return _back(proposal, f"comment-{question.pk}")
    services.add_comment(
        actor=member,
        proposal=proposal,
        kind=CommentKind.ANSWER,
        text=form.cleaned_data["text"],
        parent=question,
    )
    messages.success(request, _("Answer added."))
    return _back(proposal, f"comment-{question.pk}")


@_get_goes_to_page
@login_required
@domain_errors_as_pages
def propose_amendment(request, slug, proposal_id):
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    form = AmendmentForm(request.POST, prefix="amendment")
    if not form.is_valid():
        return _refused(request, proposal, form, "amendment_form", "amendments")
    try:
        services.add_comment(
            actor=member,
            proposal=proposal,
            kind=CommentKind.AMENDMENT,
            text=form.cleaned_data["text"],
            proposed_text=form.cleaned_data["proposed_text"],
        )
    except DomainError as error:
        return _refused(request, proposal, form, "amendment_form", "amendments", error)
    messages.success(request, _("Amendment proposed: the author will accept or decline it."))
    return _back(proposal, "amendments")


@_get_goes_to_page
@login_required
@domain_errors_as_pages
def resolve_amendment(request, slug, proposal_id, comment_id, verdict):
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    amendment = _comment_of(proposal, comment_id)
    if verdict == "accept":
        services.accept_amendment(actor=member, amendment=amendment)
        messages.success(request, _("Amendment accepted: the text has a new revision."))
    else:
        services.decline_amendment(actor=member, amendment=amendment)
        messages.success(request, _("Amendment declined."))
    return _back(proposal, "amendments")


def _comment_of(proposal: Proposal, comment_id: int) -> Comment:
    comment = Comment.objects.filter(proposal=proposal, pk=comment_id).first()
    if comment is None:
        raise NotFound("comment_not_found", _("There is no such comment."))
    return comment


@_get_goes_to_page
@login_required
@domain_errors_as_pages
def give_reading(request, slug, proposal_id):
    proposal, member = get_proposal_for(request.user, slug, proposal_id)
    form = ReadingForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid_reading", _("Choose up, so-so or down."))
    services.give_reading(actor=member, proposal=proposal, reading=form.cleaned_data["reading"])
    messages.success(request, _("Your reading is counted."))
    return _back(proposal, "temperature")


@require_GET
@domain_errors_as_pages
def revision_diff(request, slug, proposal_id):
    proposal, _member = get_proposal_for(request.user, slug, proposal_id)
    numbers = list(proposal.revisions.values_list("number", flat=True))
    old_number = _int_or(request.GET.get("from"), max(1, proposal.revision_number - 1))
    new_number = _int_or(request.GET.get("to"), proposal.revision_number)
    if old_number not in numbers or new_number not in numbers:
        raise NotFound("revision_not_found", _("There is no such revision."))
    old = proposal.revisions.get(number=old_number)
    new = proposal.revisions.get(number=new_number)
    context = {
        "proposal": proposal,
        "assembly": proposal.assembly,
        "old": old,
        "new": new,
        "numbers": numbers,
        "diff": diffs.word_diff(old.text, new.text),
    }
    return render(request, "proposals/revision_diff.html", context)


def _int_or(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors_as_pages
def new_proposal(request, slug):
    assembly, member = get_assembly_for(request.user, slug)
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.submit_proposal(
                actor=member,
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
                closes_at=form.cleaned_data["closes_at"],
            )
        except DomainError as error:
            if isinstance(error, (PermissionDenied, NotFound)):
                raise
            fields = {**TEXT_ERRORS, "title_required": "title", "closes_at_past": "closes_at"}
            form_error(form, error, fields, None)
        else:
            messages.success(request, _("Proposal submitted."))
            return redirect(proposal.get_absolute_url())
    context = {"form": form, "assembly": assembly, "member": member}
    return render(
        request, "proposals/new_proposal.html", context, status=400 if form.errors else 200
    )


ROLE_ERRORS = {
    "closes_at_past": "closes_at",
    "reason_too_long": "reason",
    "reason_invalid": "reason",
}


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors_as_pages
def roles(request, slug):
    """Members and their roles; where roles are given by decision, the form proposes a change."""
    assembly, member = get_assembly_for(request.user, slug)
    members = assembly_selectors.active_members(assembly)
    form = RolesForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid() and not assembly.roles_by_decision:
        try:
            assembly_services.give_roles(actor=member, changes=form.changes())
        except DomainError as error:
            if isinstance(error, (PermissionDenied, NotFound)):
                raise
            form_error(form, error, ROLE_ERRORS, None)
        else:
            messages.success(request, _("Roles saved."))
            return redirect("proposals:roles", slug=assembly.slug)
    elif request.method == "POST" and form.is_valid():
        try:
            proposal = services.propose_roles(
                actor=member,
                changes=form.changes(),
                reason=form.cleaned_data["reason"],
                roles_by_facilitators=form.cleaned_data["roles_by_facilitators"],
                closes_at=form.cleaned_data["closes_at"],
            )
        except DomainError as error:
            if isinstance(error, (PermissionDenied, NotFound)):
                raise
            form_error(form, error, ROLE_ERRORS, None)
        else:
            messages.success(request, _("Proposal of roles submitted."))
            return redirect(proposal.get_absolute_url())
    context = {"form": form, "assembly": assembly, "member": member, "members": members}
    status = 400 if form.errors else 200
    return render(request, "proposals/roles.html", context, status=status)
