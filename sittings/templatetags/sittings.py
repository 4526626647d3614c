"""`{% sitting_panel %}`: the floor of the sitting in session, on any page of an assembly.

The pages below this app (the proposal page) show the panel without importing the live
layer: the template asks for it, and the view has already authorised `assembly`.
"""

from django import template

from assemblies.models import Meeting, MeetingState, StackKind
from sittings import live

register = template.Library()


@register.inclusion_tag("sittings/includes/sitting_panel.html", takes_context=True)
def sitting_panel(context):
    assembly = context["assembly"]
    return {
        "assembly": assembly,
        "member": context.get("member"),
        "sitting": live.sitting_for(assembly.pk),
    }


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
