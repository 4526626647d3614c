"""Django-side verification of an assembly's history: the digest chain and the rows around it.

`history` checks that each record is chained and unaltered. This module also checks what
the records speak about: each decision's stored columns agree with its record, and the
positions still current in the database are the ones the record names. Tampering that
bypasses the PostgreSQL triggers (a superuser disabling them) is therefore reported too.
"""

from collections.abc import Iterator

from django.db.models import Prefetch

from assemblies.models import Assembly
from proposals import history
from proposals.history import ChainLink, ChainProblem
from proposals.models import FINAL_PHASES, Decision, Position, Proposal, Revision


def label_for(decision: Decision, assembly: Assembly) -> str:
    return f"decision #{decision.sequence} (id {decision.pk}) of assembly '{assembly.slug}'"


def _decisions(assembly: Assembly):
    current = Position.objects.filter(is_current=True).order_by("member_id", "id")
    return (
        Decision.objects.filter(assembly=assembly)
        .select_related("proposal")
        .prefetch_related(
            Prefetch("proposal__positions", current, to_attr="current_positions"),
            Prefetch("proposal__revisions", Revision.objects.only("proposal_id", "number", "text")),
        )
        .order_by("sequence")
    )


def _link(decision: Decision, assembly: Assembly) -> ChainLink:
    return ChainLink(
        label=label_for(decision, assembly),
        record=decision.record,
        previous_digest=decision.previous_digest,
        digest=decision.digest,
    )


def links_for(assembly: Assembly) -> Iterator[ChainLink]:
    """Each decision of the assembly as a chain link, in the order of the chain."""
    for decision in Decision.objects.filter(assembly=assembly).order_by("sequence"):
        yield _link(decision, assembly)


def _field_mismatch(decision: Decision, expected_sequence: int, slug: str) -> str | None:
    record = decision.record if isinstance(decision.record, dict) else {}
    proposal = record.get("proposal") or {}
    checks = [
        ("sequence", decision.sequence, expected_sequence),
        ("sequence", decision.sequence, record.get("sequence")),
        ("assembly", slug, record.get("assembly")),
        ("proposal", decision.proposal_id, proposal.get("id")),
        ("revision", decision.revision_number, proposal.get("revision")),
        ("outcome", decision.outcome, record.get("outcome")),
        ("counts", decision.counts, record.get("counts")),
        ("rule", decision.rule, record.get("rule")),
    ]
    for name, stored, recorded in checks:
        if stored != recorded:
            return f"stored {name} {stored!r} does not match the record ({recorded!r})"
    return None


def decided_state(proposal: Proposal, revision_number: int) -> dict:
    """What a decision rests on, as the proposal's rows say now (compared with its record)."""
    texts = {revision.number: revision.text for revision in proposal.revisions.all()}
    return {
        "title": proposal.title,
        "text": texts.get(revision_number),
        "revision": proposal.revision_number,
        "rule": proposal.rule,
        "phase": proposal.phase,
    }


def _proposal_mismatch(decision: Decision) -> str | None:
    """The proposal's rows must still say what the record says: title, text, rule, phase."""
    entry = {"proposal_now": decided_state(decision.proposal, decision.revision_number)}
    record = decision.record if isinstance(decision.record, dict) else {}
    return history.decided_text_changed(entry, record)


def _position_key(member_id, kind, reason, revision) -> tuple:
    return (member_id, kind, reason, revision)


def _positions_mismatch(decision: Decision) -> str | None:
    stored = sorted(
        _position_key(p.member_id, p.kind, p.reason, p.revision_number)
        for p in decision.proposal.current_positions
    )
    recorded = sorted(
        _position_key(p.get("member_id"), p.get("kind"), p.get("reason"), p.get("revision"))
        for p in (decision.record or {}).get("positions", [])
    )
    if stored != recorded:
        return "the positions in the database do not match the positions in the record"
    return None


def _undecided_final_proposals(assembly: Assembly) -> list[int]:
    """Proposals that say they are decided or withdrawn but have no decision (one deleted)."""
    final = assembly.proposals.filter(phase__in=FINAL_PHASES, decision__isnull=True)
    return list(final.order_by("pk").values_list("pk", flat=True))


def verify_assembly(assembly: Assembly) -> ChainProblem | None:
    """The first bad record of the assembly's history, or None when it is intact."""
    decisions = list(_decisions(assembly))
    broken = history.first_broken_link(_link(d, assembly) for d in decisions)
    for expected_sequence, decision in enumerate(decisions, start=1):
        label = label_for(decision, assembly)
        if broken is not None and broken.label == label:
            return broken
        reason = _field_mismatch(decision, expected_sequence, assembly.slug)
        reason = reason or _proposal_mismatch(decision) or _positions_mismatch(decision)
        if reason:
            return ChainProblem(label, reason)
    missing = _undecided_final_proposals(assembly)
    if missing:
        reason = f"proposal {missing[0]} is decided or withdrawn but has no decision"
        return ChainProblem(f"history of assembly '{assembly.slug}'", reason)
    return None


def verify_all() -> list[ChainProblem]:
    """The first bad record of each assembly whose history is not intact."""
    problems = (verify_assembly(assembly) for assembly in Assembly.objects.order_by("slug"))
    return [problem for problem in problems if problem is not None]
