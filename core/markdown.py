"""Markdown for proposal texts, comments and descriptions: GitHub-flavoured CommonMark
(cmark-gfm, in C and linear in the input), sanitised by an allow-list (nh3).

Rendered once, when a text is written; the HTML is stored beside the text. The sanitiser
slows down on very deep trees, so output nested deeper than `MAX_DEPTH` (500 quotes inside
each other, say) is shown as the plain text it was written as: nobody writes that to be
read, and the page stays fast. `bench/markdown_adversarial.py` measures the worst inputs.
"""

import html
import re

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
# Built once: the allow-list is compiled with it, not again for every text.
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow noopener noreferrer",
)
MAX_DEPTH = 32
# The only elements cmark nests without bound (quotes, lists, emphasis); its output is
# lowercase, and tables, links and code cannot nest, so they need no look.
_NESTING = re.compile(r"<(/?)(?:blockquote|ul|ol|li|em|strong|del)[ >]")


def _too_deep(markup: str) -> bool:
    depth = 0
    for match in _NESTING.finditer(markup):  # stops at the first level too deep
        depth += -1 if match.group(1) else 1
        if depth > MAX_DEPTH:
            return True
    return False


def _as_plain_text(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in paragraphs
    )


def render_markdown(text: str) -> SafeString:
    """Sanitised HTML for a Markdown text (raw HTML in it is dropped, then allow-listed)."""
    markup = cmarkgfm.github_flavored_markdown_to_html(
        text or "", options=Options.CMARK_OPT_VALIDATE_UTF8
    )
    if _too_deep(markup):
        markup = _as_plain_text(text or "")
    return mark_safe(_CLEANER.clean(markup))
