"""proposals.services: closing the call, online closes and withdrawing.

Against the real database (with its append-only triggers); refusals also check that
nothing was written.
"""

from datetime import timedelta

from django.utils import timezone

from assemblies import rules
from assemblies.rules import PRESETS
from core.errors import Conflict, NotFound, PermissionDenied
from proposals import chain, history, services
from proposals.models import (
    Decision,
    Outcome,
    Phase,
)
from tests.fixtures.state import db_state
from tests.proposals.services.helpers import fresh, in_an_hour, refused, submit

# --- close_call --------------------------------------------------------------------------------


def test_it_decides_from_the_current_positions_with_the_rule(
    open_call, facilitator, participant, make_member
):
    voters = [make_member() for _ in range(9)]
    for voter in voters:
        services.take_position(actor=voter, proposal=open_call, kind="agree")
    # The participant blocks, then reconsiders: only the current position counts.
    services.take_position(actor=participant, proposal=open_call, kind="block", reason="Costly.")
    services.take_position(actor=participant, proposal=open_call, kind="stand_aside")
    services.take_position(actor=facilitator, proposal=open_call, kind="block", reason="No.")
    tally = rules.Tally(agree=9, stand_aside=1, block=1)
    expected = rules.decide(PRESETS["occupy_modified_consensus"], tally)
    assert expected == Outcome.MODIFIED_CONSENSUS  # 9 / (9 + 1) meets the 9/10 fallback
    decision = services.close_call(actor=facilitator, proposal=open_call)
    assert decision.outcome == expected
    assert decision.counts == tally.as_dict()
    assert decision.closed_by == facilitator
    assert decision.revision_number == 1
    assert fresh(open_call).phase == Phase.DECIDED
    assert len(decision.record["positions"]) == 11


def test_it_decides_no_quorum_when_nobody_took_a_position(open_call, facilitator):
    decision = services.close_call(actor=facilitator, proposal=open_call)
    assert decision.outcome == Outcome.NO_QUORUM
    assert decision.counts == {"agree": 0, "stand_aside": 0, "block": 0}


def test_it_reaches_consensus_with_stand_asides(open_call, facilitator, participant):
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    services.take_position(actor=facilitator, proposal=open_call, kind="stand_aside")
    decision = services.close_call(actor=facilitator, proposal=open_call)
    assert decision.outcome == Outcome.CONSENSUS_WITH_STAND_ASIDES


def test_it_refuses_to_close_a_call_twice(open_call, facilitator):
    services.close_call(actor=facilitator, proposal=open_call)
    before = db_state()
    refused(
        lambda: services.close_call(actor=facilitator, proposal=open_call),
        Conflict,
        "call_not_open",
    )
    assert db_state() == before


def test_it_refuses_to_close_a_call_that_is_not_open(proposal, facilitator):
    refused(
        lambda: services.close_call(actor=facilitator, proposal=proposal),
        Conflict,
        "call_not_open",
    )
    assert not Decision.objects.exists()


def test_it_refuses_an_automatic_close_without_a_closing_time(open_call):
    before = db_state()
    refused(lambda: services.close_call(actor=None, proposal=open_call), Conflict, "not_due")
    assert db_state() == before


def test_it_refuses_an_automatic_close_before_the_closing_time(participant):
    proposal = submit(participant, closes_at=in_an_hour())
    before = db_state()
    refused(lambda: services.close_call(actor=None, proposal=proposal), Conflict, "not_due")
    assert db_state() == before


def test_it_closes_automatically_once_the_closing_time_has_passed(participant):
    proposal = submit(participant, closes_at=in_an_hour())
    services.take_position(actor=participant, proposal=proposal, kind="agree")
    later = proposal.closes_at + timedelta(seconds=1)
    decision = services.close_call(actor=None, proposal=proposal, now=later)
    assert decision.outcome == Outcome.CONSENSUS
    assert decision.closed_by is None
    assert decision.decided_at == later
    assert decision.record["closed_by"] is None


def test_it_lets_a_facilitator_close_before_the_closing_time(participant, facilitator):
    proposal = submit(participant, closes_at=in_an_hour())
    decision = services.close_call(actor=facilitator, proposal=proposal)
    assert decision.closed_by == facilitator


def test_it_chains_decisions_within_the_assembly(assembly, facilitator, participant):
    first = submit(participant, title="First")
    second = submit(participant, title="Second")
    services.call_for_consensus(actor=facilitator, proposal=first)
    services.take_position(actor=participant, proposal=first, kind="agree")
    one = services.close_call(actor=facilitator, proposal=first)
    two = services.withdraw_proposal(actor=participant, proposal=second)
    assert (one.sequence, two.sequence) == (1, 2)
    assert one.previous_digest == history.GENESIS
    assert two.previous_digest == one.digest
    assert two.digest == history.compute_digest(one.digest, two.record)
    assert chain.verify_assembly(assembly) is None


