"""The whole assembly: presence, the hall's two counters, the sum the rule applies to."""

import pytest

from assemblies.models import LogEntry, QuorumOf
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import selectors
from proposals import services as proposal_services
from proposals.models import Decision
from sittings import hall
from sittings import services as sitting_services
from sittings.live import build_snapshot
from sittings.minutes import minutes_markdown
from tests.fixtures.state import db_state


@pytest.fixture
def meeting(assembly, facilitator):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    return sitting_services.start_meeting(actor=facilitator, meeting=meeting)


@pytest.fixture
def counters(make_member, meeting, facilitator):
    ana, ben = make_member("Ana"), make_member("Ben")
    hall.choose_counters(actor=facilitator, meeting=meeting, members=[ana, ben])
    return ana, ben


@pytest.fixture
def on_floor(meeting, facilitator, open_call):
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=open_call)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=open_call)
    meeting.refresh_from_db()
    return open_call


def _present(meeting, counter, members):
    for member in members:
        hall.count_at_door(actor=counter, meeting=meeting, member=member)


def _count(counter, meeting, proposal, agree, stand_aside=0, block=0, blocks=None):
    return hall.enter_hall_count(
        actor=counter,
        meeting=meeting,
        proposal=proposal,
        agree=agree,
        stand_aside=stand_aside,
        block=block,
        blocks=blocks if blocks is not None else [],
    )


def _refused(call, exc_type, code):
    before = db_state()
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    assert db_state() == before


def test_it_records_the_hall_when_both_counts_agree_and_the_rule_applies_to_the_sum(
    meeting, counters, on_floor, make_member, participant
):
    ana, ben = counters
    _present(meeting, ana, [make_member() for _ in range(6)])
    proposal_services.take_position(actor=participant, proposal=on_floor, kind="agree")
    reason = [{"name": "", "reason": "The fund is for food."}]
    _count(ana, meeting, on_floor, 4, 1, 1, reason)
    assert selectors.hall_count_for(on_floor).state == "waiting"
    assert selectors.tally_for(on_floor).as_dict() == {"agree": 1, "stand_aside": 0, "block": 0}
    _count(ben, meeting, on_floor, 4, 1, 1, [{"name": "Rosa", "reason": "Food first."}])
    state = selectors.hall_count_for(on_floor)
    assert state.state == "recorded"
    assert state.blocks == ({"name": "", "reason": "The fund is for food."},)
    assert selectors.tally_for(on_floor).as_dict() == {"agree": 5, "stand_aside": 1, "block": 1}
    decision = proposal_services.close_call(
        actor=meeting.assembly.memberships.get(role="facilitator"), proposal=on_floor
    )
    assert decision.outcome == "blocked"
    assert decision.counts == {"agree": 5, "stand_aside": 1, "block": 1}
    assert decision.hall_counts == {"agree": 4, "stand_aside": 1, "block": 1}
    assert decision.online_counts == {"agree": 1, "stand_aside": 0, "block": 0}
    assert decision.record["hall"]["counters"] == ["Ana", "Ben"]
    assert decision.record["online_counts"] == decision.online_counts
    assert decision.record["counts"] == decision.counts
    actions = set(LogEntry.objects.values_list("action", flat=True))
    assert {"assemblies.hall.counted", "assemblies.hall.recorded"} <= actions


def test_it_shows_a_difference_and_records_nothing_until_a_recount(
    meeting, counters, on_floor, make_member, facilitator
):
    ana, ben = counters
    _present(meeting, ana, [make_member() for _ in range(5)])
    _count(ana, meeting, on_floor, 3)
    _count(ben, meeting, on_floor, 4)
    state = selectors.hall_count_for(on_floor)
    assert state.state == "differs"
    assert state.difference == {"agree": 1, "stand_aside": 0, "block": 0}
    assert state.as_dict()["entries"][0] == {
        "counter": "Ana",
        "counts": {"agree": 3, "stand_aside": 0, "block": 0},
    }
    assert selectors.tally_for(on_floor).total == 0
    # A counter may correct her count until the two agree.
    _count(ana, meeting, on_floor, 4)
    assert selectors.hall_count_for(on_floor).recorded.agree == 4
    _refused(lambda: _count(ana, meeting, on_floor, 2), Conflict, "hall_recorded")
    _refused(
        lambda: hall.call_recount(actor=ana, meeting=meeting, proposal=on_floor),
        PermissionDenied,
        "not_facilitator",
    )
    assert hall.call_recount(actor=facilitator, meeting=meeting, proposal=on_floor) == 2
    assert selectors.hall_count_for(on_floor).state == "none"
    assert LogEntry.objects.filter(action="assemblies.hall.recount", actor=facilitator).exists()
    _count(ana, meeting, on_floor, 2)
    assert selectors.hall_count_for(on_floor).state == "waiting"


def test_it_refuses_a_hall_count_larger_than_the_people_present(
    meeting, counters, on_floor, make_member
):
    ana, _ben = counters
    _present(meeting, ana, [make_member() for _ in range(3)])
    _refused(lambda: _count(ana, meeting, on_floor, 3, 1), DomainError, "more_than_present")
    _count(ana, meeting, on_floor, 2, 1)


