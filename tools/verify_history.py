#!/usr/bin/env python3
"""Verify a Multitude history.json offline: standard library only, no Django, any Python 3.8+.

    python3 verify_history.py liberty-square-history.json
    python3 verify_history.py history.json --expect-head 27920516e4...   # also pin the end

Recomputes the digest chain of every decision,

    digest = sha256( previous_digest + canonical_json(record) )   (hex; the first chains
                                                                    from 64 zeros)

and checks each record's sequence and assembly, and that the proposal as the database showed
it at export ("proposal_now": title, decided text, rule, phase) is what was decided. Exits
0 when the history is intact, 1 naming the first record that does not match, 2 when the
file cannot be read. The algorithm is described in docs/history-verification.md of the
Multitude repository; the two functions below, and `decided_text_changed`, are the same as
in its proposals/history.py (a test keeps them identical).
"""

import argparse
import hashlib
import json
import sys

GENESIS = "0" * 64


def canonical_json(record):
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_digest(previous_digest, record):
    return hashlib.sha256(previous_digest.encode("ascii") + canonical_json(record)).hexdigest()


def first_problem(document):
    """(label, reason) of the first record that does not match, or None when intact."""
    slug = (document.get("assembly") or {}).get("slug")
    decisions = document.get("decisions")
    if not isinstance(decisions, list):
        return "the file", "it has no list of decisions"
    expected_previous = GENESIS
    for position, entry in enumerate(decisions, start=1):
        label = f"decision #{entry.get('sequence', position)} (id {entry.get('id', '?')})"
        record = entry.get("record")
        if not isinstance(record, dict):
            return label, "it has no record"
        if entry.get("previous_digest") != expected_previous:
            return label, "previous digest does not match the chain"
        try:
            digest = compute_digest(entry["previous_digest"], record)
        except (TypeError, ValueError) as error:
            return label, f"its record cannot be encoded canonically ({error})"
        if digest != entry.get("digest"):
            return label, "digest does not match its record"
        if record.get("sequence") != position or entry.get("sequence") != position:
            return label, f"sequence should be {position}: a record is missing or out of order"
        if slug is not None and record.get("assembly") != slug:
            return label, f"the record belongs to assembly {record.get('assembly')!r}, not {slug!r}"
        changed = decided_text_changed(entry, record)
        if changed:
            return label, changed
        expected_previous = digest
    return None


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


def head_digest(document):
    decisions = document.get("decisions") or []
    return decisions[-1]["digest"] if decisions else GENESIS


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a Multitude history.json offline.")
    parser.add_argument("file", help="the downloaded history.json")
    parser.add_argument(
        "--expect-head",
        metavar="DIGEST",
        help="the digest of the last decision, as published elsewhere (detects truncation)",
    )
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        print(f"Cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    if not isinstance(document, dict):
        print(f"{args.file} is not a Multitude history (no JSON object).", file=sys.stderr)
        return 2
    problem = first_problem(document)
    if problem is not None:
        label, reason = problem
        print(f"History broken at {label}: {reason}.", file=sys.stderr)
        return 1
    head = head_digest(document)
    if args.expect_head and args.expect_head != head:
        print(f"History broken: it ends at {head}, not at {args.expect_head}.", file=sys.stderr)
        return 1
    slug = (document.get("assembly") or {}).get("slug", "?")
    count = len(document["decisions"])
    print(f"History intact: {count} decisions of assembly '{slug}' verified; last digest {head}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
