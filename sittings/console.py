"""The facilitator console, the projector view, the public log and the minutes pages.

Thin views like the rest: each console POST names one action, which parses its ids
(scoped to the assembly), calls one service and redirects back. Refusals: 403 for people
who are not facilitators, 404 for what the caller may not see, a message for state conflicts.
"""

import re
from datetime import datetime

import segno
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assemblies import rules, selectors, services
from assemblies.access import get_assembly_for, get_assembly_for_projector, require_facilitator
from assemblies.models import (
    AgendaItem,
    Assembly,
    LogEntry,
    Meeting,
    MeetingState,
    Membership,
    MembershipStatus,
    Role,
    StackEntry,
)
from assemblies.rule_text import describe_rule
from core import broadcast
from core.errors import DomainError, NotFound, PermissionDenied
from core.http import domain_errors_as_pages
from core.markdown import render_markdown
from proposals import services as proposal_services
from proposals.access import get_proposal_in
from proposals.models import DISCUSSION_PHASES, OPEN_PHASES, Outcome, Phase, Proposal
from proposals.selectors import (
    decision_of,
    dissent,
    hall_count_for,
    hall_figures,
    present_for_quorum,
    tally_for,
)
from sittings import floor, hall, live, log_text, minutes, stand_in
from sittings import services as sitting_services


def _facilitator_of(request, slug) -> tuple[Assembly, Membership]:
    assembly, member = get_assembly_for(request.user, slug)
    return assembly, require_facilitator(member)


# The parts of the console a live client may fetch alone (`?part=`), and the whole
# console block an htmx form swaps in place (its target is `#console`).
CONSOLE_PARTS = {
    "console",
    "hall",
    "console-floor",
    "console-stack",
    "console-sitting",
    "console-agenda",
    "console-people",
    "facilitation",
    "log",
}


@require_GET
@domain_errors_as_pages
def console(request, slug):
    assembly, member = _facilitator_of(request, slug)
    live_seq = broadcast.dirty.current_seq_sync(assembly.pk)  # before any state
    meeting = selectors.current_meeting(assembly)
    current = meeting.current_proposal if meeting else None
    part = request.GET.get("part", "")
    if request.headers.get("HX-Target") == "console":
        part = "console"
    template = "sittings/console.html" + (f"#{part}" if part in CONSOLE_PARTS else "")
    context = {
        "live_seq": live_seq,
        "assembly": assembly,
        "member": member,
        "meeting": meeting,
        "scheduled": _other_scheduled(assembly, meeting),
        "agenda": meeting.agenda_items.all() if meeting else [],
        "addable": _addable_proposals(assembly, meeting),
        "current": current,
        "temperature_open": bool(
            current and current.temperature_checks.filter(closed_at__isnull=True).exists()
        ),
        "preview": _preview(current),
        **hall_figures(current),
        "dissent": _dissent(current) if current and current.phase == Phase.CALL else {},
        "confirm": _confirmation(request, assembly, meeting),
        "discussion_phases": [(p.value, p.label) for p in DISCUSSION_PHASES],
        "sitting": live.sitting_for(assembly.pk),
        "stack_entries": floor.waiting_in_order(meeting) if meeting else [],
        "pending": assembly.memberships.filter(status=MembershipStatus.PENDING),
        "code_joiners": assembly.memberships.filter(
            status=MembershipStatus.ACTIVE, joined_via="code"
        ),
        "log": _log(assembly, limit=30),
        **_sitting_facilitation(meeting),
        "join_url": _join_url(request, assembly),
        "projector_url": request.build_absolute_uri(
            reverse("sittings:projector", args=[assembly.slug]) + f"?key={assembly.projector_key}"
        ),
    }
    return render(request, template, context)


def _sitting_facilitation(meeting: Meeting | None) -> dict:
    """Who facilitates the sitting in session, and whom a facilitator may ask to help."""
    if meeting is None or meeting.state != MeetingState.IN_SESSION:
        return {"sitting_facilitators": [], "co_facilitator_choices": [], "counter_choices": []}
    facilitators = list(stand_in.facilitators_of(meeting))
    choices = (
        meeting.assembly.memberships.filter(status=MembershipStatus.ACTIVE, role=Role.PARTICIPANT)
        .exclude(pk__in=[f.pk for f in facilitators])
        .order_by("display_name")[:CO_FACILITATOR_CHOICES]
    )
    counters = meeting.assembly.memberships.filter(
        status=MembershipStatus.ACTIVE, role__in=[Role.PARTICIPANT, Role.FACILITATOR]
    ).order_by("display_name")[:CO_FACILITATOR_CHOICES]
    return {
        "sitting_facilitators": facilitators,
        "co_facilitator_choices": choices,
        "counter_choices": counters,
    }


