from django import template

register = template.Library()


@register.filter
def percent_of(part: int, whole: int) -> int:
    """Whole-number share for bar widths; 0 when there is nothing to divide."""
    return round(100 * part / whole) if whole else 0
