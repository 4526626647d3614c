from django import template

from core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.filter
def percent_of(part: int, whole: int) -> int:
    """Whole-number share for bar widths; 0 when there is nothing to divide."""
    return round(100 * part / whole) if whole else 0
