"""Service tests for assemblies, memberships, sittings and the agenda (real PostgreSQL).

Each test checks one behaviour through `assemblies.services`; refusals also check that the
database is left exactly as it was.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from assemblies import services
from assemblies.models import (
    AgendaItem,
    Assembly,
    JoinedVia,
    Meeting,
    MeetingState,
    Membership,
    MembershipStatus,
    Role,
)
from assemblies.rules import PRESETS
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import services as proposal_services
from sittings import services as sitting_services
from tests.fixtures.state import db_state

# --- helpers -----------------------------------------------------------------------------------


def new_user(username: str) -> User:
    return User.objects.create_user(username=username, password="x")


def refused(call, exc_type, code):
    """Run `call`, expect `exc_type` with `code`, and return the error."""
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    return info.value


@pytest.fixture
def meeting(assembly, facilitator):
    return sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Evening GA"
    )


@pytest.fixture
def live_meeting(meeting, facilitator):
    return sitting_services.start_meeting(actor=facilitator, meeting=meeting)


def submit(author, title="Open the kitchen at 8", meeting=None):
    return proposal_services.submit_proposal(
        actor=author, title=title, text="The kitchen opens at 8.", meeting=meeting
    )


# --- create_assembly ---------------------------------------------------------------------------


def test_it_makes_the_creator_the_first_facilitator(facilitator_user):
    assembly = services.create_assembly(actor=facilitator_user, name="Zuccotti Park GA")
    member = assembly.memberships.get()
    assert member.user == facilitator_user
    assert member.role == Role.FACILITATOR
    assert member.status == MembershipStatus.ACTIVE
    assert member.display_name == "fran"
    assert assembly.created_by == facilitator_user


def test_it_generates_a_slug_from_the_name(facilitator_user):
    assembly = services.create_assembly(actor=facilitator_user, name="  Zuccotti   Park GA ")
    assert assembly.name == "Zuccotti Park GA"
    assert assembly.slug == "zuccotti-park-ga"


def test_it_generates_a_distinct_slug_when_the_name_is_taken(facilitator_user):
    first = services.create_assembly(actor=facilitator_user, name="Oakland GA")
    second = services.create_assembly(actor=new_user("olga"), name="Oakland GA")
    assert first.slug == "oakland-ga"
    assert second.slug.startswith("oakland-ga-")
    assert second.slug != first.slug


def test_it_falls_back_to_a_generic_slug_for_a_name_without_letters(facilitator_user):
    assembly = services.create_assembly(actor=facilitator_user, name="!!!")
    assert assembly.slug == "assembly"


def test_it_refuses_an_explicit_slug_already_taken(assembly):
    sam = new_user("sam")
    before = db_state()
    refused(
        lambda: services.create_assembly(actor=sam, name="Another", slug="Liberty Square"),
        Conflict,
        "slug_taken",
    )
    assert db_state() == before


def test_it_refuses_an_invalid_decision_rule(facilitator_user):
    error = refused(
        lambda: services.create_assembly(
            actor=facilitator_user, name="Rules GA", decision_rule={"max_blocks": -1}
        ),
        DomainError,
        "invalid_rule",
    )
    assert "max_blocks" in error.message
    assert not Assembly.objects.exists()


def test_it_refuses_an_unknown_decision_rule_key(facilitator_user):
    refused(
        lambda: services.create_assembly(
            actor=facilitator_user, name="Rules GA", decision_rule={"veto": True}
        ),
        DomainError,
        "invalid_rule",
    )
    assert not Assembly.objects.exists()


def test_it_stores_full_consensus_when_no_rule_is_given(facilitator_user):
    assembly = services.create_assembly(actor=facilitator_user, name="Default GA")
    assert assembly.decision_rule == PRESETS["consensus"].to_dict()


@pytest.mark.parametrize("name", ["", "   ", None])
def test_it_refuses_an_empty_name(facilitator_user, name):
    refused(
        lambda: services.create_assembly(actor=facilitator_user, name=name),
        DomainError,
        "name_required",
    )
    assert not Assembly.objects.exists()


def test_it_refuses_an_unknown_visibility(facilitator_user):
    refused(
        lambda: services.create_assembly(
            actor=facilitator_user, name="Secret GA", visibility="secret"
        ),
        DomainError,
        "invalid_visibility",
    )
    assert not Assembly.objects.exists()


def test_it_refuses_an_explicit_slug_with_nothing_usable_in_it(facilitator_user):
    refused(
        lambda: services.create_assembly(actor=facilitator_user, name="Slug GA", slug="!!!"),
        DomainError,
        "invalid_slug",
    )
    assert not Assembly.objects.exists()


def test_it_logs_the_creation(assembly, facilitator):
    entry = assembly.log_entries.get()
    assert entry.action == "assemblies.assembly.created"
    assert entry.actor == facilitator


# --- update_assembly ---------------------------------------------------------------------------


def test_it_lets_a_facilitator_change_the_decision_rule(assembly, facilitator):
    services.update_assembly(
        actor=facilitator, assembly=assembly, decision_rule={"preset": "consensus_minus_one"}
    )
    assembly.refresh_from_db()
    assert assembly.decision_rule == PRESETS["consensus_minus_one"].to_dict()
    entry = assembly.log_entries.filter(action="assemblies.assembly.updated").get()
    assert entry.data == {"fields": ["decision_rule"]}
    assert entry.actor == facilitator


def test_it_lets_a_facilitator_rename_the_assembly(assembly, facilitator):
    services.update_assembly(actor=facilitator, assembly=assembly, name="  Liberty   Plaza ")
    assembly.refresh_from_db()
    assert assembly.name == "Liberty Plaza"


def test_it_refuses_an_invalid_rule_on_update(assembly, facilitator):
    before = db_state()
    refused(
        lambda: services.update_assembly(
            actor=facilitator, assembly=assembly, decision_rule={"fallback_supermajority": 0.9}
        ),
        DomainError,
        "invalid_rule",
    )
    assert db_state() == before


def test_it_refuses_an_empty_name_on_update(assembly, facilitator):
    before = db_state()
    refused(
        lambda: services.update_assembly(actor=facilitator, assembly=assembly, name="  "),
        DomainError,
        "name_required",
    )
    assert db_state() == before


def test_it_writes_nothing_when_an_update_changes_nothing(assembly, facilitator):
    before = db_state()
    services.update_assembly(actor=facilitator, assembly=assembly)
    assert db_state() == before


# --- join_assembly -----------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["public", "unlisted"])
def test_it_lets_anyone_join_a_public_or_unlisted_assembly(facilitator_user, visibility):
    assembly = services.create_assembly(
        actor=facilitator_user, name="Open GA", visibility=visibility
    )
    member = services.join_assembly(user=new_user("jo"), assembly=assembly, display_name="Jo")
    assert member.status == MembershipStatus.ACTIVE
    assert member.role == Role.PARTICIPANT
    assert member.joined_via == JoinedVia.ACCOUNT
    assert member.display_name == "Jo"


def test_it_uses_the_username_when_no_display_name_is_given(assembly):
    member = services.join_assembly(user=new_user("quinn"), assembly=assembly)
    assert member.display_name == "quinn"


def test_it_answers_not_found_to_joining_a_private_assembly(other_assembly):
    before = db_state()
    refused(
        lambda: services.join_assembly(user=new_user("jo"), assembly=other_assembly),
        NotFound,
        "assembly_not_found",
    )
    # new_user() ran before the snapshot was compared, so compare memberships only.
    assert list(Membership.objects.order_by("pk").values()) == before["assemblies.Membership"]


def test_it_makes_joiners_wait_when_admission_is_required(pending_member):
    pending_member.refresh_from_db()
    assert pending_member.status == MembershipStatus.PENDING
    assert not pending_member.can_act


def test_it_returns_the_same_membership_when_joining_twice(assembly, participant):
    again = services.join_assembly(user=participant.user, assembly=assembly, display_name="Pat")
    assert again.pk == participant.pk
    assert assembly.memberships.filter(user=participant.user).count() == 1


def test_it_lets_a_member_rejoin_after_leaving(assembly, participant):
    services.leave_assembly(member=participant)
    again = services.join_assembly(
        user=participant.user, assembly=assembly, display_name="Pat again"
    )
    assert again.pk == participant.pk
    assert again.status == MembershipStatus.ACTIVE
    assert again.display_name == "Pat again"


def test_it_makes_a_rejoining_member_wait_when_admission_is_required(
    assembly, facilitator, participant
):
    services.leave_assembly(member=participant)
    services.update_assembly(actor=facilitator, assembly=assembly, admission_required=True)
    again = services.join_assembly(user=participant.user, assembly=assembly)
    assert again.status == MembershipStatus.PENDING


def test_it_refuses_a_removed_member_who_tries_to_rejoin(assembly, facilitator, participant):
    services.remove_member(actor=facilitator, member=participant)
    refused(
        lambda: services.join_assembly(user=participant.user, assembly=assembly),
        PermissionDenied,
        "removed",
    )
    participant.refresh_from_db()
    assert participant.status == MembershipStatus.REMOVED


def test_it_refuses_a_removed_member_who_tries_the_join_code(assembly, facilitator, participant):
    services.remove_member(actor=facilitator, member=participant)
    refused(
        lambda: services.join_by_code(
            code=assembly.join_code, display_name="Pat", user=participant.user
        ),
        PermissionDenied,
        "removed",
    )


# --- join_by_code ------------------------------------------------------------------------------


def test_it_creates_a_guest_account_without_a_usable_password(assembly):
    member = services.join_by_code(code=assembly.join_code, display_name="  Guest   Gil ")
    assert member.assembly == assembly
    assert member.display_name == "Guest Gil"
    assert member.joined_via == JoinedVia.CODE
    assert member.status == MembershipStatus.ACTIVE
    assert member.user.username.startswith("guest-")
    assert not member.user.has_usable_password()


def test_it_makes_a_distinct_guest_for_each_code_join(assembly):
    first = services.join_by_code(code=assembly.join_code, display_name="Ana")
    second = services.join_by_code(code=assembly.join_code, display_name="Bea")
    assert first.user_id != second.user_id


def test_it_joins_a_private_assembly_by_code(other_assembly):
    member = services.join_by_code(code=other_assembly.join_code, display_name="Gil")
    assert member.assembly == other_assembly
    assert member.is_active


def test_it_uses_the_logged_in_user_when_joining_by_code(assembly):
    user = new_user("ursula")
    member = services.join_by_code(code=assembly.join_code, display_name="Ursula", user=user)
    assert member.user == user
    assert User.objects.filter(username__startswith="guest-").count() == 0


def test_it_makes_code_joiners_wait_when_admission_is_required(assembly, facilitator):
    services.update_assembly(actor=facilitator, assembly=assembly, admission_required=True)
    member = services.join_by_code(code=assembly.join_code, display_name="Gil")
    assert member.status == MembershipStatus.PENDING


def test_it_refuses_a_wrong_code_and_creates_no_guest(assembly):
    before = db_state()
    refused(
        lambda: services.join_by_code(code="WRONGCODE", display_name="Gil"),
        DomainError,
        "invalid_code",
    )
    assert db_state() == before


@pytest.mark.parametrize("code", ["", "   ", None])
def test_it_refuses_an_empty_code(assembly, code):
    refused(
        lambda: services.join_by_code(code=code, display_name="Gil"), DomainError, "invalid_code"
    )


@pytest.mark.parametrize(
    "spelling",
    [
        lambda code: code.lower(),
        lambda code: f"  {code[:4]} {code[4:]}  ",
        lambda code: f"{code[:4]}-{code[4:]}".lower(),
        lambda code: " - ".join(code),
    ],
    ids=["lower-case", "spaces", "dash-lower", "spaced-dashes"],
)
def test_it_normalises_the_code_as_people_type_it(assembly, spelling):
    member = services.join_by_code(code=spelling(assembly.join_code), display_name="Gil")
    assert member.assembly == assembly


def test_it_refuses_another_assemblys_code_on_a_join_link(assembly, other_assembly):
    before = db_state()
    refused(
        lambda: services.join_by_code(
            code=other_assembly.join_code, display_name="Gil", assembly=assembly
        ),
        DomainError,
        "invalid_code",
    )
    assert db_state() == before


def test_it_accepts_the_right_code_on_a_join_link(assembly):
    member = services.join_by_code(code=assembly.join_code, display_name="Gil", assembly=assembly)
    assert member.assembly == assembly


@pytest.mark.parametrize("display_name", ["", "   ", None])
def test_it_refuses_an_empty_display_name_on_code_join(assembly, display_name):
    before = db_state()
    refused(
        lambda: services.join_by_code(code=assembly.join_code, display_name=display_name),
        DomainError,
        "display_name_required",
    )
    assert db_state() == before


def test_it_refuses_a_display_name_longer_than_80_characters(assembly):
    before = db_state()
    refused(
        lambda: services.join_by_code(code=assembly.join_code, display_name="x" * 81),
        DomainError,
        "display_name_too_long",
    )
    assert db_state() == before


def test_it_accepts_a_display_name_of_exactly_80_characters(assembly):
    member = services.join_by_code(code=assembly.join_code, display_name="x" * 80)
    assert len(member.display_name) == 80


# --- leave_assembly ----------------------------------------------------------------------------


def test_it_lets_a_participant_leave(participant):
    services.leave_assembly(member=participant)
    participant.refresh_from_db()
    assert participant.status == MembershipStatus.LEFT


def test_it_refuses_to_let_the_last_facilitator_leave(facilitator):
    before = db_state()
    refused(lambda: services.leave_assembly(member=facilitator), Conflict, "last_facilitator")
    assert db_state() == before


def test_it_lets_a_facilitator_leave_when_another_remains(facilitator, make_member):
    make_member("Fay", Role.FACILITATOR)
    services.leave_assembly(member=facilitator)
    facilitator.refresh_from_db()
    assert facilitator.status == MembershipStatus.LEFT


def test_it_refuses_leaving_twice(participant):
    services.leave_assembly(member=participant)
    refused(lambda: services.leave_assembly(member=participant), PermissionDenied, "not_a_member")


# --- change_role -------------------------------------------------------------------------------


def test_it_lets_a_facilitator_make_someone_a_facilitator(facilitator, participant):
    services.change_role(actor=facilitator, member=participant, role=Role.FACILITATOR)
    participant.refresh_from_db()
    assert participant.role == Role.FACILITATOR
    entry = facilitator.assembly.log_entries.get(action="assemblies.member.role_changed")
    assert entry.data["old"] == "participant"
    assert entry.data["new"] == "facilitator"
    assert entry.data["member_id"] == participant.pk


def test_it_refuses_to_demote_the_last_facilitator(facilitator):
    before = db_state()
    refused(
        lambda: services.change_role(actor=facilitator, member=facilitator, role=Role.PARTICIPANT),
        Conflict,
        "last_facilitator",
    )
    assert db_state() == before


def test_it_lets_a_facilitator_step_down_when_another_remains(facilitator, make_member):
    make_member("Fay", Role.FACILITATOR)
    services.change_role(actor=facilitator, member=facilitator, role=Role.PARTICIPANT)
    facilitator.refresh_from_db()
    assert facilitator.role == Role.PARTICIPANT


def test_it_refuses_an_unknown_role(facilitator, participant):
    before = db_state()
    refused(
        lambda: services.change_role(actor=facilitator, member=participant, role="king"),
        DomainError,
        "invalid_role",
    )
    assert db_state() == before


def test_it_answers_not_found_for_a_member_of_another_assembly(facilitator, outsider):
    before = db_state()
    refused(
        lambda: services.change_role(actor=facilitator, member=outsider, role=Role.OBSERVER),
        NotFound,
        "member_not_found",
    )
    assert db_state() == before


# --- admit_member / remove_member --------------------------------------------------------------


def test_it_lets_a_facilitator_admit_a_pending_member(facilitator, pending_member):
    services.admit_member(actor=facilitator, member=pending_member)
    pending_member.refresh_from_db()
    assert pending_member.status == MembershipStatus.ACTIVE
    assert facilitator.assembly.log_entries.filter(action="assemblies.member.admitted").exists()


def test_it_refuses_to_admit_someone_not_pending(facilitator, participant):
    before = db_state()
    refused(
        lambda: services.admit_member(actor=facilitator, member=participant),
        Conflict,
        "not_pending",
    )
    assert db_state() == before


def test_it_refuses_to_admit_a_member_of_another_assembly(facilitator, outsider):
    refused(
        lambda: services.admit_member(actor=facilitator, member=outsider),
        NotFound,
        "member_not_found",
    )


def test_it_lets_a_facilitator_remove_a_member(facilitator, participant):
    services.remove_member(actor=facilitator, member=participant)
    participant.refresh_from_db()
    assert participant.status == MembershipStatus.REMOVED
    entry = facilitator.assembly.log_entries.get(action="assemblies.member.removed")
    assert entry.data == {"member": "Pat", "member_id": participant.pk}


def test_it_refuses_a_facilitator_removing_themselves(facilitator, make_member):
    make_member("Fay", Role.FACILITATOR)
    refused(
        lambda: services.remove_member(actor=facilitator, member=facilitator),
        Conflict,
        "remove_self",
    )


def test_it_refuses_to_remove_a_member_of_another_assembly(facilitator, outsider):
    before = db_state()
    refused(
        lambda: services.remove_member(actor=facilitator, member=outsider),
        NotFound,
        "member_not_found",
    )
    assert db_state() == before


def test_it_lets_a_removed_member_lose_their_rights(facilitator, participant):
    services.remove_member(actor=facilitator, member=participant)
    participant.refresh_from_db()
    assert not participant.can_act


# --- rotate_join_code --------------------------------------------------------------------------


def test_it_stops_the_old_code_working_after_rotation(assembly, facilitator):
    old = assembly.join_code
    new = services.rotate_join_code(actor=facilitator, assembly=assembly)
    assert new != old
    assembly.refresh_from_db()
    assert assembly.join_code == new
    refused(
        lambda: services.join_by_code(code=old, display_name="Gil"), DomainError, "invalid_code"
    )
    assert services.join_by_code(code=new, display_name="Gil").assembly == assembly
    assert assembly.log_entries.filter(action="assemblies.join_code.rotated").exists()


# --- meetings ----------------------------------------------------------------------------------


def test_it_schedules_a_meeting(assembly, facilitator):
    when = timezone.now() + timedelta(days=1)
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title=" Sunday  GA ", scheduled_for=when
    )
    assert meeting.state == MeetingState.SCHEDULED
    assert meeting.title == "Sunday GA"
    assert meeting.scheduled_for == when
    assert meeting.started_at is None
    entry = assembly.log_entries.get(action="assemblies.meeting.scheduled")
    assert entry.meeting == meeting


def test_it_refuses_a_meeting_without_a_title(assembly, facilitator):
    before = db_state()
    refused(
        lambda: sitting_services.schedule_meeting(
            actor=facilitator, assembly=assembly, title="   "
        ),
        DomainError,
        "title_required",
    )
    assert db_state() == before


def test_it_starts_a_scheduled_meeting(live_meeting):
    live_meeting.refresh_from_db()
    assert live_meeting.state == MeetingState.IN_SESSION
    assert live_meeting.started_at is not None


def test_it_allows_only_one_meeting_in_session_per_assembly(assembly, facilitator, live_meeting):
    second = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="Second")
    before = db_state()
    refused(
        lambda: sitting_services.start_meeting(actor=facilitator, meeting=second),
        Conflict,
        "meeting_in_session",
    )
    assert db_state() == before


def test_it_lets_two_assemblies_sit_at_the_same_time(live_meeting, other_assembly, outsider):
    theirs = sitting_services.schedule_meeting(
        actor=outsider, assembly=other_assembly, title="Theirs"
    )
    sitting_services.start_meeting(actor=outsider, meeting=theirs)
    assert Meeting.objects.filter(state=MeetingState.IN_SESSION).count() == 2


def test_it_refuses_to_start_a_meeting_twice(facilitator, live_meeting):
    refused(
        lambda: sitting_services.start_meeting(actor=facilitator, meeting=live_meeting),
        Conflict,
        "meeting_not_scheduled",
    )


def test_it_adjourns_a_meeting_in_session(facilitator, live_meeting):
    sitting_services.adjourn_meeting(actor=facilitator, meeting=live_meeting)
    live_meeting.refresh_from_db()
    assert live_meeting.state == MeetingState.ADJOURNED
    assert live_meeting.ended_at >= live_meeting.started_at


def test_it_refuses_to_adjourn_a_meeting_not_in_session(facilitator, meeting):
    refused(
        lambda: sitting_services.adjourn_meeting(actor=facilitator, meeting=meeting),
        Conflict,
        "meeting_not_in_session",
    )


def test_it_refuses_to_restart_an_adjourned_meeting(facilitator, live_meeting):
    sitting_services.adjourn_meeting(actor=facilitator, meeting=live_meeting)
    refused(
        lambda: sitting_services.start_meeting(actor=facilitator, meeting=live_meeting),
        Conflict,
        "meeting_not_scheduled",
    )


def test_it_lets_another_meeting_start_after_adjournment(assembly, facilitator, live_meeting):
    sitting_services.adjourn_meeting(actor=facilitator, meeting=live_meeting)
    second = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="Second")
    sitting_services.start_meeting(actor=facilitator, meeting=second)
    second.refresh_from_db()
    assert second.state == MeetingState.IN_SESSION


# --- agenda ------------------------------------------------------------------------------------


def test_it_numbers_agenda_items_in_order(facilitator, participant, meeting):
    proposals = [submit(participant, title=f"Item {n}") for n in range(3)]
    items = [
        sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=p)
        for p in proposals
    ]
    assert [item.position for item in items] == [1, 2, 3]
    assert [item.proposal for item in meeting.agenda_items.all()] == proposals
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.meeting == meeting


def test_it_adds_a_proposal_to_the_agenda_only_once(facilitator, participant, meeting):
    proposal = submit(participant)
    first = sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    again = sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    assert again.pk == first.pk
    assert meeting.agenda_items.count() == 1
    assert facilitator.assembly.log_entries.filter(action="assemblies.agenda.added").count() == 1


def test_it_continues_numbering_after_a_proposal_submitted_to_the_meeting(
    facilitator, participant, meeting
):
    submitted = submit(participant, title="Submitted", meeting=meeting)
    added = sitting_services.add_to_agenda(
        actor=facilitator, meeting=meeting, proposal=submit(participant)
    )
    assert submitted.agenda_items.get().position == 1
    assert added.position == 2


def test_it_answers_not_found_for_another_assemblys_proposal(facilitator, meeting, outsider):
    theirs = submit(outsider)
    before = db_state()
    refused(
        lambda: sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=theirs),
        NotFound,
        "proposal_not_found",
    )
    assert db_state() == before


def test_it_refuses_to_add_to_an_adjourned_meeting(facilitator, participant, live_meeting):
    sitting_services.adjourn_meeting(actor=facilitator, meeting=live_meeting)
    proposal = submit(participant)
    refused(
        lambda: sitting_services.add_to_agenda(
            actor=facilitator, meeting=live_meeting, proposal=proposal
        ),
        Conflict,
        "meeting_adjourned",
    )
    assert not AgendaItem.objects.exists()


def test_it_refuses_to_add_a_withdrawn_proposal(facilitator, participant, meeting):
    proposal = submit(participant)
    proposal_services.withdraw_proposal(actor=participant, proposal=proposal)
    proposal.refresh_from_db()
    refused(
        lambda: sitting_services.add_to_agenda(
            actor=facilitator, meeting=meeting, proposal=proposal
        ),
        Conflict,
        "proposal_final",
    )


def test_it_sets_the_current_proposal_from_the_agenda(facilitator, participant, live_meeting):
    proposal = submit(participant)
    sitting_services.add_to_agenda(actor=facilitator, meeting=live_meeting, proposal=proposal)
    sitting_services.set_current_proposal(
        actor=facilitator, meeting=live_meeting, proposal=proposal
    )
    live_meeting.refresh_from_db()
    assert live_meeting.current_proposal == proposal
    entry = live_meeting.log_entries.get(action="assemblies.meeting.current_proposal")
    assert entry.data["proposal_id"] == proposal.pk


def test_it_clears_the_current_proposal(facilitator, participant, live_meeting):
    proposal = submit(participant, meeting=live_meeting)
    sitting_services.set_current_proposal(
        actor=facilitator, meeting=live_meeting, proposal=proposal
    )
    sitting_services.set_current_proposal(actor=facilitator, meeting=live_meeting, proposal=None)
    live_meeting.refresh_from_db()
    assert live_meeting.current_proposal is None


def test_it_refuses_a_current_proposal_not_on_the_agenda(facilitator, participant, live_meeting):
    proposal = submit(participant)
    before = db_state()
    refused(
        lambda: sitting_services.set_current_proposal(
            actor=facilitator, meeting=live_meeting, proposal=proposal
        ),
        Conflict,
        "not_on_agenda",
    )
    assert db_state() == before


def test_it_refuses_a_current_proposal_before_the_meeting_starts(facilitator, participant, meeting):
    proposal = submit(participant, meeting=meeting)
    refused(
        lambda: sitting_services.set_current_proposal(
            actor=facilitator, meeting=meeting, proposal=proposal
        ),
        Conflict,
        "meeting_not_in_session",
    )


# --- facilitator-only services refuse everyone else --------------------------------------------


@pytest.fixture
def stage(assembly, facilitator, participant, make_member, pending_member):
    """Objects for every facilitator-only service to act on."""
    scheduled = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Later"
    )
    live = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="Now")
    sitting_services.start_meeting(actor=facilitator, meeting=live)
    proposal = submit(participant, meeting=live)
    loose = submit(participant, title="Not on an agenda yet")
    return {
        "assembly": assembly,
        "target": make_member("Terry"),
        "pending": pending_member,
        "scheduled": scheduled,
        "live": live,
        "proposal": proposal,
        "loose": loose,
    }


FACILITATOR_ONLY = {
    "update_assembly": (
        lambda actor, s: services.update_assembly(
            actor=actor, assembly=s["assembly"], name="Taken over", decision_rule={"quorum": 99}
        ),
        "assembly_not_found",
    ),
    "change_role": (
        lambda actor, s: services.change_role(
            actor=actor, member=s["target"], role=Role.FACILITATOR
        ),
        "member_not_found",
    ),
    "admit_member": (
        lambda actor, s: services.admit_member(actor=actor, member=s["pending"]),
        "member_not_found",
    ),
    "remove_member": (
        lambda actor, s: services.remove_member(actor=actor, member=s["target"]),
        "member_not_found",
    ),
    "rotate_join_code": (
        lambda actor, s: services.rotate_join_code(actor=actor, assembly=s["assembly"]),
        "assembly_not_found",
    ),
    "schedule_meeting": (
        lambda actor, s: sitting_services.schedule_meeting(
            actor=actor, assembly=s["assembly"], title="Rogue sitting"
        ),
        "assembly_not_found",
    ),
    "start_meeting": (
        lambda actor, s: sitting_services.start_meeting(actor=actor, meeting=s["scheduled"]),
        "meeting_not_found",
    ),
    "adjourn_meeting": (
        lambda actor, s: sitting_services.adjourn_meeting(actor=actor, meeting=s["live"]),
        "meeting_not_found",
    ),
    "add_to_agenda": (
        lambda actor, s: sitting_services.add_to_agenda(
            actor=actor, meeting=s["live"], proposal=s["loose"]
        ),
        "meeting_not_found",
    ),
    "set_current_proposal": (
        lambda actor, s: sitting_services.set_current_proposal(
            actor=actor, meeting=s["live"], proposal=s["proposal"]
        ),
        "meeting_not_found",
    ),
}


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
@pytest.mark.parametrize("who", ["participant", "observer"])
def test_it_refuses_facilitator_only_services_to_members(request, stage, service, who):
    actor = request.getfixturevalue(who)
    call, _outsider_code = FACILITATOR_ONLY[service]
    before = db_state()
    refused(lambda: call(actor, stage), PermissionDenied, "not_facilitator")
    assert db_state() == before


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
def test_it_answers_not_found_to_outsiders_for_facilitator_only_services(stage, outsider, service):
    """The outsider facilitates another assembly: that gives no power over this one."""
    call, code = FACILITATOR_ONLY[service]
    before = db_state()
    refused(lambda: call(outsider, stage), NotFound, code)
    assert db_state() == before


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
def test_it_refuses_facilitator_only_services_to_pending_members(stage, service):
    call, _outsider_code = FACILITATOR_ONLY[service]
    before = db_state()
    refused(lambda: call(stage["pending"], stage), PermissionDenied, "membership_pending")
    assert db_state() == before


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
def test_it_refuses_facilitator_only_services_to_a_facilitator_who_left(
    stage, facilitator, make_member, service
):
    make_member("Fay", Role.FACILITATOR)
    services.leave_assembly(member=facilitator)
    call, _outsider_code = FACILITATOR_ONLY[service]
    before = db_state()
    refused(lambda: call(facilitator, stage), PermissionDenied, "not_a_member")
    assert db_state() == before


# --- the facilitation log ----------------------------------------------------------------------


def test_it_logs_facilitator_actions_with_namespaced_codes(assembly, facilitator, participant):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    services.change_role(actor=facilitator, member=participant, role=Role.OBSERVER)
    services.rotate_join_code(actor=facilitator, assembly=assembly)
    sitting_services.adjourn_meeting(actor=facilitator, meeting=meeting)
    actions = list(assembly.log_entries.order_by("id").values_list("action", flat=True))
    assert actions == [
        "assemblies.assembly.created",
        "assemblies.meeting.scheduled",
        "assemblies.meeting.started",
        "assemblies.member.role_changed",
        "assemblies.join_code.rotated",
        "assemblies.meeting.adjourned",
    ]
    assert all(entry.actor == facilitator for entry in assembly.log_entries.all())


@pytest.fixture
def outsider_participant(other_assembly):
    """A plain participant of another assembly."""
    return services.join_by_code(code=other_assembly.join_code, display_name="Owen")


@pytest.mark.parametrize("service", FACILITATOR_ONLY)
def test_it_answers_not_found_to_outside_participants_for_facilitator_only_services(
    stage, outsider_participant, service
):
    call, code = FACILITATOR_ONLY[service]
    before = db_state()
    refused(lambda: call(outsider_participant, stage), NotFound, code)
    assert db_state() == before


def test_it_does_not_restore_a_facilitator_role_on_rejoining(assembly, facilitator, make_member):
    second = services.change_role(
        actor=facilitator, member=make_member("Sol"), role=Role.FACILITATOR
    )
    services.leave_assembly(member=second)
    again = services.join_assembly(user=second.user, assembly=assembly, display_name="Sol")
    assert again.pk == second.pk and again.status == "active"
    assert again.role == Role.PARTICIPANT
