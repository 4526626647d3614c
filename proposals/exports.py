"""Exports of an assembly's decisions: CSV, the verifiable history JSON and Popolo JSON.

An exporter yields rows (or JSON items) from a queryset the caller has already limited to
what the person may see; one renderer streams them, so memory stays constant whatever the
size of the history (`.iterator(chunk_size=...)` reads through a server-side cursor).
"""

import base64
import csv
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence

from django.db.models import OuterRef, Subquery
from django.http import StreamingHttpResponse
from django.utils import timezone, translation

from assemblies import rules
from assemblies.rule_text import describe_rule
from proposals import history, signing, transparency
from proposals.models import Decision, Outcome, Position, Revision

CHUNK_SIZE = 2000
# Rows gathered into one chunk of the response: fewer, larger writes to the socket.
ROWS_PER_CHUNK = 500

HISTORY_FORMAT = "multitude-history"
HISTORY_VERSION = 1


def _iso(value) -> str | None:
    return history.timestamp(value) if value else None


# --- CSV ------------------------------------------------------------------------------------

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """People's words never run as spreadsheet formulas: a leading =, +, -, @ gets a quote."""
    return "'" + text if text and text.startswith(_FORMULA_PREFIXES) else text


class Exporter(ABC):
    """Yields the rows of one CSV file; `header` names its columns."""

    filename = "export.csv"
    header: Sequence[str] = ()

    @abstractmethod
    def rows(self) -> Iterator[Sequence]:
        """The data rows, in order, as sequences matching `header`."""


class DecisionsExporter(Exporter):
    header = (
        "sequence",
        "decision_id",
        "proposal_id",
        "title",
        "outcome",
        "passed",
        "agree",
        "stand_aside",
        "block",
        "revision",
        "rule",
        "closed_by",
        "decided_at",
        "previous_digest",
        "digest",
        "hall_agree",
        "hall_stand_aside",
        "hall_block",
    )

    def __init__(self, decisions, *, slug: str):
        self.decisions = decisions
        self.filename = f"{slug}-decisions.csv"

    def rows(self):
        columns = (
            "sequence",
            "pk",
            "proposal_id",
            "proposal__title",
            "outcome",
            "agree_count",
            "stand_aside_count",
            "block_count",
            "revision_number",
            "rule",
            "closed_by__display_name",
            "decided_at",
            "previous_digest",
            "digest",
            "hall_counts",
        )
        queryset = self.decisions.order_by("sequence").values_list(*columns)
        for row in queryset.iterator(chunk_size=CHUNK_SIZE):
            (seq, pk, proposal_id, title, outcome, agree, stand_aside, block, revision) = row[:9]
            rule, closed_by, decided_at, previous_digest, digest, hall = row[9:]
            # The hall's share when it was counted (the counts are online + hall), else blank.
            hall_figures = [hall[kind] for kind in rules.PositionKind] if hall else ["", "", ""]
            yield (
                seq,
                pk,
                proposal_id,
                spreadsheet_safe(title),
                outcome,
                "yes" if rules.Outcome(outcome).passed else "no",
                agree,
                stand_aside,
                block,
                revision,
                rule_label(rule),
                spreadsheet_safe(closed_by or ""),
                _iso(decided_at),
                previous_digest,
                digest,
                *hall_figures,
            )


def _in_english(rule: rules.DecisionRule) -> str:
    """Exports are data: the same words whatever language the downloader reads."""
    with translation.override("en"):
        return describe_rule(rule)


def rule_label(rule: dict | None) -> str:
    if not rule:
        return ""
    parsed = rules.DecisionRule.from_dict(rule)
    return parsed.preset if parsed.matches_preset else _in_english(parsed)


