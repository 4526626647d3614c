"""The pages of the whole assembly: checking in (the projector's QR code points here) and
the counters' page (counting at the door, counting the hall on the call). Thin views: parse,
authorise, call one service in `sittings.hall`, redirect back with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assemblies import selectors
from assemblies.access import get_assembly_for, require_active_member
from assemblies.models import MeetingState, Membership, MembershipStatus, Presence, Role
from core.errors import DomainError, NotFound, PermissionDenied
from core.http import domain_errors_as_pages
from proposals.models import Phase
from proposals.selectors import hall_figures, tally_for
from sittings import hall


def _in_session(assembly):
    meeting = selectors.current_meeting(assembly)
    return meeting if meeting and meeting.state == MeetingState.IN_SESSION else None


@require_GET
@domain_errors_as_pages
def check_in_page(request, slug):
    """What the QR code opens: the sitting in session and one button (a GET changes nothing)."""
    assembly, member = get_assembly_for(request.user, slug)
    meeting = _in_session(assembly)
    present = bool(
        meeting and member and Presence.objects.filter(meeting=meeting, member=member).exists()
    )
    return render(
        request,
        "sittings/check_in.html",
        {
            "assembly": assembly,
            "member": member,
            "meeting": meeting,
            "present": present,
            "presence": selectors.presence_of(meeting),
        },
    )


@require_POST
@login_required
@domain_errors_as_pages
def check_in(request, slug):
    assembly, member = get_assembly_for(request.user, slug)
    require_active_member(member)
    try:
        hall.check_in(actor=member, meeting=_in_session(assembly))
    except DomainError as error:
        if isinstance(error, (PermissionDenied, NotFound)):
            raise
        messages.error(request, error.message)
        return redirect(reverse("sittings:check_in", args=[slug]))
    messages.success(request, _("You are counted present at this sitting."))
    return redirect(reverse("sittings:check_in", args=[slug]))


def _counter_of(request, slug):
    assembly, member = get_assembly_for(request.user, slug)
    meeting = _in_session(assembly)
    if meeting is None:
        raise NotFound("meeting_not_found", _("No sitting is in session."))
    return assembly, meeting, hall.require_counter(member, meeting)


# Names offered at the door (a select would not be usable with thousands).
DOOR_CHOICES = 500


@require_GET
@login_required
@domain_errors_as_pages
def hall_page(request, slug):
    assembly, meeting, counter = _counter_of(request, slug)
    current = meeting.current_proposal
    in_call = current if current and current.phase == Phase.CALL else None
    figures = hall_figures(in_call)
    mine = next((e for e in figures["hall"].entries if e.counter_id == counter.pk), None)
    present_ids = Presence.objects.filter(meeting=meeting).values("member_id")
    return render(
        request,
        "sittings/hall.html",
        {
            "assembly": assembly,
            "meeting": meeting,
            "member": counter,
            "proposal": in_call,
            "tally": tally_for(in_call) if in_call else None,
            **figures,
            "presence": selectors.presence_of(meeting),
            "mine": mine,
            "door_choices": assembly.memberships.filter(
                status=MembershipStatus.ACTIVE, role__in=[Role.PARTICIPANT, Role.FACILITATOR]
            )
            .exclude(pk__in=present_ids)
            .order_by("display_name")[:DOOR_CHOICES],
        },
    )


def _number(request, name: str) -> int:
    value = (request.POST.get(name) or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 7:
        raise DomainError("count_invalid", _("Counts are whole numbers, zero or more."))
    return int(value)


def _blocks(request) -> list[dict]:
    """One line per block as spoken: "Name | reason", or only the reason (from the hall)."""
    blocks = []
    for line in (request.POST.get("blocks") or "").splitlines():
        if not line.strip():
            continue
        name, bar, reason = line.partition("|")
        blocks.append({"name": name, "reason": reason} if bar else {"name": "", "reason": line})
    return blocks


def _door(request, counter, meeting, assembly):
    try:
        member_id = int(request.POST.get("member", ""))
    except ValueError as error:
        raise DomainError("invalid_field", _("A required field is missing.")) from error
    member = get_object_or_404(Membership, assembly=assembly, pk=member_id)
    hall.count_at_door(actor=counter, meeting=meeting, member=member)
    return _("%(name)s is counted present.") % {"name": member.display_name}


def _count(request, counter, meeting, assembly):
    proposal = meeting.current_proposal
    if proposal is None:
        raise DomainError("not_on_the_floor", _("Nothing is on the floor."))
    hall.enter_hall_count(
        actor=counter,
        meeting=meeting,
        proposal=proposal,
        agree=_number(request, "agree"),
        stand_aside=_number(request, "stand_aside"),
        block=_number(request, "block"),
        blocks=_blocks(request),
    )
    return _("Your count of the hall is entered.")


HALL_ACTIONS = {"door": _door, "count": _count}


@require_POST
@login_required
@domain_errors_as_pages
def hall_action(request, slug, action):
    act = HALL_ACTIONS.get(action)
    if act is None:
        raise NotFound("unknown_action", _("There is no such action."))
    assembly, meeting, counter = _counter_of(request, slug)
    try:
        messages.success(request, act(request, counter, meeting, assembly))
    except DomainError as error:
        if isinstance(error, (PermissionDenied, NotFound)):
            raise
        messages.error(request, error.message)
    return redirect(reverse("sittings:hall", args=[slug]))
