"""Live events: a write announces its change only once its transaction has committed."""

import pytest
from django.db import transaction

from core.errors import DomainError
from core.events import Change, publish_on_commit, state_changed
from proposals import services as proposal_services
from proposals.models import Position
from sittings import services as sitting_services


@pytest.fixture
def received():
    """Every Change sent on `state_changed` while the test runs, in order."""
    changes: list[Change] = []

    def receiver(sender, change, **kwargs):
        assert sender is Change
        changes.append(change)

    state_changed.connect(receiver, weak=False, dispatch_uid="test_events_receiver")
    yield changes
    state_changed.disconnect(dispatch_uid="test_events_receiver")


class Boom(Exception):
    pass


# --- publish_on_commit, inside the test transaction --------------------------------------------


@pytest.mark.django_db
def test_it_publishes_only_when_the_transaction_commits(
    received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish_on_commit(assembly_id=7, proposal_id=8, meeting_id=9, kind="position")
        assert received == []
    assert len(callbacks) == 1
    assert received == [Change(assembly_id=7, proposal_id=8, meeting_id=9, kind="position")]


@pytest.mark.django_db
def test_it_publishes_nothing_when_the_transaction_rolls_back(
    received, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        publish_on_commit(assembly_id=7, kind="members")
        raise Boom
    assert callbacks == []
    assert received == []


@pytest.mark.django_db
def test_it_keeps_the_changes_of_the_part_that_committed(
    received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(assembly_id=1, kind="kept")
        with pytest.raises(Boom), transaction.atomic():
            publish_on_commit(assembly_id=2, kind="dropped")
            raise Boom
    assert [change.kind for change in received] == ["kept"]


def test_it_fills_in_defaults_for_a_change():
    assert Change(assembly_id=3) == Change(3, None, None, "")


# --- real commits and rollbacks ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_publishes_after_a_real_commit(received):
    with transaction.atomic():
        publish_on_commit(assembly_id=1, kind="meeting")
        assert received == []
    assert received == [Change(assembly_id=1, kind="meeting")]


@pytest.mark.django_db(transaction=True)
def test_it_publishes_nothing_after_a_real_rollback(received):
    with pytest.raises(Boom), transaction.atomic():
        publish_on_commit(assembly_id=1, kind="meeting")
        raise Boom
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_it_announces_a_position_once_it_is_committed(received, open_call, participant):
    received.clear()
    seen_rows = []
    state_changed.connect(
        lambda sender, change, **kw: seen_rows.append(Position.objects.count()),
        weak=False,
        dispatch_uid="test_events_rows",
    )
    try:
        position = proposal_services.take_position(
            actor=participant, proposal=open_call, kind="agree"
        )
    finally:
        state_changed.disconnect(dispatch_uid="test_events_rows")
    assert received == [
        Change(
            assembly_id=open_call.assembly_id,
            proposal_id=open_call.pk,
            meeting_id=None,
            kind="position",
            member_ids=(participant.pk,),
        )
    ]
    # The receiver ran after the commit: the new row was already there to read.
    assert seen_rows == [1]
    assert position.is_current


@pytest.mark.django_db(transaction=True)
def test_it_announces_nothing_for_a_refused_position(received, open_call, participant):
    received.clear()
    with pytest.raises(DomainError):
        proposal_services.take_position(actor=participant, proposal=open_call, kind="block")
    assert received == []
    assert not Position.objects.exists()


# --- what the services announce ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_announces_a_position_with_the_proposal_id(
    received, open_call, participant, django_capture_on_commit_callbacks
):
    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
        assert received == []
    assert received == [
        Change(
            assembly_id=open_call.assembly_id,
            proposal_id=open_call.pk,
            kind="position",
            member_ids=(participant.pk,),
        )
    ]


@pytest.mark.django_db
def test_it_announces_the_meeting_of_a_proposal_on_an_agenda(
    received, facilitator, participant, django_capture_on_commit_callbacks
):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=facilitator.assembly, title="GA"
    )
    proposal = proposal_services.submit_proposal(
        actor=participant, title="Tarp", text="Buy a tarp.", meeting=meeting
    )
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")
    assert received == [
        Change(
            assembly_id=proposal.assembly_id,
            proposal_id=proposal.pk,
            meeting_id=meeting.pk,
            kind="position",
            member_ids=(participant.pk,),
        )
    ]


@pytest.mark.django_db
def test_it_announces_nothing_when_a_service_refuses(
    received, open_call, observer, django_capture_on_commit_callbacks
):
    received.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DomainError),
    ):
        proposal_services.take_position(actor=observer, proposal=open_call, kind="agree")
    assert callbacks == []
    assert received == []


@pytest.mark.django_db
def test_it_announces_a_decision_and_its_log_line(
    received, open_call, facilitator, django_capture_on_commit_callbacks
):
    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        proposal_services.close_call(actor=facilitator, proposal=open_call)
    # One announcement per act: the decision's (its log line is in the same snapshot).
    kinds = [change.kind for change in received]
    assert kinds == ["decision"]
    decision_change = next(change for change in received if change.kind == "decision")
    assert decision_change.proposal_id == open_call.pk
