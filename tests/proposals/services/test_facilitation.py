"""proposals.services: facilitator-only services and the facilitation log.

Against the real database (with its append-only triggers); refusals also check that
nothing was written.
"""

import pytest

from core.errors import Conflict, NotFound, PermissionDenied
from proposals import services
from sittings import services as sitting_services
from tests.fixtures.state import db_state
from tests.proposals.services.helpers import refused, submit

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
