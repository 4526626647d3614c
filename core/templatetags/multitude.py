from django import template
from django.utils.translation import pgettext

register = template.Library()


@register.filter
def percent_of(part: int, whole: int) -> int:
    """Whole-number share for bar widths; 0 when there is nothing to divide."""
    return round(100 * part / whole) if whole else 0


@register.simple_tag
def colon() -> str:
    """The colon between a label and its value, as the reader's language writes it: French
    puts a no-break space before it ("Phase : appel"), English and Spanish do not."""
    return pgettext("the colon between a label and its value", ":")
