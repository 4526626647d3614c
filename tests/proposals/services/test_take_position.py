"""proposals.services.take_position (its refusals on both paths: ../test_positions.py).

Against the real database (with its append-only triggers); refusals also check that
nothing was written.
"""

import pytest

from assemblies import rules
from assemblies import services as assembly_services
from assemblies.models import Membership
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import services
from proposals.models import (
    Position,
)
from proposals.selectors import tally_for
from tests.fixtures.state import db_state
from tests.proposals.services.helpers import in_an_hour, refused, submit

# --- take_position -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["agree", "stand_aside", "block"])
def test_it_records_a_position(open_call, participant, kind):
    position = services.take_position(
        actor=participant, proposal=open_call, kind=kind, reason=" Because. "
    )
    assert (position.kind, position.reason, position.member) == (kind, "Because.", participant)
    assert position.is_current
    assert position.revision_number == 1


def test_it_refuses_a_position_outside_the_call(proposal, participant):
    before = db_state()
    refused(
        lambda: services.take_position(actor=participant, proposal=proposal, kind="agree"),
        Conflict,
        "call_not_open",
    )
    assert db_state() == before


def test_it_refuses_a_position_from_an_observer(open_call, observer):
    before = db_state()
    refused(
        lambda: services.take_position(actor=observer, proposal=open_call, kind="agree"),
        PermissionDenied,
        "observer",
    )
    assert db_state() == before


def test_it_refuses_a_position_from_a_pending_member(open_call, pending_member):
    before = db_state()
    refused(
        lambda: services.take_position(actor=pending_member, proposal=open_call, kind="agree"),
        PermissionDenied,
        "membership_pending",
    )
    assert db_state() == before


def test_it_refuses_a_position_from_a_member_who_left(open_call, participant):
    assembly_services.leave_assembly(member=participant)
    refused(
        lambda: services.take_position(actor=participant, proposal=open_call, kind="agree"),
        PermissionDenied,
        "not_a_member",
    )
    assert not Position.objects.exists()


def test_it_refuses_a_position_from_a_member_removed_meanwhile(open_call, facilitator, participant):
    """The membership row is re-read under lock, so a stale object in hand grants nothing."""
    stale = Membership.objects.get(pk=participant.pk)
    assembly_services.remove_member(actor=facilitator, member=participant)
    refused(
        lambda: services.take_position(actor=stale, proposal=open_call, kind="agree"),
        PermissionDenied,
        "not_a_member",
    )


def test_it_answers_not_found_to_an_outsiders_position(open_call, outsider):
    before = db_state()
    refused(
        lambda: services.take_position(actor=outsider, proposal=open_call, kind="agree"),
        NotFound,
        "proposal_not_found",
    )
    assert db_state() == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_a_block_without_a_reason(open_call, participant, reason):
    before = db_state()
    error = refused(
        lambda: services.take_position(
            actor=participant, proposal=open_call, kind="block", reason=reason
        ),
        DomainError,
        "reason_required",
    )
    assert "block" in error.message.lower()
    assert db_state() == before


def test_it_accepts_a_stand_aside_without_a_reason_when_the_rule_allows(open_call, participant):
    position = services.take_position(actor=participant, proposal=open_call, kind="stand_aside")
    assert position.kind == "stand_aside"
    assert position.reason == ""


def test_it_refuses_a_stand_aside_without_a_reason_when_the_rule_requires_one(
    proposal, facilitator, participant, assembly
):
    assembly_services.update_assembly(
        actor=facilitator,
        assembly=assembly,
        decision_rule={"preset": "consensus", "reason_required_for_stand_aside": True},
    )
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    before = db_state()
    error = refused(
        lambda: services.take_position(actor=participant, proposal=proposal, kind="stand_aside"),
        DomainError,
        "reason_required",
    )
    assert "stand-aside" in error.message
    assert db_state() == before


