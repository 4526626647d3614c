"""proposals.services: submit, revise, phases, the call for consensus and tabling.

Against the real database (with its append-only triggers); refusals also check that
nothing was written.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from assemblies import rules
from assemblies import services as assembly_services
from assemblies.rules import PRESETS
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import chain, services
from proposals.models import (
    Outcome,
    Phase,
    Position,
    Proposal,
)
from proposals.selectors import current_positions, tally_for
from sittings import services as sitting_services
from tests.fixtures.state import db_state
from tests.proposals.services.helpers import fresh, in_an_hour, refused, submit

# --- submit_proposal ---------------------------------------------------------------------------


def test_it_submits_a_draft_with_revision_one(participant):
    proposal = submit(participant, title="  Quiet hours ", text=" No drums after 11pm. ")
    assert proposal.phase == Phase.DRAFT
    assert proposal.title == "Quiet hours"
    assert proposal.revision_number == 1
    assert proposal.rule is None
    assert proposal.author == participant
    assert proposal.assembly_id == participant.assembly_id
    revision = proposal.revisions.get()
    assert (revision.number, revision.text, revision.author) == (
        1,
        "No drums after 11pm.",
        participant,
    )


def test_it_lets_a_facilitator_submit_a_proposal(facilitator):
    assert submit(facilitator).author == facilitator


def test_it_refuses_a_proposal_from_an_observer(observer):
    before = db_state()
    refused(lambda: submit(observer), PermissionDenied, "observer")
    assert db_state() == before


def test_it_refuses_a_proposal_from_a_pending_member(pending_member):
    before = db_state()
    refused(lambda: submit(pending_member), PermissionDenied, "membership_pending")
    assert db_state() == before


@pytest.mark.parametrize("title", ["", "   ", None])
def test_it_refuses_a_proposal_without_a_title(participant, title):
    before = db_state()
    refused(lambda: submit(participant, title=title), DomainError, "title_required")
    assert db_state() == before


@pytest.mark.parametrize("text", ["", "  \n ", None])
def test_it_refuses_a_proposal_without_a_text(participant, text):
    before = db_state()
    refused(lambda: submit(participant, text=text), DomainError, "text_required")
    assert db_state() == before


def test_it_refuses_a_title_longer_than_200_characters(participant):
    refused(lambda: submit(participant, title="t" * 201), DomainError, "title_too_long")
    assert not Proposal.objects.exists()


def test_it_puts_a_proposal_submitted_to_a_meeting_on_its_agenda(facilitator, participant):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=facilitator.assembly, title="GA"
    )
    first = submit(participant, meeting=meeting)
    second = submit(participant, title="Second", meeting=meeting)
    assert first.meeting == meeting
    assert first.phase == Phase.DRAFT
    assert [(item.proposal, item.position) for item in meeting.agenda_items.all()] == [
        (first, 1),
        (second, 2),
    ]


def test_it_answers_not_found_for_a_meeting_of_another_assembly(participant, outsider):
    theirs = sitting_services.schedule_meeting(
        actor=outsider, assembly=outsider.assembly, title="Theirs"
    )
    before = db_state()
    refused(lambda: submit(participant, meeting=theirs), NotFound, "meeting_not_found")
    assert db_state() == before


def test_it_refuses_a_proposal_for_an_adjourned_meeting(facilitator, participant):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=facilitator.assembly, title="GA"
    )
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    sitting_services.adjourn_meeting(actor=facilitator, meeting=meeting)
    before = db_state()
    refused(lambda: submit(participant, meeting=meeting), Conflict, "meeting_adjourned")
    assert db_state() == before


@pytest.mark.parametrize("delta", [timedelta(seconds=-1), timedelta(days=-3)])
def test_it_refuses_a_closing_time_in_the_past(participant, delta):
    before = db_state()
    refused(
        lambda: submit(participant, closes_at=timezone.now() + delta),
        DomainError,
        "closes_at_past",
    )
    assert db_state() == before


def test_it_opens_an_online_proposal_for_positions_with_the_rule_snapshotted(assembly, participant):
    closes_at = in_an_hour()
    proposal = submit(participant, closes_at=closes_at)
    assert proposal.phase == Phase.CALL
    assert proposal.closes_at == closes_at
    assert proposal.call_opened_at is not None
    assert proposal.rule == assembly.decision_rule
    assert proposal.decision_rule == PRESETS["occupy_modified_consensus"]


# --- revise_proposal ---------------------------------------------------------------------------


def test_it_lets_the_author_revise_the_text(proposal, participant):
    revision = services.revise_proposal(
        actor=participant, proposal=proposal, text="A red tarp.", summary="Colour"
    )
    assert (revision.number, revision.text, revision.summary) == (2, "A red tarp.", "Colour")
    assert fresh(proposal).revision_number == 2
    assert list(proposal.revisions.values_list("number", flat=True)) == [1, 2]


@pytest.mark.parametrize("who", ["facilitator", "observer"])
def test_it_refuses_a_revision_by_someone_other_than_the_author(request, proposal, who):
    actor = request.getfixturevalue(who)
    before = db_state()
    with pytest.raises(PermissionDenied):
        services.revise_proposal(actor=actor, proposal=proposal, text="Hijacked.")
    assert db_state() == before


def test_it_refuses_a_revision_by_another_participant(proposal, make_member):
    other = make_member("Ola")
    before = db_state()
    refused(
        lambda: services.revise_proposal(actor=other, proposal=proposal, text="Hijacked."),
        PermissionDenied,
        "not_author",
    )
    assert db_state() == before


def test_it_answers_not_found_to_an_outsider_revising(proposal, outsider):
    refused(
        lambda: services.revise_proposal(actor=outsider, proposal=proposal, text="Hijacked."),
        NotFound,
        "proposal_not_found",
    )


def test_it_refuses_an_empty_revision(proposal, participant):
    before = db_state()
    refused(
        lambda: services.revise_proposal(actor=participant, proposal=proposal, text="  "),
        DomainError,
        "text_required",
    )
    assert db_state() == before


def test_it_makes_positions_on_the_old_text_stale(open_call, participant, make_member):
    voter = make_member("Val")
    position = services.take_position(actor=voter, proposal=open_call, kind="agree")
    services.revise_proposal(actor=participant, proposal=open_call, text="A bigger tarp.")
    proposal = fresh(open_call)
    position = fresh(position)
    assert position.revision_number == 1
    assert position.revision_number < proposal.revision_number
    assert position.is_current


def test_it_records_new_positions_against_the_new_revision(open_call, participant, make_member):
    services.revise_proposal(actor=participant, proposal=open_call, text="A bigger tarp.")
    position = services.take_position(actor=make_member(), proposal=open_call, kind="agree")
    assert position.revision_number == 2


def test_it_refuses_to_revise_a_withdrawn_proposal(proposal, participant):
    services.withdraw_proposal(actor=participant, proposal=proposal)
    refused(
        lambda: services.revise_proposal(actor=participant, proposal=proposal, text="Later."),
        Conflict,
        "proposal_closed",
    )
    assert fresh(proposal).revision_number == 1


def test_it_refuses_to_revise_a_tabled_proposal(proposal, participant, facilitator):
    services.table_proposal(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.revise_proposal(actor=participant, proposal=proposal, text="Later."),
        Conflict,
        "proposal_tabled",
    )


# --- set_phase ---------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["presented", "questions", "concerns", "amendments"])
def test_it_moves_a_proposal_between_discussion_phases(proposal, facilitator, phase):
    services.set_phase(actor=facilitator, proposal=proposal, phase=phase)
    assert fresh(proposal).phase == phase
    entry = facilitator.assembly.log_entries.get(action="proposals.phase.changed")
    assert entry.data["old"] == "draft"
    assert entry.data["new"] == phase
    assert entry.data["proposal_id"] == proposal.pk


@pytest.mark.parametrize("phase", ["draft", "call", "decided", "tabled", "withdrawn", "nonsense"])
def test_it_refuses_phases_that_have_their_own_action(proposal, facilitator, phase):
    before = db_state()
    refused(
        lambda: services.set_phase(actor=facilitator, proposal=proposal, phase=phase),
        DomainError,
        "invalid_phase",
    )
    assert db_state() == before


def test_it_refuses_a_phase_change_during_the_call(open_call, facilitator):
    before = db_state()
    refused(
        lambda: services.set_phase(actor=facilitator, proposal=open_call, phase="concerns"),
        Conflict,
        "phase_locked",
    )
    assert db_state() == before


def test_it_refuses_a_phase_change_after_the_decision(open_call, facilitator):
    services.close_call(actor=facilitator, proposal=open_call)
    refused(
        lambda: services.set_phase(actor=facilitator, proposal=open_call, phase="presented"),
        Conflict,
        "phase_locked",
    )
    assert fresh(open_call).phase == Phase.DECIDED


# --- call_for_consensus ------------------------------------------------------------------------


def test_it_opens_the_call_with_the_assemblys_rule(proposal, facilitator, assembly):
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    proposal = fresh(proposal)
    assert proposal.phase == Phase.CALL
    assert proposal.rule == assembly.decision_rule
    assert proposal.call_opened_at is not None
    entry = assembly.log_entries.get(action="proposals.call.opened")
    assert entry.data["rule"] == assembly.decision_rule


def test_it_keeps_the_snapshotted_rule_when_the_assembly_changes_its_rule(
    open_call, facilitator, participant, assembly, make_member
):
    # 1 agree and 1 block: 1/2 < 9/10, so the occupy rule blocks it; minus-one would pass it.
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    services.take_position(
        actor=make_member("Blake"), proposal=open_call, kind="block", reason="Unsafe."
    )
    assembly_services.update_assembly(
        actor=facilitator, assembly=assembly, decision_rule={"preset": "consensus_minus_one"}
    )
    assert fresh(open_call).rule == PRESETS["occupy_modified_consensus"].to_dict()
    decision = services.close_call(actor=facilitator, proposal=open_call)
    assert decision.outcome == Outcome.BLOCKED
    assert decision.rule == PRESETS["occupy_modified_consensus"].to_dict()


def test_it_snapshots_the_new_rule_for_a_later_call(proposal, facilitator, assembly):
    assembly_services.update_assembly(
        actor=facilitator, assembly=assembly, decision_rule={"preset": "consensus_minus_two"}
    )
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert fresh(proposal).decision_rule == PRESETS["consensus_minus_two"]


def test_it_refuses_to_open_the_call_twice(open_call, facilitator):
    before = db_state()
    refused(
        lambda: services.call_for_consensus(actor=facilitator, proposal=open_call),
        Conflict,
        "call_not_possible",
    )
    assert db_state() == before


def test_it_refuses_a_call_closing_in_the_past(proposal, facilitator):
    before = db_state()
    refused(
        lambda: services.call_for_consensus(
            actor=facilitator, proposal=proposal, closes_at=timezone.now() - timedelta(minutes=1)
        ),
        DomainError,
        "closes_at_past",
    )
    assert db_state() == before


def test_it_opens_a_call_from_a_discussion_phase(proposal, facilitator):
    services.set_phase(actor=facilitator, proposal=proposal, phase="amendments")
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert fresh(proposal).phase == Phase.CALL


# --- table_proposal ----------------------------------------------------------------------------


def test_it_tables_a_proposal_and_retires_its_positions(open_call, facilitator, participant):
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    services.take_position(actor=facilitator, proposal=open_call, kind="stand_aside")
    services.table_proposal(actor=facilitator, proposal=open_call)
    assert fresh(open_call).phase == Phase.TABLED
    assert Position.objects.filter(proposal=open_call).count() == 2
    assert not current_positions(open_call).exists()
    assert tally_for(open_call) == rules.Tally()
    assert facilitator.assembly.log_entries.filter(action="proposals.proposal.tabled").exists()


def test_it_clears_the_closing_time_when_tabling(participant, facilitator):
    proposal = submit(participant, closes_at=in_an_hour())
    services.table_proposal(actor=facilitator, proposal=proposal)
    assert fresh(proposal).closes_at is None
    assert services.close_due_calls(now=timezone.now() + timedelta(days=1)) == []


def test_it_refuses_positions_on_a_tabled_proposal(open_call, facilitator, participant):
    services.table_proposal(actor=facilitator, proposal=open_call)
    refused(
        lambda: services.take_position(actor=participant, proposal=open_call, kind="agree"),
        Conflict,
        "call_not_open",
    )


def test_it_brings_a_tabled_proposal_back_for_a_fresh_call(open_call, facilitator, participant):
    services.take_position(actor=participant, proposal=open_call, kind="block", reason="Not now.")
    services.table_proposal(actor=facilitator, proposal=open_call)
    services.set_phase(actor=facilitator, proposal=open_call, phase="presented")
    assert fresh(open_call).phase == Phase.PRESENTED
    services.call_for_consensus(actor=facilitator, proposal=open_call)
    services.take_position(actor=participant, proposal=open_call, kind="agree")
    decision = services.close_call(actor=facilitator, proposal=open_call)
    assert decision.outcome == Outcome.CONSENSUS
    assert decision.counts == {"agree": 1, "stand_aside": 0, "block": 0}
    assert Position.objects.filter(proposal=open_call).count() == 2
    assert chain.verify_assembly(facilitator.assembly) is None


def test_it_closes_an_open_temperature_check_when_tabling(proposal, facilitator, participant):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.table_proposal(actor=facilitator, proposal=proposal)
    assert fresh(check).closed_at is not None
    refused(
        lambda: services.give_reading(actor=participant, proposal=proposal, reading="up"),
        Conflict,
        "no_temperature_check",
    )


def test_it_allows_a_temperature_check_when_a_tabled_proposal_returns(proposal, facilitator):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.table_proposal(actor=facilitator, proposal=proposal)
    services.set_phase(actor=facilitator, proposal=proposal, phase="questions")
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    assert check.closed_at is None


def test_it_refuses_to_table_twice(open_call, facilitator):
    services.table_proposal(actor=facilitator, proposal=open_call)
    refused(
        lambda: services.table_proposal(actor=facilitator, proposal=open_call),
        Conflict,
        "proposal_closed",
    )


def test_it_refuses_to_table_a_decided_proposal(open_call, facilitator):
    services.close_call(actor=facilitator, proposal=open_call)
    refused(
        lambda: services.table_proposal(actor=facilitator, proposal=open_call),
        Conflict,
        "proposal_closed",
    )
    assert fresh(open_call).phase == Phase.DECIDED