class PositionsExporter(Exporter):
    """Every position statement on the assembly's decided (or withdrawn) proposals.

    `current` is true for the statements the decision counted; earlier statements of the
    same member are kept in the history and exported with `current` false.
    """

    header = (
        "decision_sequence",
        "decision_id",
        "proposal_id",
        "title",
        "outcome",
        "position_id",
        "member_id",
        "member",
        "kind",
        "reason",
        "revision",
        "current",
        "taken_at",
        "stated_by",
    )

    def __init__(self, assembly):
        self.assembly = assembly
        self.filename = f"{assembly.slug}-positions.csv"

    def rows(self):
        positions = (
            Position.objects.filter(
                proposal__assembly=self.assembly, proposal__decision__isnull=False
            )
            .order_by("proposal__decision__sequence", "member_id", "id")
            .values_list(
                "proposal__decision__sequence",
                "proposal__decision__id",
                "proposal_id",
                "proposal__title",
                "proposal__decision__outcome",
                "pk",
                "member_id",
                "member__display_name",
                "kind",
                "reason",
                "revision_number",
                "is_current",
                "created_at",
                "stated_by__display_name",
            )
        )
        for row in positions.iterator(chunk_size=CHUNK_SIZE):
            (seq, decision_id, proposal_id, title, outcome, pk, member_id, member) = row[:8]
            kind, reason, revision, current, taken_at, stated_by = row[8:]
            yield (
                seq,
                decision_id,
                proposal_id,
                spreadsheet_safe(title),
                outcome,
                pk,
                member_id,
                spreadsheet_safe(member),
                kind,
                spreadsheet_safe(reason),
                revision,
                "yes" if current else "no",
                _iso(taken_at),
                spreadsheet_safe(stated_by or ""),  # the proxy holder who stated it, if any
            )