def test_it_accepts_a_block_without_a_reason_when_the_rule_allows(
    proposal, facilitator, participant, assembly
):
    assembly_services.update_assembly(
        actor=facilitator,
        assembly=assembly,
        decision_rule={"preset": "consensus", "reason_required_for_block": False},
    )
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert (
        services.take_position(actor=participant, proposal=proposal, kind="block").kind == "block"
    )


@pytest.mark.parametrize("kind", ["", "veto", "AGREE", None])
def test_it_refuses_an_unknown_position(open_call, participant, kind):
    before = db_state()
    refused(
        lambda: services.take_position(actor=participant, proposal=open_call, kind=kind),
        DomainError,
        "invalid_kind",
    )
    assert db_state() == before


def test_it_refuses_a_reason_longer_than_5000_characters(open_call, participant):
    refused(
        lambda: services.take_position(
            actor=participant, proposal=open_call, kind="block", reason="r" * 5001
        ),
        DomainError,
        "reason_too_long",
    )
    assert not Position.objects.exists()


def test_it_keeps_the_history_when_a_member_changes_position(open_call, participant):
    first = services.take_position(actor=participant, proposal=open_call, kind="agree")
    second = services.take_position(
        actor=participant, proposal=open_call, kind="block", reason="On reflection, no."
    )
    third = services.take_position(actor=participant, proposal=open_call, kind="stand_aside")
    rows = list(Position.objects.filter(member=participant).order_by("id"))
    assert [row.pk for row in rows] == [first.pk, second.pk, third.pk]
    assert [row.kind for row in rows] == ["agree", "block", "stand_aside"]
    assert [row.is_current for row in rows] == [False, False, True]
    assert rows[1].reason == "On reflection, no."
    assert tally_for(open_call) == rules.Tally(stand_aside=1)


def test_it_returns_the_same_position_for_a_repeated_request_id(open_call, participant):
    first = services.take_position(
        actor=participant, proposal=open_call, kind="agree", request_id="req-1"
    )
    again = services.take_position(
        actor=participant, proposal=open_call, kind="agree", request_id="req-1"
    )
    assert again.pk == first.pk
    assert Position.objects.count() == 1


def test_it_does_not_reapply_a_retried_request_with_another_kind(open_call, participant):
    first = services.take_position(
        actor=participant, proposal=open_call, kind="agree", request_id="req-1"
    )
    again = services.take_position(
        actor=participant, proposal=open_call, kind="stand_aside", request_id="req-1"
    )
    assert again.pk == first.pk
    assert again.kind == "agree"
    assert Position.objects.count() == 1


def test_it_acknowledges_a_retry_that_arrives_after_the_close(open_call, facilitator, participant):
    first = services.take_position(
        actor=participant, proposal=open_call, kind="agree", request_id="req-1"
    )
    services.close_call(actor=facilitator, proposal=open_call)
    again = services.take_position(
        actor=participant, proposal=open_call, kind="agree", request_id="req-1"
    )
    assert again.pk == first.pk


def test_it_refuses_a_request_id_reused_for_another_proposal(open_call, facilitator, participant):
    services.take_position(actor=participant, proposal=open_call, kind="agree", request_id="r1")
    other = submit(participant, title="Other", closes_at=in_an_hour())
    refused(
        lambda: services.take_position(
            actor=participant, proposal=other, kind="agree", request_id="r1"
        ),
        Conflict,
        "request_id_reused",
    )
    assert not other.positions.exists()


def test_it_lets_different_members_use_the_same_request_id(open_call, participant, facilitator):
    services.take_position(actor=participant, proposal=open_call, kind="agree", request_id="r1")
    services.take_position(actor=facilitator, proposal=open_call, kind="agree", request_id="r1")
    assert Position.objects.filter(is_current=True).count() == 2


def test_it_refuses_a_position_after_the_close(open_call, facilitator, participant):
    services.close_call(actor=facilitator, proposal=open_call)
    refused(
        lambda: services.take_position(actor=participant, proposal=open_call, kind="agree"),
        Conflict,
        "call_not_open",
    )
    assert not Position.objects.exists()
