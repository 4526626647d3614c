"""The digest chain of decisions: pure functions, no Django, shared by the app and verifiers.

digest(n) = sha256( digest(n-1) + canonical_json(record(n)) ), hex-encoded, per assembly;
the first decision of an assembly chains from GENESIS (64 zeros). `canonical_json` is JSON
with sorted keys, no insignificant whitespace and UTF-8 kept as is, so any language can
recompute it.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64


def canonical_json(record: dict) -> bytes:
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_digest(previous_digest: str, record: dict) -> str:
    return hashlib.sha256(previous_digest.encode("ascii") + canonical_json(record)).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One decision as stored: what the verifier needs to recompute the chain."""

    label: str
    record: dict
    previous_digest: str
    digest: str


@dataclass(frozen=True)
class ChainProblem:
    label: str
    reason: str

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}"


def first_broken_link(links: Iterable[ChainLink]) -> ChainProblem | None:
    """Walk the chain in order and name the first record that does not match, if any."""
    expected_previous = GENESIS
    for link in links:
        if link.previous_digest != expected_previous:
            return ChainProblem(link.label, "previous digest does not match the chain")
        if compute_digest(link.previous_digest, link.record) != link.digest:
            return ChainProblem(link.label, "digest does not match its record")
        expected_previous = link.digest
    return None


def timestamp(value: datetime) -> str:
    """The one time format of the history: UTC, ISO 8601, microseconds."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def decision_record(
    *,
    assembly: str,
    sequence: int,
    proposal: dict,
    outcome: str,
    rule: dict | None,
    counts: dict,
    positions: Iterable[dict],
    closed_by: dict | None,
    decided_at: datetime,
) -> dict:
    """The canonical content of a decision, covered by its digest (docs/history.md).

    `proposal` is {"id", "title", "revision", "text"}; each position is {"member_id",
    "member", "kind", "reason", "revision", "taken_at"} with `taken_at` a datetime.
    """
    return {
        "assembly": assembly,
        "sequence": sequence,
        "proposal": proposal,
        "outcome": str(outcome),
        "rule": rule,
        "counts": counts,
        "positions": [{**p, "taken_at": timestamp(p["taken_at"])} for p in positions],
        "closed_by": closed_by,
        "decided_at": timestamp(decided_at),
    }


def decided_text_changed(entry, record):
    """What the proposal's rows said ("proposal_now") against what its record decided."""
    now = entry.get("proposal_now")
    if not isinstance(now, dict):
        return None  # a history exported before this check existed
    decided = record.get("proposal") or {}
    withdrawn = record.get("outcome") == "withdrawn"
    checks = [
        ("title", now.get("title"), decided.get("title")),
        ("text", now.get("text"), decided.get("text")),
        ("current revision", now.get("revision"), decided.get("revision")),
        ("rule", now.get("rule"), record.get("rule")),
        ("phase", now.get("phase"), "withdrawn" if withdrawn else "decided"),
    ]
    for name, current, expected in checks:
        if current != expected:
            return f"the proposal's {name} {current!r} differs from what was decided ({expected!r})"
    return None
