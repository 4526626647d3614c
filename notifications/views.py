"""The pages of notifications: a member's settings, the links in emails, calendars, webhooks."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assemblies.access import get_assembly_for, get_meeting_for
from assemblies.rule_text import describe_rule
from core.errors import DomainError, NotFound, PermissionDenied
from core.http import domain_errors_as_pages, form_error
from notifications import access, calendars, selectors, services
from notifications.content import absolute
from notifications.forms import PreferenceForm, WebhookForm
from proposals import services as proposal_services
from proposals.forms import PositionForm
from proposals.models import Phase, PositionKind


def _calendar_url(member, preference) -> str:
    return absolute(
        reverse(
            "notifications:member_calendar",
            args=[member.assembly.slug, preference.calendar_key],
        )
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors_as_pages
def preferences(request, slug):
    member = access.member_of(request.user, slug)
    preference = selectors.preference_for(member)
    # Until chosen, the emails follow the language the pages are read in now.
    language = selectors.language_of(request.user, default=get_language())
    initial = {"level": preference.level, "language": language}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_preference(actor=member, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error, {"invalid_language": "language"}, default="level")
        else:
            messages.success(request, _("Saved: your email settings for this assembly."))
            return redirect("notifications:preferences", slug=slug)
    context = {
        "assembly": member.assembly,
        "member": member,
        "form": form,
        "email": request.user.email,
        "calendar_url": _calendar_url(member, preference),
        "public_calendar_url": (
            absolute(reverse("notifications:calendar", args=[slug]))
            if not member.assembly.is_private
            else ""
        ),
    }
    return render(
        request,
        "notifications/preferences.html",
        context,
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
@domain_errors_as_pages
def new_calendar_key(request, slug):
    member = access.member_of(request.user, slug)
    services.regenerate_calendar_key(actor=member)
    messages.success(request, _("Your calendar has a new address: the old one no longer works."))
    return redirect("notifications:preferences", slug=slug)


@csrf_exempt  # RFC 8058: the mail client POSTs with no session and no CSRF token; the signed
# token in the URL is the authority, and it can only turn emails off.
@require_http_methods(["GET", "POST"])
@domain_errors_as_pages
def unsubscribe(request, token):
    """GET asks (mail scanners follow links); POST (the button, or the mail client's
    one-click per RFC 8058) stops this member's emails from this assembly."""
    member = access.unsubscribing_member(token)
    done = False
    if request.method == "POST":
        services.unsubscribe(actor=member)
        done = True
    return render(
        request,
        "notifications/unsubscribe.html",
        {"member": member, "assembly": member.assembly, "done": done, "token": token},
    )


@require_http_methods(["GET", "POST"])
@domain_errors_as_pages
def respond(request, slug, proposal_id, kind):
    """A one-tap answer from an email: GET shows what will be recorded, POST records it."""
    if kind not in PositionKind.values:
        raise NotFound("not_found", _("There is no such page."))
    token = request.POST.get("t") or request.GET.get("t", "")
    member, proposal = access.responding_member(token, slug, proposal_id)
    if request.user.is_authenticated and request.user.pk != member.user_id:
        raise PermissionDenied(
            "link_for_someone_else",
            _("This link was sent to another member: log out first, or open the proposal."),
        )
    rule = proposal.decision_rule
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None:
        data["kind"] = kind
        data["confirm"] = "True"
    form = PositionForm(data, rule=rule, initial={"kind": kind})
    if request.method == "POST" and form.is_valid():
        try:
            proposal_services.take_position(
                actor=member,
                proposal=proposal,
                kind=kind,
                reason=form.reason,
                request_id=form.cleaned_data["request_id"],
            )
        except DomainError as error:
            form_error(form, error, {}, default=None)
        else:
            return render(
                request,
                "notifications/respond.html",
                {"proposal": proposal, "member": member, "kind": kind, "done": True},
            )
    context = {
        "proposal": proposal,
        "assembly": proposal.assembly,
        "member": member,
        "kind": kind,
        "kind_label": dict(PositionKind.choices)[kind],
        "reason_field": form[f"reason_{kind}"],
        "form": form,
        "token": token,
        # A second tap (or a reload) of the same confirmation records the position once.
        "request_id": request.POST.get("request_id") or uuid.uuid4().hex,
        "rule": describe_rule(rule) if rule else "",
        "open": proposal.phase == Phase.CALL,
    }
    return render(
        request, "notifications/respond.html", context, status=400 if form.errors else 200
    )


def _ics(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
@domain_errors_as_pages
def calendar(request, slug):
    """The public feed of a public or unlisted assembly (members may also use their own)."""
    assembly, _member = get_assembly_for(request.user, slug)
    if assembly.is_private:
        raise NotFound("assembly_not_found", _("There is no such assembly."))
    return _feed(assembly)


@require_GET
@domain_errors_as_pages
def member_calendar(request, slug, key):
    """A member's secret feed: works with no login (calendar apps have none), for any
    visibility, until the member makes a new address."""
    member = selectors.calendar_member(slug, key)
    if member is None:
        raise NotFound("assembly_not_found", _("There is no such assembly."))
    return _feed(member.assembly)


def _feed(assembly) -> HttpResponse:
    body = calendars.assembly_feed(
        assembly, selectors.calendar_sittings(assembly), selectors.calendar_closings(assembly)
    )
    return _ics(body, f"{assembly.slug}.ics")


@require_GET
@domain_errors_as_pages
def sitting_ics(request, slug, meeting_id):
    """ "Add to calendar" for one sitting (the page's viewer, or a member's calendar key)."""
    member = selectors.calendar_member(slug, request.GET.get("key", ""))
    if member is not None:
        meeting = member.assembly.meetings.filter(pk=meeting_id).first()
        if meeting is None:
            raise NotFound("meeting_not_found", _("There is no such sitting."))
    else:
        meeting, _member = get_meeting_for(request.user, meeting_id)
        if meeting.assembly.slug != slug:
            raise NotFound("meeting_not_found", _("There is no such sitting."))
    if meeting.scheduled_for is None:
        raise NotFound("meeting_not_found", _("This sitting has no date yet."))
    return _ics(calendars.sitting_file(meeting, meeting.assembly), f"sitting-{meeting.pk}.ics")


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors_as_pages
def webhooks(request, slug):
    """A facilitator's chat bridges: add one, see the recent deliveries."""
    member = access.facilitator_of(request.user, slug)
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.add_webhook(
                actor=member, assembly=member.assembly, url=form.cleaned_data["url"]
            )
        except DomainError as error:
            form_error(form, error, {}, default="url")
        else:
            form = WebhookForm()
    context = {
        "assembly": member.assembly,
        "form": form,
        "created": created,
        "webhooks": selectors.webhooks_of(member.assembly),
        "deliveries": selectors.recent_deliveries(member.assembly),
    }
    return render(
        request, "notifications/webhooks.html", context, status=400 if form.errors else 200
    )


@require_POST
@login_required
@domain_errors_as_pages
def webhook_remove(request, slug, webhook_id):
    member = access.facilitator_of(request.user, slug)
    services.remove_webhook(actor=member, webhook=access.webhook_of(member, webhook_id))
    messages.success(request, _("The webhook is removed: it receives nothing more."))
    return redirect("notifications:webhooks", slug=slug)