def test_it_numbers_each_assemblys_chain_separately(
    open_call, facilitator, outsider, other_assembly
):
    theirs = submit(outsider, title="Theirs")
    services.close_call(actor=facilitator, proposal=open_call)
    decision = services.withdraw_proposal(actor=outsider, proposal=theirs)
    assert decision.sequence == 1
    assert decision.previous_digest == history.GENESIS
    assert chain.verify_assembly(other_assembly) is None


def test_it_logs_the_close_with_outcome_and_counts(open_call, facilitator, participant):
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    services.close_call(actor=facilitator, proposal=open_call)
    entry = facilitator.assembly.log_entries.get(action="proposals.call.closed")
    assert entry.actor == facilitator
    assert entry.data["outcome"] == "consensus"
    assert entry.data["counts"] == {"agree": 1, "stand_aside": 0, "block": 0}
    assert entry.data["proposal_id"] == open_call.pk


# --- close_due_calls ---------------------------------------------------------------------------


def test_it_closes_only_the_calls_that_are_due(participant, open_call):
    soon = submit(participant, title="Soon", closes_at=timezone.now() + timedelta(minutes=5))
    later = submit(participant, title="Later", closes_at=timezone.now() + timedelta(days=1))
    now = timezone.now() + timedelta(minutes=10)
    decisions = services.close_due_calls(now=now)
    assert [decision.proposal_id for decision in decisions] == [soon.pk]
    assert decisions[0].closed_by is None
    assert decisions[0].decided_at == now
    assert fresh(soon).phase == Phase.DECIDED
    assert fresh(later).phase == Phase.CALL
    assert fresh(open_call).phase == Phase.CALL  # no closing time: a facilitator closes it


def test_it_logs_an_automatic_close_without_an_actor(participant, assembly):
    submit(participant, closes_at=timezone.now() + timedelta(minutes=5))
    services.close_due_calls(now=timezone.now() + timedelta(minutes=10))
    entry = assembly.log_entries.get(action="proposals.call.closed")
    assert entry.actor is None


def test_it_closes_nothing_when_nothing_is_due(participant):
    submit(participant, closes_at=in_an_hour())
    assert services.close_due_calls() == []
    assert not Decision.objects.exists()


# --- withdraw_proposal -------------------------------------------------------------------------


def test_it_lets_the_author_withdraw_and_records_it(proposal, participant, assembly):
    decision = services.withdraw_proposal(actor=participant, proposal=proposal)
    assert decision.outcome == Outcome.WITHDRAWN
    assert decision.closed_by == participant
    assert decision.sequence == 1
    assert fresh(proposal).phase == Phase.WITHDRAWN
    entry = assembly.log_entries.get(action="proposals.proposal.withdrawn")
    assert entry.data["outcome"] == "withdrawn"
    assert chain.verify_assembly(assembly) is None


def test_it_lets_a_facilitator_withdraw_a_proposal(open_call, facilitator, participant):
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    decision = services.withdraw_proposal(actor=facilitator, proposal=open_call)
    assert decision.outcome == Outcome.WITHDRAWN
    assert decision.closed_by == facilitator
    assert decision.agree_count == 1


def test_it_lets_a_tabled_proposal_be_withdrawn(open_call, facilitator, participant):
    services.table_proposal(actor=facilitator, proposal=open_call)
    decision = services.withdraw_proposal(actor=participant, proposal=open_call)
    assert decision.outcome == Outcome.WITHDRAWN
    assert chain.verify_assembly(facilitator.assembly) is None


def test_it_refuses_a_withdrawal_by_another_participant(proposal, make_member):
    other = make_member("Ola")
    before = db_state()
    refused(
        lambda: services.withdraw_proposal(actor=other, proposal=proposal),
        PermissionDenied,
        "not_author",
    )
    assert db_state() == before


def test_it_refuses_a_withdrawal_by_an_observer(proposal, observer):
    before = db_state()
    refused(
        lambda: services.withdraw_proposal(actor=observer, proposal=proposal),
        PermissionDenied,
        "observer",
    )
    assert db_state() == before


def test_it_answers_not_found_to_an_outsider_withdrawing(proposal, outsider):
    before = db_state()
    refused(
        lambda: services.withdraw_proposal(actor=outsider, proposal=proposal),
        NotFound,
        "proposal_not_found",
    )
    assert db_state() == before


def test_it_refuses_to_withdraw_twice(proposal, participant):
    services.withdraw_proposal(actor=participant, proposal=proposal)
    before = db_state()
    refused(
        lambda: services.withdraw_proposal(actor=participant, proposal=proposal),
        Conflict,
        "proposal_closed",
    )
    assert db_state() == before


def test_it_refuses_to_withdraw_a_decided_proposal(open_call, facilitator, participant):
    services.close_call(actor=facilitator, proposal=open_call)
    refused(
        lambda: services.withdraw_proposal(actor=participant, proposal=open_call),
        Conflict,
        "proposal_closed",
    )
    assert Decision.objects.get().outcome == Outcome.NO_QUORUM
