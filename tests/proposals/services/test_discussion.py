"""proposals.services: clarifying questions, answers, concerns and friendly amendments.

Against the real database (with its append-only triggers); refusals also check that
nothing was written.
"""

import pytest

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import services
from proposals.models import (
    Comment,
    CommentStatus,
    Revision,
)
from tests.fixtures.state import db_state
from tests.proposals.services.helpers import fresh, refused, submit

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