def test_it_refuses_what_does_not_fit(
    meeting, counters, on_floor, make_member, participant, facilitator
):
    ana, _ben = counters
    _present(meeting, ana, [make_member() for _ in range(3)])
    _refused(lambda: _count(participant, meeting, on_floor, 1), PermissionDenied, "not_counter")
    _refused(lambda: _count(ana, meeting, on_floor, -1), DomainError, "count_invalid")
    _refused(lambda: _count(ana, meeting, on_floor, True), DomainError, "count_invalid")
    _refused(lambda: _count(ana, meeting, on_floor, 0, 0, 1), DomainError, "blocks_mismatch")
    _refused(
        lambda: _count(ana, meeting, on_floor, 0, 0, 1, [{"name": "Rosa", "reason": " "}]),
        DomainError,
        "reason_required",
    )
    _refused(
        lambda: hall.choose_counters(actor=facilitator, meeting=meeting, members=[ana, ana]),
        DomainError,
        "two_counters",
    )
    _refused(
        lambda: hall.choose_counters(
            actor=participant, meeting=meeting, members=[ana, facilitator]
        ),
        PermissionDenied,
        "not_facilitator",
    )


def test_it_counts_only_the_proposal_on_the_floor_in_its_call(
    meeting, counters, open_call, make_member, facilitator
):
    ana, _ben = counters
    _present(meeting, ana, [make_member()])
    _refused(lambda: _count(ana, meeting, open_call, 1), Conflict, "not_on_the_floor")


def test_it_checks_in_once_and_counts_at_the_door(meeting, counters, participant, make_member):
    ana, _ben = counters
    hall.check_in(actor=participant, meeting=meeting)
    hall.check_in(actor=participant, meeting=meeting)  # again: still once, no second log line
    assert LogEntry.objects.filter(action="assemblies.presence.checked_in").count() == 1
    rosa = make_member("Rosa")
    hall.count_at_door(actor=ana, meeting=meeting, member=rosa)
    _refused(
        lambda: hall.count_at_door(actor=ana, meeting=meeting, member=participant),
        Conflict,
        "already_present",
    )
    someone = make_member()
    _refused(
        lambda: hall.count_at_door(actor=participant, meeting=meeting, member=someone),
        PermissionDenied,
        "not_counter",
    )
    snapshot = build_snapshot(meeting.assembly_id, 1)
    assert snapshot["meeting"]["presence"] == {"present": 2, "checked_in": 1, "at_door": 1}
    assert snapshot["meeting"]["counters"] == ["Ana", "Ben"]


def test_it_refuses_check_in_when_no_sitting_is_in_session(assembly, facilitator, participant):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="Later")
    _refused(
        lambda: hall.check_in(actor=participant, meeting=meeting),
        Conflict,
        "meeting_not_in_session",
    )
    _refused(lambda: hall.check_in(actor=participant, meeting=None), NotFound, "meeting_not_found")


def test_it_measures_quorum_against_the_members_present_when_the_assembly_says_so(
    assembly, meeting, counters, on_floor, participant, facilitator, make_member
):
    ana, _ben = counters
    assembly.decision_rule = {"quorum": 3}
    assembly.save()
    on_floor.rule = {**on_floor.rule, "quorum": 3}
    on_floor.save(update_fields=["rule"])
    assembly.quorum_of = QuorumOf.PRESENT
    assembly.save(update_fields=["quorum_of"])
    on_floor.assembly.refresh_from_db()
    proposal_services.take_position(actor=participant, proposal=on_floor, kind="agree")
    _present(meeting, ana, [make_member(), make_member(), make_member()])
    # One position among three present: quorum of present members is met.
    decision = proposal_services.close_call(actor=facilitator, proposal=on_floor)
    assert decision.outcome == "consensus"
    assert decision.record["quorum"] == {"of": "present", "present": 3}


def test_a_sitting_of_40_in_the_hall_and_200_online_reaches_one_decision(
    meeting, counters, on_floor, make_member, facilitator
):
    ana, ben = counters
    hall_people = [make_member() for _ in range(40)]
    _present(meeting, ana, hall_people)
    online = [make_member() for _ in range(200)]
    requests = [
        proposal_services.PositionRequest(
            member_id=member.pk,
            assembly_id=on_floor.assembly_id,
            proposal_id=on_floor.pk,
            kind="stand_aside" if i < 10 else "agree",
            reason="",
            request_id="",
        )
        for i, member in enumerate(online)
    ]
    proposal_services.take_positions(requests)
    _count(ana, meeting, on_floor, 38, 2, 0)
    _count(ben, meeting, on_floor, 38, 2, 0)
    decision = proposal_services.close_call(actor=facilitator, proposal=on_floor)
    assert decision.outcome == "consensus_with_stand_asides"
    assert decision.counts == {"agree": 228, "stand_aside": 12, "block": 0}
    assert decision.record["online_counts"] == {"agree": 190, "stand_aside": 10, "block": 0}
    assert decision.record["hall"]["counts"] == {"agree": 38, "stand_aside": 2, "block": 0}
    assert Decision.objects.count() == 1
    minutes = minutes_markdown(meeting)
    assert "Present: 40 (0 checked in, 40 counted at the door)." in minutes
    assert "Online: 190 agree, 10 stand aside, 0 block." in minutes
    assert "In the hall (counted by Ana, Ben): 38 agree, 2 stand aside, 0 block." in minutes


def test_choosing_other_counters_clears_the_counts_of_those_replaced(
    meeting, counters, on_floor, make_member, facilitator
):
    ana, ben = counters
    _present(meeting, ana, [make_member() for _ in range(3)])
    _count(ana, meeting, on_floor, 2)
    _count(ben, meeting, on_floor, 2)
    assert selectors.hall_count_for(on_floor).state == "recorded"
    rosa = make_member("Rosa")
    hall.choose_counters(actor=facilitator, meeting=meeting, members=[ana, rosa])
    state = selectors.hall_count_for(on_floor)
    assert state.state == "waiting"
    assert [entry.counter for entry in state.entries] == [ana]
    _refused(lambda: _count(ben, meeting, on_floor, 2), PermissionDenied, "not_counter")
    _count(rosa, meeting, on_floor, 2)
    assert selectors.hall_count_for(on_floor).state == "recorded"