class _Echo:
    """A file-like object whose write hands the line back, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def _csv_chunks(exporter: Exporter) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(exporter.header)
    chunk: list[str] = []
    for row in exporter.rows():
        chunk.append(writer.writerow(row))
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk.clear()
    if chunk:
        yield "".join(chunk)


def csv_response(exporter: Exporter) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_chunks(exporter), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exporter.filename}"'
    return response


# --- JSON -----------------------------------------------------------------------------------


def _json_chunks(head: dict, key: str, items: Iterable[dict]) -> Iterator[str]:
    """`{...head, key: [items...]}` written piece by piece; one item in memory at a time."""
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    yield f"{opening}{', ' if head else ''}{json.dumps(key)}: ["
    chunk: list[str] = []
    first = True
    for item in items:
        chunk.append(("" if first else ",\n") + json.dumps(item, ensure_ascii=False))
        first = False
        if len(chunk) >= ROWS_PER_CHUNK // 10:
            yield "".join(chunk)
            chunk.clear()
    yield "".join(chunk) + "]}\n"


def json_response(head: dict, key: str, items: Iterable[dict], filename: str):
    response = StreamingHttpResponse(
        _json_chunks(head, key, items), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def history_document(assembly) -> tuple[dict, Iterator[dict]]:
    """The head of history.json and its decisions: exactly what recomputing the chain needs.

    The tree head is read before the decisions, so it covers them all unless a decision was
    closed while the file was written (the verifier says so; a new download settles it).
    """
    tree_head = transparency.latest_head(assembly)
    head = {
        "format": HISTORY_FORMAT,
        "version": HISTORY_VERSION,
        "assembly": {"slug": assembly.slug, "name": assembly.name},
        "generated_at": _iso(timezone.now()),
        "algorithm": {
            "digest": "sha256(previous_digest + canonical_json(record)), hex",
            "genesis": history.GENESIS,
            "canonical_json": "sorted keys, separators ',' and ':', UTF-8, no NaN",
            "merkle": "RFC 9162; leaf = canonical_json({digest, record}) of each decision",
            "signature": "Ed25519 over b'multitude-tree-head:v1\\n' + canonical_json(head "
            "without signature and format)",
            "documentation": "docs/history-verification.md",
        },
        "tree_head": transparency.head_document(tree_head, assembly.slug) if tree_head else None,
        "public_key": {
            "key_id": signing.key_id(),
            "public_key": base64.b64encode(signing.public_key_bytes()).decode("ascii"),
        },
    }
    return head, _history_items(assembly)


def _history_items(assembly) -> Iterator[dict]:
    decided_text = Revision.objects.filter(
        proposal_id=OuterRef("proposal_id"), number=OuterRef("revision_number")
    ).values("text")[:1]
    decisions = (
        Decision.objects.filter(assembly=assembly)
        .order_by("sequence")
        .annotate(decided_text=Subquery(decided_text))
        .values_list(
            "pk",
            "sequence",
            "previous_digest",
            "digest",
            "record",
            "proposal__title",
            "decided_text",
            "proposal__revision_number",
            "proposal__rule",
            "proposal__phase",
        )
    )
    for row in decisions.iterator(chunk_size=200):
        pk, sequence, previous_digest, digest, record, *now = row
        yield {
            "id": pk,
            "sequence": sequence,
            "previous_digest": previous_digest,
            "digest": digest,
            "record": record,
            # What the proposal's rows say now: a verifier compares it with the record, so
            # decided text changed behind the chain's back is named too.
            "proposal_now": dict(
                zip(("title", "text", "revision", "rule", "phase"), now, strict=True)
            ),
        }


# --- Popolo ---------------------------------------------------------------------------------
# Popolo's vocabulary is a legislature's; the mapping is documented in docs/api.md.
POPOLO_OPTIONS = {"agree": "yes", "stand_aside": "abstain", "block": "no"}


def popolo_result(outcome: str) -> str:
    if outcome == Outcome.WITHDRAWN:
        return "withdrawn"
    return "pass" if rules.Outcome(outcome).passed else "fail"


def popolo_document(assembly, *, base_url: str) -> tuple[dict, Iterator[dict]]:
    """A Popolo Organization (the assembly) whose `motions` are its decided proposals."""
    org_id = f"{base_url}/a/{assembly.slug}/"
    head = {
        "id": org_id,
        "name": assembly.name,
        "classification": "general assembly",
        "description": assembly.description or None,
    }
    return head, _popolo_motions(assembly, org_id)


def _popolo_motions(assembly, org_id: str) -> Iterator[dict]:
    decisions = (
        Decision.objects.filter(assembly=assembly)
        .order_by("sequence")
        .values_list(
            "pk",
            "sequence",
            "outcome",
            "digest",
            "decided_at",
            "record",
            "proposal__author_id",
            "proposal__created_at",
            "proposal__call_opened_at",
        )
    )
    for row in decisions.iterator(chunk_size=200):
        pk, sequence, outcome, digest, decided_at, record, author_id, created_at, opened = row
        proposal = record["proposal"]
        motion_id = f"{org_id}p/{proposal['id']}/"
        rule = record.get("rule")
        motion = {
            "id": motion_id,
            "organization_id": org_id,
            "creator_id": f"{org_id}members/{author_id}",
            "title": proposal["title"],
            "text": proposal["text"],
            "identifier": str(sequence),
            "classification": "proposal",
            "date": _iso(created_at),
            "requirement": _in_english(rules.DecisionRule.from_dict(rule)) if rule else None,
            "result": popolo_result(outcome),
            "vote_events": [],
        }
        if outcome != Outcome.WITHDRAWN:
            motion["vote_events"].append(
                _popolo_vote_event(pk, org_id, motion_id, record, opened, decided_at, digest)
            )
        yield motion


def _popolo_hall_groups(record: dict) -> list[dict]:
    """With a hall count, the counts again as two Popolo groups, "online" and "hall" (their
    sum is the ungrouped counts above, which the rule applied to)."""
    hall = record.get("hall")
    if not hall:
        return []
    parts = {"online": record["online_counts"], "hall": hall["counts"]}
    return [
        {
            "option": option,
            "value": figures[kind],
            "group_id": name,
            "group": {"id": name, "name": name},
        }
        for name, figures in parts.items()
        for kind, option in POPOLO_OPTIONS.items()
    ]


def _popolo_vote_event(pk, org_id, motion_id, record, opened, decided_at, digest) -> dict:
    event_id = f"{org_id}decisions/{pk}"
    counts = record["counts"]
    return {
        "id": event_id,
        "organization_id": org_id,
        "motion_id": motion_id,
        "identifier": str(record["sequence"]),
        "classification": "call for consensus",
        "start_date": _iso(opened),
        "end_date": _iso(decided_at),
        "result": popolo_result(record["outcome"]),
        "outcome": record["outcome"],
        "digest": digest,
        "counts": [
            {"option": option, "value": counts[kind]} for kind, option in POPOLO_OPTIONS.items()
        ]
        + _popolo_hall_groups(record),
        "votes": [
            {
                "vote_event_id": event_id,
                "voter_id": f"{org_id}members/{position['member_id']}",
                "voter": {
                    "id": f"{org_id}members/{position['member_id']}",
                    "name": position["member"],
                },
                "option": POPOLO_OPTIONS[position["kind"]],
                "reason": position["reason"] or None,
                **_popolo_proxy(org_id, position),
            }
            for position in record["positions"]
        ],
    }


def _popolo_proxy(org_id: str, position: dict) -> dict:
    """A position stated with a proxy: the voter is the giver, her proxy the one who spoke."""
    stated_by = position.get("stated_by")
    if not isinstance(stated_by, dict):
        return {}
    holder = {"id": f"{org_id}members/{stated_by['member_id']}", "name": stated_by["member"]}
    return {"role": "represented by proxy", "proxy_holder": holder}
