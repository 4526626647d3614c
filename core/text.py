"""What people type, checked for what cannot be stored or shown honestly (no Django here).

Names and titles identify people and proposals in tallies and minutes, so they may not hide
(only invisible characters), reverse the line around them (bidirectional controls) or
smear over their neighbours (piles of combining marks). Texts keep their line breaks and
tabs; control characters and broken text (lone surrogates) are refused everywhere.
"""

import unicodedata

# Characters that reorder the text around them: a "Rosa" that reads "asoR (facilitator)".
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Letters that render as nothing (Hangul fillers).
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# Joiners that some scripts need inside words (Persian, Indic, emoji sequences).
JOINERS = frozenset("\u200c\u200d")
MAX_MARKS_IN_A_ROW = 4


def _category(char: str) -> str:
    return unicodedata.category(char)


def has_control(value: str, *, keep_line_breaks: bool) -> bool:
    """A control character (NUL, ESC, …) or a lone surrogate; line breaks and tabs may stay."""
    allowed = "\n\r\t" if keep_line_breaks else ""
    return any(
        _category(char) == "Cs" or (_category(char) == "Cc" and char not in allowed)
        for char in value
    )


def is_visible(char: str) -> bool:
    return _category(char) not in {"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Mn", "Me", "Co", "Cn"} and (
        char not in BLANK_LETTERS
    )


def has_visible(value: str) -> bool:
    return any(is_visible(char) for char in value)


def deceives(value: str) -> bool:
    """A name or title that hides or disguises itself: invisible formatting characters
    (other than joiners), bidirectional controls, or more than a few marks in a row."""
    marks = 0
    for char in value:
        if char in BIDI_CONTROLS or (_category(char) == "Cf" and char not in JOINERS):
            return True
        marks = marks + 1 if _category(char) in {"Mn", "Me"} else 0
        if marks > MAX_MARKS_IN_A_ROW:
            return True
    return not has_visible(value)
