"""Service tests for proposals, comments, temperature checks, positions and decisions.

Everything goes through `proposals.services` against the real PostgreSQL database (with its
append-only triggers); refusals also check that nothing was written.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from assemblies import rules
from assemblies import services as assembly_services
from assemblies.models import Membership
from assemblies.rules import PRESETS
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import chain, history, services
from proposals.models import (
    Comment,
    CommentStatus,
    Decision,
    Outcome,
    Phase,
    Position,
    Proposal,
    Revision,
    TemperatureReading,
)
from proposals.selectors import current_positions, tally_for
from sittings import services as sitting_services
from tests.fixtures.state import db_state

# --- helpers -----------------------------------------------------------------------------------


def refused(call, exc_type, code):
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    return info.value


def fresh(obj):
    obj.refresh_from_db()
    return obj


def submit(author, title="Open the kitchen at 8", text="The kitchen opens at 8.", **kwargs):
    return services.submit_proposal(actor=author, title=title, text=text, **kwargs)


def in_an_hour():
    return timezone.now() + timedelta(hours=1)


@pytest.fixture
def pending_member(assembly, facilitator):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, admission_required=True)
    user = User.objects.create_user(username="penny", password="x")
    member = assembly_services.join_assembly(user=user, assembly=assembly, display_name="Penny")
    assembly_services.update_assembly(
        actor=facilitator, assembly=assembly, admission_required=False
    )
    return member


@pytest.fixture
def question(proposal, make_member):
    asker = make_member("Quinn")
    return services.add_comment(
        actor=asker, proposal=proposal, kind="question", text="Which shop sells it?"
    )


@pytest.fixture
def amendment(proposal, make_member):
    amender = make_member("Amy")
    return services.add_comment(
        actor=amender,
        proposal=proposal,
        kind="amendment",
        text="Green is cheaper.",
        proposed_text="We buy a green tarp for the kitchen, at most $60.",
    )


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


# --- comments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["question", "concern"])
def test_it_records_a_question_or_concern(proposal, make_member, kind):
    member = make_member()
    comment = services.add_comment(actor=member, proposal=proposal, kind=kind, text=" Why? ")
    assert (comment.kind, comment.text, comment.status) == (kind, "Why?", CommentStatus.OPEN)
    assert comment.revision_number == 1
    assert comment.parent is None
    assert comment.proposed_text == ""


def test_it_records_an_amendment_with_its_proposed_text(amendment):
    assert amendment.kind == "amendment"
    assert amendment.proposed_text == "We buy a green tarp for the kitchen, at most $60."
    assert amendment.status == CommentStatus.OPEN


def test_it_drops_a_proposed_text_given_with_a_question(proposal, make_member):
    comment = services.add_comment(
        actor=make_member(), proposal=proposal, kind="question", text="Why?", proposed_text="X"
    )
    assert comment.proposed_text == ""


def test_it_refuses_an_amendment_without_proposed_text(proposal, make_member):
    member = make_member()
    before = db_state()
    refused(
        lambda: services.add_comment(
            actor=member, proposal=proposal, kind="amendment", text="Change it.", proposed_text=" "
        ),
        DomainError,
        "proposed_text_required",
    )
    assert db_state() == before


def test_it_refuses_an_empty_comment(proposal, make_member):
    member = make_member()
    refused(
        lambda: services.add_comment(actor=member, proposal=proposal, kind="concern", text=""),
        DomainError,
        "text_required",
    )
    assert not Comment.objects.exists()


def test_it_refuses_an_unknown_kind_of_comment(proposal, make_member):
    member = make_member()
    refused(
        lambda: services.add_comment(actor=member, proposal=proposal, kind="rant", text="!"),
        DomainError,
        "invalid_kind",
    )
    assert not Comment.objects.exists()


def test_it_refuses_a_comment_from_an_observer(proposal, observer):
    before = db_state()
    refused(
        lambda: services.add_comment(actor=observer, proposal=proposal, kind="concern", text="!"),
        PermissionDenied,
        "observer",
    )
    assert db_state() == before


def test_it_answers_not_found_to_an_outsider_commenting(proposal, outsider):
    refused(
        lambda: services.add_comment(actor=outsider, proposal=proposal, kind="concern", text="!"),
        NotFound,
        "proposal_not_found",
    )
    assert not Comment.objects.exists()


def test_it_lets_the_author_answer_a_question_and_marks_it_addressed(
    proposal, participant, question
):
    answer = services.add_comment(
        actor=participant,
        proposal=proposal,
        kind="answer",
        text="The hardware shop.",
        parent=question,
    )
    assert answer.parent == question
    question = fresh(question)
    assert question.status == CommentStatus.ADDRESSED
    assert question.resolved_at is not None


def test_it_lets_a_facilitator_answer_a_question(proposal, facilitator, question):
    services.add_comment(
        actor=facilitator, proposal=proposal, kind="answer", text="Ask Pat.", parent=question
    )
    assert fresh(question).status == CommentStatus.ADDRESSED


def test_it_refuses_an_answer_from_another_participant(proposal, make_member, question):
    other = make_member("Otto")
    before = db_state()
    refused(
        lambda: services.add_comment(
            actor=other, proposal=proposal, kind="answer", text="I know!", parent=question
        ),
        PermissionDenied,
        "not_author",
    )
    assert db_state() == before


def test_it_refuses_an_answer_without_a_question(proposal, participant):
    refused(
        lambda: services.add_comment(
            actor=participant, proposal=proposal, kind="answer", text="Hi"
        ),
        DomainError,
        "question_required",
    )
    assert not Comment.objects.exists()


def test_it_refuses_an_answer_to_a_concern(proposal, participant, make_member):
    concern = services.add_comment(
        actor=make_member(), proposal=proposal, kind="concern", text="Too expensive."
    )
    refused(
        lambda: services.add_comment(
            actor=participant, proposal=proposal, kind="answer", text="No.", parent=concern
        ),
        DomainError,
        "question_required",
    )
    assert fresh(concern).status == CommentStatus.OPEN


def test_it_refuses_an_answer_to_a_question_on_another_proposal(participant, question):
    other = submit(participant, title="Other")
    refused(
        lambda: services.add_comment(
            actor=participant, proposal=other, kind="answer", text="No.", parent=question
        ),
        DomainError,
        "question_required",
    )
    assert fresh(question).status == CommentStatus.OPEN


def test_it_refuses_comments_on_a_withdrawn_proposal(proposal, participant, make_member):
    member = make_member()
    services.withdraw_proposal(actor=participant, proposal=proposal)
    proposal = fresh(proposal)
    before = db_state()
    refused(
        lambda: services.add_comment(actor=member, proposal=proposal, kind="concern", text="!"),
        Conflict,
        "proposal_closed",
    )
    assert db_state() == before


def test_it_refuses_comments_on_a_decided_proposal(open_call, facilitator, make_member):
    member = make_member()
    services.close_call(actor=facilitator, proposal=open_call)
    refused(
        lambda: services.add_comment(
            actor=member, proposal=fresh(open_call), kind="question", text="?"
        ),
        Conflict,
        "proposal_closed",
    )


# --- amendments --------------------------------------------------------------------------------


def test_it_turns_an_accepted_amendment_into_the_next_revision(proposal, participant, amendment):
    revision = services.accept_amendment(actor=participant, amendment=amendment)
    assert revision.number == 2
    assert revision.text == amendment.proposed_text
    assert revision.amendment == amendment
    assert revision.author == participant
    assert "Amy" in revision.summary
    assert fresh(proposal).revision_number == 2
    amendment = fresh(amendment)
    assert amendment.status == CommentStatus.ACCEPTED
    assert amendment.resolved_at is not None


def test_it_makes_positions_stale_when_an_amendment_is_accepted(
    proposal, facilitator, participant, amendment, make_member
):
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    position = services.take_position(actor=make_member(), proposal=proposal, kind="agree")
    services.accept_amendment(actor=participant, amendment=amendment)
    assert fresh(position).revision_number < fresh(proposal).revision_number


def test_it_refuses_to_accept_an_amendment_twice(participant, amendment):
    services.accept_amendment(actor=participant, amendment=amendment)
    before = db_state()
    refused(
        lambda: services.accept_amendment(actor=participant, amendment=amendment),
        Conflict,
        "amendment_resolved",
    )
    assert db_state() == before


@pytest.mark.parametrize("who", ["facilitator", "amender"])
def test_it_lets_only_the_author_accept_an_amendment(request, amendment, who):
    actor = amendment.member if who == "amender" else request.getfixturevalue(who)
    before = db_state()
    refused(
        lambda: services.accept_amendment(actor=actor, amendment=amendment),
        PermissionDenied,
        "not_author",
    )
    assert db_state() == before


def test_it_answers_not_found_to_an_outsider_accepting_an_amendment(amendment, outsider):
    refused(
        lambda: services.accept_amendment(actor=outsider, amendment=amendment),
        NotFound,
        "proposal_not_found",
    )
    assert fresh(amendment).status == CommentStatus.OPEN


def test_it_refuses_to_accept_a_question_as_an_amendment(participant, question):
    refused(
        lambda: services.accept_amendment(actor=participant, amendment=question),
        DomainError,
        "not_amendment",
    )
    assert Revision.objects.count() == 1


def test_it_declines_an_amendment_without_a_new_revision(proposal, participant, amendment):
    declined = services.decline_amendment(actor=participant, amendment=amendment)
    assert declined.status == CommentStatus.DECLINED
    assert fresh(proposal).revision_number == 1
    assert proposal.revisions.count() == 1


def test_it_refuses_to_accept_a_declined_amendment(participant, amendment):
    services.decline_amendment(actor=participant, amendment=amendment)
    refused(
        lambda: services.accept_amendment(actor=participant, amendment=amendment),
        Conflict,
        "amendment_resolved",
    )


def test_it_refuses_a_decline_by_someone_other_than_the_author(facilitator, amendment):
    refused(
        lambda: services.decline_amendment(actor=facilitator, amendment=amendment),
        PermissionDenied,
        "not_author",
    )
    assert fresh(amendment).status == CommentStatus.OPEN


# --- temperature checks ------------------------------------------------------------------------


def test_it_opens_a_temperature_check(proposal, facilitator):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    assert check.closed_at is None
    assert check.revision_number == 1
    assert facilitator.assembly.log_entries.filter(action="proposals.temperature.opened").exists()


def test_it_allows_one_open_temperature_check_at_a_time(proposal, facilitator):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    before = db_state()
    refused(
        lambda: services.open_temperature_check(actor=facilitator, proposal=proposal),
        Conflict,
        "temperature_open",
    )
    assert db_state() == before


def test_it_allows_a_new_temperature_check_after_closing(proposal, facilitator):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.close_temperature_check(actor=facilitator, proposal=proposal)
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    assert proposal.temperature_checks.count() == 2


def test_it_refuses_a_temperature_check_during_the_call(open_call, facilitator):
    refused(
        lambda: services.open_temperature_check(actor=facilitator, proposal=open_call),
        Conflict,
        "not_discussing",
    )


def test_it_replaces_a_members_reading_when_it_changes(proposal, facilitator, participant):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    first = services.give_reading(actor=participant, proposal=proposal, reading="down")
    second = services.give_reading(actor=participant, proposal=proposal, reading="up")
    assert first.pk == second.pk
    assert list(check.readings.values_list("reading", flat=True)) == ["up"]


def test_it_counts_the_readings(proposal, facilitator, participant, make_member):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.give_reading(actor=participant, proposal=proposal, reading="up")
    services.give_reading(actor=facilitator, proposal=proposal, reading="up")
    services.give_reading(actor=make_member(), proposal=proposal, reading="so_so")
    assert services.reading_counts(check) == {"up": 2, "so_so": 1, "down": 0}


def test_it_closes_a_temperature_check_and_logs_the_counts(proposal, facilitator, participant):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.give_reading(actor=participant, proposal=proposal, reading="down")
    check = services.close_temperature_check(actor=facilitator, proposal=proposal)
    assert fresh(check).closed_at is not None
    entry = facilitator.assembly.log_entries.get(action="proposals.temperature.closed")
    assert entry.data["up"] == 0
    assert entry.data["down"] == 1


def test_it_refuses_to_close_when_no_temperature_check_is_open(proposal, facilitator):
    refused(
        lambda: services.close_temperature_check(actor=facilitator, proposal=proposal),
        Conflict,
        "no_temperature_check",
    )


def test_it_refuses_a_reading_when_no_check_is_open(proposal, participant):
    refused(
        lambda: services.give_reading(actor=participant, proposal=proposal, reading="up"),
        Conflict,
        "no_temperature_check",
    )
    assert not TemperatureReading.objects.exists()


def test_it_refuses_a_reading_after_the_check_closed(proposal, facilitator, participant):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.close_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=participant, proposal=proposal, reading="up"),
        Conflict,
        "no_temperature_check",
    )


def test_it_refuses_an_unknown_reading(proposal, facilitator, participant):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=participant, proposal=proposal, reading="hot"),
        DomainError,
        "invalid_reading",
    )
    assert not TemperatureReading.objects.exists()


def test_it_refuses_a_reading_from_an_observer(proposal, facilitator, observer):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=observer, proposal=proposal, reading="up"),
        PermissionDenied,
        "observer",
    )
    assert not TemperatureReading.objects.exists()


def test_it_answers_not_found_to_an_outsiders_reading(proposal, facilitator, outsider):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=outsider, proposal=proposal, reading="up"),
        NotFound,
        "proposal_not_found",
    )


def test_it_closes_an_open_temperature_check_when_the_call_opens(proposal, facilitator):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert fresh(check).closed_at is not None


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


# --- facilitator-only services refuse everyone else --------------------------------------------


@pytest.fixture
def stage(proposal, facilitator, participant):
    """A proposal under discussion with a temperature check open, another in its call."""
    services.set_phase(actor=facilitator, proposal=proposal, phase="concerns")
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    calling = submit(participant, title="Calling")
    services.call_for_consensus(actor=facilitator, proposal=calling)
    services.take_position(actor=participant, proposal=calling, kind="agree")
    return {"discussing": proposal, "calling": calling, "draft": submit(participant, title="New")}


FACILITATOR_ONLY = {
    "set_phase": lambda actor, s: services.set_phase(
        actor=actor, proposal=s["discussing"], phase="amendments"
    ),
    "open_temperature_check": lambda actor, s: services.open_temperature_check(
        actor=actor, proposal=s["draft"]
    ),
    "close_temperature_check": lambda actor, s: services.close_temperature_check(
        actor=actor, proposal=s["discussing"]
    ),
    "call_for_consensus": lambda actor, s: services.call_for_consensus(
        actor=actor, proposal=s["discussing"]
    ),
    "close_call": lambda actor, s: services.close_call(actor=actor, proposal=s["calling"]),
    "table_proposal": lambda actor, s: services.table_proposal(actor=actor, proposal=s["calling"]),
}


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
@pytest.mark.parametrize("who", ["participant", "observer"])
def test_it_refuses_facilitator_only_services_to_members(request, stage, service, who):
    actor = request.getfixturevalue(who)
    before = db_state()
    refused(lambda: FACILITATOR_ONLY[service](actor, stage), PermissionDenied, "not_facilitator")
    assert db_state() == before


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
def test_it_answers_not_found_to_outsiders_for_facilitator_only_services(stage, outsider, service):
    before = db_state()
    refused(lambda: FACILITATOR_ONLY[service](outsider, stage), NotFound, "proposal_not_found")
    assert db_state() == before


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
def test_it_refuses_facilitator_only_services_to_pending_members(stage, pending_member, service):
    before = db_state()
    refused(
        lambda: FACILITATOR_ONLY[service](pending_member, stage),
        PermissionDenied,
        "membership_pending",
    )
    assert db_state() == before


# --- the facilitation log ----------------------------------------------------------------------


def test_it_logs_facilitator_actions_with_namespaced_codes(
    proposal, facilitator, participant, assembly
):
    services.set_phase(actor=facilitator, proposal=proposal, phase="questions")
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.close_temperature_check(actor=facilitator, proposal=proposal)
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    services.take_position(actor=participant, proposal=proposal, kind="agree")
    services.close_call(actor=facilitator, proposal=proposal)
    actions = list(
        assembly.log_entries.filter(action__startswith="proposals.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "proposals.phase.changed",
        "proposals.temperature.opened",
        "proposals.temperature.closed",
        "proposals.call.opened",
        "proposals.call.closed",
    ]
    entries = assembly.log_entries.filter(action__startswith="proposals.")
    assert all(entry.actor == facilitator for entry in entries)
    assert all(entry.data["proposal_id"] == proposal.pk for entry in entries)


def test_it_does_not_log_participant_actions(proposal, participant, make_member, assembly):
    before = assembly.log_entries.count()
    services.add_comment(actor=make_member(), proposal=proposal, kind="concern", text="Hmm.")
    services.revise_proposal(actor=participant, proposal=proposal, text="Better.")
    assert assembly.log_entries.count() == before


def test_it_logs_a_meeting_proposal_against_its_meeting(facilitator, participant, assembly):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    proposal = submit(participant, meeting=meeting)
    services.set_phase(actor=facilitator, proposal=proposal, phase="presented")
    entry = assembly.log_entries.get(action="proposals.phase.changed")
    assert entry.meeting == meeting


def test_it_refuses_an_amendment_written_for_an_earlier_revision(
    proposal, participant, make_member
):
    friend = make_member("Friend")
    stale = services.add_comment(
        actor=friend,
        proposal=proposal,
        kind="amendment",
        text="Cheaper",
        proposed_text="A $60 tarp.",
    )
    services.revise_proposal(actor=participant, proposal=proposal, text="A $70 green tarp.")
    before = db_state()
    with pytest.raises(Conflict) as refused:
        services.accept_amendment(actor=participant, amendment=stale)
    assert refused.value.code == "amendment_outdated"
    assert db_state() == before
