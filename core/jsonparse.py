"""JSON from strangers, parsed with a bounded nesting depth.

Python's `json` recurses once per nesting level, so a few kilobytes of `[[[[…` raise
`RecursionError` (a crash, not a refusal). Everything that reads client JSON checks the
depth first, in one linear pass that skips over strings, and refuses deeper documents.
"""

import json
import re

MAX_DEPTH = 32
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """The document nests deeper than allowed."""


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                raise TooDeep(f"JSON nested deeper than {limit} levels")
        elif token in "]}":
            depth -= 1


def loads(raw: str | bytes, limit: int = MAX_DEPTH):
    """`json.loads` that raises ValueError (never RecursionError) for hostile input."""
    text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    check_depth(text, limit)
    return json.loads(text)
