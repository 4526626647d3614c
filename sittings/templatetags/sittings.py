"""`{% sitting_panel %}` and `{% facilitation_panel %}`: the sitting in session, on any page.

The pages below this app (the proposal page) show the panel without importing the live
layer: the template asks for it, and the view has already authorised `assembly`.
"""

import math
from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.translation import ngettext

from assemblies.models import Meeting, MeetingState, StackKind
from sittings import live, stand_in

register = template.Library()


@register.inclusion_tag("sittings/includes/sitting_panel.html", takes_context=True)
def sitting_panel(context):
    assembly = context["assembly"]
    return {
        "assembly": assembly,
        "member": context.get("member"),
        "sitting": live.sitting_for(assembly.pk),
    }


@register.inclusion_tag("sittings/includes/facilitation.html", takes_context=True)
def facilitation_panel(context, projector=False):
    """Who facilitates the sitting in session, and the question put to the members present."""
    assembly, member = context["assembly"], context.get("member")
    meeting = Meeting.objects.filter(assembly=assembly, state=MeetingState.IN_SESSION).first()
    found = stand_in.facilitation_of(meeting) if meeting else None
    state = live.facilitation_json(found) if found else None
    consent = state and state["consent"]
    facilitators = found["facilitators"] if found else []
    return {
        "assembly": assembly,
        "member": member,
        "meeting": meeting,
        "facilitation": state,
        "consent": consent,
        "seconds_left": _seconds_left(consent["closes_at"]) if consent else None,
        "facilitators": facilitators,
        "step_aside_choices": [f for f in facilitators if member is None or f.pk != member.pk],
        # Back to the page itself after a form post, never to one of its live parts.
        "next": context["request"].path if "request" in context else "",
        "projector": projector,
        "away_for": _duration(settings.FACILITATOR_AWAY_SECONDS),
        "consent_window": _duration(settings.QUICK_CONSENT_SECONDS),
    }


def _duration(seconds: float) -> str:
    """“2 minutes”, “1 minute”, “45 seconds”, in the reader's language."""
    seconds = round(seconds)
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


def _seconds_left(iso: str) -> int:
    return max(0, math.ceil((datetime.fromisoformat(iso) - timezone.now()).total_seconds()))


@register.inclusion_tag("sittings/includes/floor_notice.html", takes_context=True)
def floor_notice(context):
    """Tells a page about another proposal than the one on the floor where the floor is."""
    assembly, here = context["assembly"], context.get("proposal")
    meeting = (
        Meeting.objects.filter(assembly=assembly, state=MeetingState.IN_SESSION)
        .select_related("current_proposal")
        .first()
    )
    on_floor = meeting.current_proposal if meeting else None
    elsewhere = on_floor is not None and (here is None or on_floor.pk != here.pk)
    return {"on_floor": on_floor if elsewhere else None, "meeting": meeting}


@register.filter
def clock(seconds) -> str:
    """Seconds left as m:ss (a dash when no timer runs), as the live client shows them."""
    if seconds is None or seconds == "":
        return "\u2013"
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.filter
def stack_kind(kind: str) -> str:
    """A stack entry's kind in the reader's language."""
    return dict(StackKind.choices).get(kind, kind)
