"""`services.take_positions`: many members' positions in one transaction, with the same
invariants as `take_position`, and each refusal reported for its own position alone."""

from collections import Counter

import pytest
from django.db import connection

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import chain
from proposals import services as proposal_services
from proposals.models import Position
from proposals.services import PositionRequest
from tests.proposals.test_concurrency import KINDS, _errors, _new_call, run_together


def req(*, actor, proposal, kind, reason="", request_id=""):
    """A request as an edge makes it: ids, and the assembly the edge resolved."""
    return PositionRequest(
        member_id=actor.pk,
        assembly_id=proposal.assembly_id,
        proposal_id=proposal.pk,
        kind=kind,
        reason=reason,
        request_id=request_id,
    )


pytestmark = pytest.mark.django_db


def batch(*requests):
    return proposal_services.take_positions(list(requests))


def test_it_writes_every_position_and_keeps_one_current_per_member(open_call, make_member):
    members = [make_member() for _ in range(5)]
    first = batch(*(req(actor=m, proposal=open_call, kind="agree") for m in members))
    assert all(isinstance(p, Position) and p.pk for p in first)
    second = batch(
        req(actor=members[0], proposal=open_call, kind="block", reason="No."),
        req(actor=members[1], proposal=open_call, kind="stand_aside", reason="Meh."),
    )
    assert [p.kind for p in second] == ["block", "stand_aside"]
    current = Position.objects.filter(proposal=open_call, is_current=True)
    assert current.count() == 5
    assert Counter(current.values_list("kind", flat=True)) == {
        "agree": 3,
        "block": 1,
        "stand_aside": 1,
    }
    assert Position.objects.filter(proposal=open_call).count() == 7  # append-only history


def test_it_applies_several_statements_of_one_member_in_order(open_call, participant):
    results = batch(
        req(actor=participant, proposal=open_call, kind="agree"),
        req(actor=participant, proposal=open_call, kind="block", reason="No."),
    )
    assert all(isinstance(p, Position) for p in results)
    current = Position.objects.get(proposal=open_call, member=participant, is_current=True)
    assert current.pk == results[1].pk and current.kind == "block"


def test_it_applies_a_request_id_once_within_a_batch_and_across_batches(open_call, participant):
    request = req(actor=participant, proposal=open_call, kind="agree", request_id="r1")
    first, again = batch(request, request)
    assert first.pk == again.pk
    (retry,) = batch(request)
    assert retry.pk == first.pk
    assert Position.objects.filter(member=participant, proposal=open_call).count() == 1
    # The single-position path sees the same request id.
    assert (
        proposal_services.take_position(
            actor=participant, proposal=open_call, kind="agree", request_id="r1"
        ).pk
        == first.pk
    )


def test_it_reports_each_refusal_for_its_own_position(
    open_call, proposal, facilitator, participant, observer, outsider, make_member
):
    other = _new_call(facilitator, "Other call")
    reused = make_member()
    batch(req(actor=reused, proposal=other, kind="agree", request_id="same"))
    ok = make_member()
    results = batch(
        req(actor=participant, proposal=open_call, kind="block"),  # no reason
        req(actor=observer, proposal=open_call, kind="agree"),
        req(actor=outsider, proposal=open_call, kind="agree"),
        req(actor=ok, proposal=open_call, kind="maybe"),
        req(actor=ok, proposal=open_call, kind="agree", reason="x" * 5001),
        req(actor=reused, proposal=open_call, kind="agree", request_id="same"),
        req(actor=ok, proposal=open_call, kind="agree"),
    )
    codes = [r.code if isinstance(r, DomainError) else "ok" for r in results]
    assert codes == [
        "reason_required",
        "observer",
        "proposal_not_found",
        "invalid_kind",
        "reason_too_long",
        "request_id_reused",
        "ok",
    ]
    assert isinstance(results[1], PermissionDenied)
    assert isinstance(results[2], NotFound)
    assert isinstance(results[5], Conflict)
    assert list(Position.objects.filter(proposal=open_call).values_list("member", flat=True)) == [
        ok.pk
    ]


def test_it_refuses_positions_outside_the_call(proposal, participant, make_member):
    results = batch(
        req(actor=participant, proposal=proposal, kind="agree"),
        req(actor=make_member(), proposal=proposal, kind="agree"),
    )
    assert [r.code for r in results] == ["call_not_open", "call_not_open"]
    assert not Position.objects.filter(proposal=proposal).exists()


def test_it_announces_the_change_once_per_proposal_after_commit(
    open_call, make_member, django_capture_on_commit_callbacks
):
    members = [make_member() for _ in range(4)]
    with django_capture_on_commit_callbacks() as callbacks:
        batch(*(req(actor=m, proposal=open_call, kind="agree") for m in members))
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks need PostgreSQL")
@pytest.mark.parametrize("size", [1, 10])
def test_a_batch_racing_a_close_is_wholly_in_the_decision_or_refused(
    assembly, facilitator, make_member, size
):
    members = [make_member() for _ in range(30)]
    proposal = _new_call(facilitator, "Night watch")
    kind_of = {member.pk: KINDS[n % 3] for n, member in enumerate(members)}
    groups = [members[i : i + size] for i in range(0, len(members), size)]

    def batch_of(group):
        return lambda: batch(
            *(
                req(
                    actor=m,
                    proposal=proposal,
                    kind=kind_of[m.pk][0],
                    reason=kind_of[m.pk][1],
                )
                for m in group
            )
        )

    def close():
        return proposal_services.close_call(actor=facilitator, proposal=proposal)

    results = run_together([close, *(batch_of(group) for group in groups)])
    status, decision = results[0]
    assert status == "ok", decision
    assert not _errors(results[1:]), "a batch failed as a whole"
    taken, refused = [], []
    for _status, outcome in results[1:]:
        kinds = {isinstance(r, Position) for r in outcome}
        assert len(kinds) == 1, "a batch was split by the close"
        for r in outcome:
            (taken if isinstance(r, Position) else refused).append(r)
    assert len(taken) + len(refused) == 30
    assert {(type(e), e.code) for e in refused} <= {(Conflict, "call_not_open")}
    decision.refresh_from_db()
    recorded = {p["member_id"]: (p["kind"], p["reason"]) for p in decision.record["positions"]}
    assert recorded == {p.member_id: kind_of[p.member_id] for p in taken}
    assert sum(decision.counts.values()) == len(taken)
    assert Position.objects.filter(proposal=proposal).count() == len(taken)
    assert chain.verify_assembly(assembly) is None
