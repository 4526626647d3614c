"""`{% sitting_panel %}`: the floor of the sitting in session, on any page of an assembly.

The pages below this app (the proposal page) show the panel without importing the live
layer: the template asks for it, and the view has already authorised `assembly`.
"""

from django import template

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