# Names offered to co-facilitate (the select would not be usable with thousands).
CO_FACILITATOR_CHOICES = 500


def _other_scheduled(assembly: Assembly, meeting: Meeting | None):
    later = Meeting.objects.filter(assembly=assembly, state=MeetingState.SCHEDULED)
    if meeting is not None:
        later = later.exclude(pk=meeting.pk)
    return later.order_by("scheduled_for", "pk")[:10]


# --- acts that cannot be undone: said before they are done ---------------------------------

CONFIRMED_ACTIONS = {"close", "withdraw", "adjourn"}


def _confirmation(request, assembly: Assembly, meeting: Meeting | None) -> dict | None:
    """What an irreversible act will do, asked for with `?confirm=<action>`."""
    action = request.GET.get("confirm", "")
    try:
        if action in ("close", "withdraw"):
            proposal = get_proposal_in(assembly, int(request.GET.get("proposal", "")))
            return _confirm_close(proposal) if action == "close" else _confirm_withdraw(proposal)
        if action == "adjourn" and meeting is not None and meeting.state == MeetingState.IN_SESSION:
            return _confirm_adjourn(meeting)
    except (ValueError, DomainError):
        return None
    return None


def _confirm_close(proposal: Proposal) -> dict | None:
    preview = _preview(proposal)
    if preview is None:
        return None
    tally = preview["tally"]
    return {
        "action": "close",
        "proposal": proposal,
        "question": _("Close the call on “%(title)s” and record the decision?")
        % {"title": proposal.title},
        "consequences": [
            _(
                "The rule decides now: %(outcome)s (%(agree)s agree, %(stand)s stand aside, "
                "%(block)s block)."
            )
            % {
                "outcome": preview["outcome"],
                "agree": tally.agree,
                "stand": tally.stand_aside,
                "block": tally.block,
            },
            preview["rule"],
            _(
                "No position can be stated or changed afterwards: the decision, with every "
                "block and stand-aside and its reason, goes into the permanent history."
            ),
        ],
        "button": _("Yes, close and record: %(outcome)s") % {"outcome": preview["outcome"]},
        "style": "primary",
    }


def _confirm_withdraw(proposal: Proposal) -> dict | None:
    if proposal.is_final:
        return None
    return {
        "action": "withdraw",
        "proposal": proposal,
        "question": _("Record that “%(title)s” is withdrawn?") % {"title": proposal.title},
        "consequences": [
            _(
                "Its author or the assembly takes it back: no decision is recorded, every "
                "position on it stops counting, and it cannot be brought back to the floor."
            ),
        ],
        "button": _("Yes, record the withdrawal"),
        "style": "danger",
    }


def _confirm_adjourn(meeting: Meeting) -> dict:
    consequences = [_("The sitting ends: the stack is cleared and the timer stops.")]
    open_call = meeting.current_proposal
    if open_call is not None and open_call.phase == Phase.CALL:
        consequences.append(
            _(
                "The call for consensus on “%(title)s” stays open: members can still state "
                "their positions online, and a facilitator closes it later."
            )
            % {"title": open_call.title}
            if not open_call.closes_at
            else _(
                "The call for consensus on “%(title)s” stays open online until its set "
                "time, %(when)s, when it closes by itself."
            )
            % {
                "title": open_call.title,
                "when": date_format(localtime(open_call.closes_at), "DATETIME_FORMAT"),
            }
        )
    return {
        "action": "adjourn",
        "meeting": meeting,
        "question": _("Adjourn “%(title)s”?") % {"title": meeting.title},
        "consequences": consequences,
        "button": _("Yes, adjourn the sitting"),
        "style": "primary",
    }


def _addable_proposals(assembly: Assembly, meeting: Meeting | None):
    proposals = Proposal.objects.filter(assembly=assembly, phase__in=[*OPEN_PHASES, Phase.TABLED])
    if meeting is not None:
        proposals = proposals.exclude(agenda_items__meeting=meeting)
    return proposals.order_by("title")


def _preview(proposal: Proposal | None) -> dict | None:
    """What the rule would decide if the call closed now: shown before a close is confirmed."""
    if proposal is None or proposal.phase != Phase.CALL:
        return None
    tally = tally_for(proposal)
    outcome = rules.decide(proposal.decision_rule, tally, present=present_for_quorum(proposal))
    label = dict(Outcome.choices)[str(outcome)]
    return {
        "tally": tally,
        "hall": hall_count_for(proposal),
        "outcome": label,
        "rule": describe_rule(proposal.decision_rule),
    }


def _log(assembly: Assembly, limit: int = 200):
    entries = LogEntry.objects.filter(assembly=assembly).select_related("actor")[:limit]
    return [{"at": entry.created_at, "text": log_text.describe(entry)} for entry in entries]


def _join_url(request, assembly: Assembly) -> str:
    path = reverse("assemblies:join_link", args=[assembly.slug])
    return request.build_absolute_uri(f"{path}?code={assembly.join_code}")


# --- console actions -----------------------------------------------------------------------


def _int(request, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError as error:
        raise DomainError("invalid_field", _("A required field is missing.")) from error


def _meeting(request, assembly) -> Meeting:
    return get_object_or_404(Meeting, assembly=assembly, pk=_int(request, "meeting"))


def _proposal(request, assembly) -> Proposal:
    return get_proposal_in(assembly, _int(request, "proposal"))


def _entry(request, assembly) -> StackEntry:
    return get_object_or_404(StackEntry, meeting__assembly=assembly, pk=_int(request, "entry"))


def _item(request, assembly) -> AgendaItem:
    return get_object_or_404(AgendaItem, meeting__assembly=assembly, pk=_int(request, "item"))


def _other_member(request, assembly) -> Membership:
    return get_object_or_404(Membership, assembly=assembly, pk=_int(request, "member"))


def _when(request) -> datetime | None:
    """The datetime-local field, or None when left empty; anything else unreadable is refused."""
    value = (request.POST.get("scheduled_for") or "").strip()
    if not value:
        return None
    try:
        when = parse_datetime(value)
    except ValueError:  # well-formed but impossible: 2026-02-30, 25:61, +99:00
        when = None
    if when is None:
        raise DomainError("scheduled_for_invalid", _("That is not a date and time."))
    return when


def _schedule(request, actor, assembly):
    when = _when(request)
    if when is not None and timezone.is_naive(when):
        # A datetime-local field has no offset: it is the assembly's local (default) time.
        when = timezone.make_aware(when)
    sitting_services.schedule_meeting(
        actor=actor, assembly=assembly, title=request.POST.get("title", ""), scheduled_for=when
    )


def _reschedule(request, actor, assembly):
    when = _when(request)
    if when is not None and timezone.is_naive(when):
        when = timezone.make_aware(when)
    sitting_services.reschedule_meeting(
        actor=actor, meeting=_meeting(request, assembly), scheduled_for=when
    )
    messages.success(request, _("The sitting is moved; members are told."))


def _close(request, actor, assembly):
    decision = proposal_services.close_call(actor=actor, proposal=_proposal(request, assembly))
    messages.success(
        request, _("Recorded: %(outcome)s.") % {"outcome": decision.get_outcome_display()}
    )


ACTIONS = {
    "schedule": _schedule,
    "reschedule": _reschedule,
    "start": lambda r, a, s: sitting_services.start_meeting(actor=a, meeting=_meeting(r, s)),
    "adjourn": lambda r, a, s: sitting_services.adjourn_meeting(actor=a, meeting=_meeting(r, s)),
    "agenda-add": lambda r, a, s: sitting_services.add_to_agenda(
        actor=a, meeting=_meeting(r, s), proposal=_proposal(r, s)
    ),
    "agenda-up": lambda r, a, s: sitting_services.move_agenda_item(
        actor=a, item=_item(r, s), offset=-1
    ),
    "agenda-down": lambda r, a, s: sitting_services.move_agenda_item(
        actor=a, item=_item(r, s), offset=1
    ),
    "agenda-remove": lambda r, a, s: sitting_services.remove_from_agenda(actor=a, item=_item(r, s)),
    "make-current": lambda r, a, s: sitting_services.set_current_proposal(
        actor=a, meeting=_meeting(r, s), proposal=_proposal(r, s)
    ),
    "phase": lambda r, a, s: proposal_services.set_phase(
        actor=a, proposal=_proposal(r, s), phase=r.POST.get("phase", "")
    ),
    "temperature-open": lambda r, a, s: proposal_services.open_temperature_check(
        actor=a, proposal=_proposal(r, s)
    ),
    "temperature-close": lambda r, a, s: proposal_services.close_temperature_check(
        actor=a, proposal=_proposal(r, s)
    ),
    "call": lambda r, a, s: proposal_services.call_for_consensus(actor=a, proposal=_proposal(r, s)),
    "close": _close,
    "table": lambda r, a, s: proposal_services.table_proposal(actor=a, proposal=_proposal(r, s)),
    "withdraw": lambda r, a, s: proposal_services.withdraw_proposal(
        actor=a, proposal=_proposal(r, s)
    ),
    "call-next": lambda r, a, s: floor.call_next(actor=a, meeting=_meeting(r, s)),
    "add-speaker": lambda r, a, s: floor.add_speaker_from_the_floor(
        actor=a,
        meeting=_meeting(r, s),
        display_name=r.POST.get("display_name", ""),
        kind=r.POST.get("kind") or "speak",
    ),
    "skip": lambda r, a, s: floor.take_off_stack(actor=a, entry=_entry(r, s), skip=True),
    "remove-entry": lambda r, a, s: floor.take_off_stack(actor=a, entry=_entry(r, s), skip=False),
    "priority": lambda r, a, s: floor.raise_priority(actor=a, entry=_entry(r, s)),
    "progressive": lambda r, a, s: floor.set_progressive_stack(
        actor=a, meeting=_meeting(r, s), on=r.POST.get("on") == "1"
    ),
    "timer-start": lambda r, a, s: floor.set_timer(
        actor=a, meeting=_meeting(r, s), running=True, seconds=_seconds(r)
    ),
    "timer-stop": lambda r, a, s: floor.set_timer(actor=a, meeting=_meeting(r, s), running=False),
    "admit": lambda r, a, s: services.admit_member(actor=a, member=_other_member(r, s)),
    "remove-member": lambda r, a, s: services.remove_member(actor=a, member=_other_member(r, s)),
    "rotate-code": lambda r, a, s: services.rotate_join_code(actor=a, assembly=s),
    "counters": lambda r, a, s: hall.choose_counters(
        actor=a,
        meeting=_meeting(r, s),
        members=[
            get_object_or_404(Membership, assembly=s, pk=_int(r, "counter_a")),
            get_object_or_404(Membership, assembly=s, pk=_int(r, "counter_b")),
        ],
    ),
    "recount": lambda r, a, s: hall.call_recount(
        actor=a, meeting=_meeting(r, s), proposal=_proposal(r, s)
    ),
}


def _seconds(request) -> int | None:
    """Whole seconds in ASCII digits ("²" is a digit to Python, not to a timer), or None."""
    value = (request.POST.get("seconds") or "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,5}", value):
        raise DomainError("invalid_seconds", _("Speaking time is between 10 s and 1 hour."))
    return int(value)


@require_POST
@domain_errors_as_pages
def console_action(request, slug, action):
    assembly, actor = _facilitator_of(request, slug)
    handler = ACTIONS.get(action)
    if handler is None:
        raise NotFound("unknown_action", _("There is no such action."))
    if action in CONFIRMED_ACTIONS and request.POST.get("confirm") != "1":
        return _ask_first(request, slug, action)
    try:
        handler(request, actor, assembly)
    except DomainError as error:
        if isinstance(error, (PermissionDenied, NotFound)):
            raise
        messages.error(request, error.message)
        return redirect(reverse("sittings:console", args=[slug]))
    return redirect(reverse("sittings:console", args=[slug]))


def _ask_first(request, slug: str, action: str):
    """An irreversible act posted without its confirmation: show what it would do first."""
    query = {"confirm": action}
    for name in ("proposal", "meeting"):
        if request.POST.get(name, "").isdigit():
            query[name] = request.POST[name]
    return redirect(reverse("sittings:console", args=[slug]) + "?" + urlencode(query))


# --- pages for everyone who may see the assembly ---------------------------------------------


@require_GET
@domain_errors_as_pages
def projector(request, slug):
    """The venue's big screen: no controls, large type, live."""
    key = request.GET.get("key", "")
    assembly, member = get_assembly_for_projector(request.user, slug, key)
    live_seq = broadcast.dirty.current_seq_sync(assembly.pk)  # before any state
    meeting = selectors.current_meeting(assembly)
    current = meeting.current_proposal if meeting else None
    shows_code = _shows_join_code(request, assembly, member)
    join_url = _join_url(request, assembly) if shows_code else ""
    check_in_url = request.build_absolute_uri(reverse("sittings:check_in", args=[assembly.slug]))
    part = request.GET.get("part", "")
    template = "sittings/projector.html" + (f"#{part}" if part in PROJECTOR_PARTS else "")
    preview = _preview(current)
    return render(
        request,
        template,
        {
            "live_seq": live_seq,
            "assembly": assembly,
            "projector": True,
            "meeting": meeting,
            "proposal": current,
            "revision": current.revisions.get(number=current.revision_number) if current else None,
            "tally": tally_for(current) if current else None,
            **hall_figures(current),
            "decision": decision_of(current) if current else None,
            "rule_description": describe_rule(current.decision_rule)
            if current and current.decision_rule
            else "",
            "preview_outcome": preview["outcome"] if preview else "",
            "dissent_shown": _dissent_shown(current),
            "sitting": live.sitting_for(assembly.pk),
            "shows_code": shows_code,
            # The screen's own socket carries the key too (see sittings.consumers).
            "projector_key": key if constant_time_compare(key, assembly.projector_key) else "",
            "join_url": join_url,
            "qr_svg": segno.make(join_url, error="m").svg_inline(scale=8, dark="#000", light="#fff")
            if shows_code
            else "",
            "check_in_url": check_in_url,
            "check_in_qr_svg": segno.make(check_in_url, error="m").svg_inline(
                scale=5, dark="#000", light="#fff"
            ),
        },
    )


PROJECTOR_PARTS = {"projector-main", "projector-floor", "facilitation", "hall"}
# How many blocks and stand-asides the big screen lists before "and N more".
PROJECTOR_DISSENT_SHOWN = 3


def _dissent_shown(proposal: Proposal | None) -> list[tuple]:
    """(kind, heading, first few positions, how many more) for blocks, then stand-asides."""
    found = _dissent(proposal)
    rows = []
    for kind, heading in (("block", _("Blocks")), ("stand_aside", _("Stand-asides"))):
        positions = found[kind]
        shown = positions[:PROJECTOR_DISSENT_SHOWN]
        rows.append((kind, heading, shown, len(positions) - len(shown)))
    return rows


def _shows_join_code(request, assembly: Assembly, member: Membership | None) -> bool:
    """A public assembly's code is no secret; a private or unlisted one's is shown only on a
    screen a facilitator opened, or one opened with the projector link's own secret."""
    if assembly.is_public or (member is not None and member.is_active and member.is_facilitator):
        return True
    return constant_time_compare(request.GET.get("key", ""), assembly.projector_key)


def _dissent(proposal: Proposal | None):
    return dissent(proposal) if proposal else {"block": [], "stand_aside": []}


@require_GET
@domain_errors_as_pages
def facilitation_log(request, slug):
    assembly, member = get_assembly_for(request.user, slug)
    template = "sittings/includes/log.html" if request.GET.get("fragment") else None
    context = {"assembly": assembly, "member": member, "log": _log(assembly), "live_off": True}
    return render(request, template or "sittings/log.html", context)


def _meeting_for_minutes(request, slug, meeting_id) -> Meeting:
    assembly, _member = get_assembly_for(request.user, slug)
    return get_object_or_404(Meeting, assembly=assembly, pk=meeting_id)


@require_GET
@domain_errors_as_pages
def minutes_page(request, slug, meeting_id):
    meeting = _meeting_for_minutes(request, slug, meeting_id)
    text = minutes.minutes_markdown(meeting)
    context = {
        "assembly": meeting.assembly,
        "meeting": meeting,
        "minutes": render_markdown(text),
        "tree_head": minutes.tree_head_after(meeting),
    }
    context["live_off"] = True
    return render(request, "sittings/minutes.html", context)


@require_GET
@domain_errors_as_pages
def minutes_download(request, slug, meeting_id):
    meeting = _meeting_for_minutes(request, slug, meeting_id)
    response = HttpResponse(
        minutes.minutes_markdown(meeting), content_type="text/markdown; charset=utf-8"
    )
    name = f"minutes-{meeting.assembly.slug}-{meeting.pk}.md"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
