"""The facilitator console, the projector, the public log and the minutes pages.

Data is built through the services; every refused POST also checks that the database is
left exactly as it was.
"""

from dataclasses import dataclass
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assemblies import services as assembly_services
from assemblies.models import (
    AgendaItem,
    Assembly,
    LogEntry,
    Meeting,
    MeetingState,
    Membership,
    MembershipStatus,
    StackEntry,
    StackKind,
    StackState,
)
from proposals import services as proposal_services
from proposals.models import Decision, HallCount, Outcome, Phase, Proposal, TemperatureCheck
from sittings import console, floor, hall
from sittings import services as sitting_services
from tests.fixtures.state import db_state

# --- helpers ---------------------------------------------------------------------------------


def action_url(assembly, action: str) -> str:
    return reverse("sittings:console_action", args=[assembly.slug, action])


def console_url(assembly) -> str:
    return reverse("sittings:console", args=[assembly.slug])


def body(response) -> str:
    return response.content.decode()


@dataclass
class World:
    assembly: Assembly
    facilitator: Membership
    participant: Membership
    proposal: Proposal
    make_member: object

    def meeting(self, *, start=False, on_agenda=(), current=None) -> Meeting:
        meeting = sitting_services.schedule_meeting(
            actor=self.facilitator, assembly=self.assembly, title="Evening GA"
        )
        for proposal in on_agenda:
            sitting_services.add_to_agenda(
                actor=self.facilitator, meeting=meeting, proposal=proposal
            )
        if start:
            meeting = sitting_services.start_meeting(actor=self.facilitator, meeting=meeting)
        if current is not None:
            meeting = sitting_services.set_current_proposal(
                actor=self.facilitator, meeting=meeting, proposal=current
            )
        return meeting

    def another_proposal(self, title="Keep the library open at night") -> Proposal:
        return proposal_services.submit_proposal(
            actor=self.participant, title=title, text="The library stays open."
        )

    def waiting_entry(self) -> StackEntry:
        meeting = self.meeting(start=True)
        return floor.raise_hand(actor=self.participant, meeting=meeting, kind=StackKind.SPEAK)


@pytest.fixture
def world(assembly, facilitator, participant, proposal, make_member):
    return World(assembly, facilitator, participant, proposal, make_member)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- one scenario per console action: (POST data, check after a facilitator's POST) ----------


def _schedule(w: World):
    def check():
        return Meeting.objects.filter(
            title="Harvest GA",
            state=MeetingState.SCHEDULED,
            scheduled_for=datetime(2030, 5, 1, 19, 0, tzinfo=timezone.get_default_timezone()),
        ).exists()

    return {"title": "Harvest GA", "scheduled_for": "2030-05-01T19:00"}, check


def _reschedule(w: World):
    meeting = w.meeting()
    when = datetime(2031, 6, 2, 18, 30, tzinfo=timezone.get_default_timezone())
    return (
        {"meeting": meeting.pk, "scheduled_for": "2031-06-02T18:30"},
        lambda: fresh(meeting).scheduled_for == when,
    )


def _start(w: World):
    meeting = w.meeting()
    return {"meeting": meeting.pk}, lambda: fresh(meeting).state == MeetingState.IN_SESSION


def _adjourn(w: World):
    meeting = w.meeting(start=True)
    confirmed = {"meeting": meeting.pk, "confirm": "1"}
    return confirmed, lambda: fresh(meeting).state == MeetingState.ADJOURNED


def _agenda_add(w: World):
    meeting = w.meeting()
    return (
        {"meeting": meeting.pk, "proposal": w.proposal.pk},
        lambda: AgendaItem.objects.filter(meeting=meeting, proposal=w.proposal).exists(),
    )


def _agenda_order(w: World):
    other = w.another_proposal()
    meeting = w.meeting(on_agenda=[w.proposal, other])
    items = list(meeting.agenda_items.order_by("position"))
    return meeting, items


def _titles(meeting) -> list[str]:
    return [i.proposal.title for i in meeting.agenda_items.order_by("position")]


def _agenda_up(w: World):
    meeting, items = _agenda_order(w)
    return (
        {"item": items[1].pk},
        lambda: _titles(meeting) == [items[1].proposal.title, items[0].proposal.title],
    )


def _agenda_down(w: World):
    meeting, items = _agenda_order(w)
    return (
        {"item": items[0].pk},
        lambda: _titles(meeting) == [items[1].proposal.title, items[0].proposal.title],
    )


def _agenda_remove(w: World):
    meeting, items = _agenda_order(w)
    return {"item": items[0].pk}, lambda: _titles(meeting) == [items[1].proposal.title]


def _make_current(w: World):
    meeting = w.meeting(start=True, on_agenda=[w.proposal])
    return (
        {"meeting": meeting.pk, "proposal": w.proposal.pk},
        lambda: fresh(meeting).current_proposal_id == w.proposal.pk,
    )


def _phase(w: World):
    return (
        {"proposal": w.proposal.pk, "phase": Phase.QUESTIONS},
        lambda: fresh(w.proposal).phase == Phase.QUESTIONS,
    )


def _temperature_open(w: World):
    return (
        {"proposal": w.proposal.pk},
        lambda: TemperatureCheck.objects.filter(
            proposal=w.proposal, closed_at__isnull=True
        ).exists(),
    )


def _temperature_close(w: World):
    check = proposal_services.open_temperature_check(actor=w.facilitator, proposal=w.proposal)
    return {"proposal": w.proposal.pk}, lambda: fresh(check).closed_at is not None


def _call(w: World):
    return {"proposal": w.proposal.pk}, lambda: fresh(w.proposal).phase == Phase.CALL


def _close(w: World):
    proposal_services.call_for_consensus(actor=w.facilitator, proposal=w.proposal)
    proposal_services.take_position(actor=w.participant, proposal=w.proposal, kind="agree")

    def check():
        return (
            Decision.objects.filter(proposal=w.proposal, outcome=Outcome.CONSENSUS).exists()
            and fresh(w.proposal).phase == Phase.DECIDED
        )

    return {"proposal": w.proposal.pk, "confirm": "1"}, check


def _table(w: World):
    return {"proposal": w.proposal.pk}, lambda: fresh(w.proposal).phase == Phase.TABLED


def _withdraw(w: World):
    def check():
        return (
            fresh(w.proposal).phase == Phase.WITHDRAWN
            and Decision.objects.filter(proposal=w.proposal, outcome=Outcome.WITHDRAWN).exists()
        )

    return {"proposal": w.proposal.pk, "confirm": "1"}, check


def _call_next(w: World):
    entry = w.waiting_entry()

    def check():
        return (
            fresh(entry).state == StackState.SPEAKING
            and fresh(entry.meeting).timer_started_at is not None
        )

    return {"meeting": entry.meeting_id}, check


def _add_speaker(w: World):
    meeting = w.waiting_entry().meeting

    members = Membership.objects.count()

    def check():
        # On the stack by name, and not made a member.
        entry = StackEntry.objects.filter(meeting=meeting, hall_name="Rosa", member=None)
        return entry.exists() and Membership.objects.count() == members

    return {"meeting": meeting.pk, "display_name": "Rosa", "kind": "speak"}, check


def _skip(w: World):
    entry = w.waiting_entry()
    return {"entry": entry.pk}, lambda: fresh(entry).state == StackState.SKIPPED


def _remove_entry(w: World):
    entry = w.waiting_entry()
    return {"entry": entry.pk}, lambda: fresh(entry).state == StackState.REMOVED


def _priority(w: World):
    entry = w.waiting_entry()
    return {"entry": entry.pk}, lambda: fresh(entry).priority == 1


def _progressive(w: World):
    meeting = w.meeting(start=True)
    return {"meeting": meeting.pk, "on": "1"}, lambda: fresh(meeting).progressive_stack is True


def _timer_start(w: World):
    meeting = w.meeting(start=True)

    def check():
        meeting_now = fresh(meeting)
        return meeting_now.timer_seconds == 90 and meeting_now.timer_started_at is not None

    return {"meeting": meeting.pk, "seconds": "90"}, check


def _timer_stop(w: World):
    meeting = w.meeting(start=True)
    floor.set_timer(actor=w.facilitator, meeting=meeting, running=True)
    return {"meeting": meeting.pk}, lambda: fresh(meeting).timer_started_at is None


def _admit(w: World):
    assembly_services.update_assembly(
        actor=w.facilitator, assembly=w.assembly, admission_required=True
    )
    pending = w.make_member("Penny")
    assert pending.status == MembershipStatus.PENDING
    return {"member": pending.pk}, lambda: fresh(pending).status == MembershipStatus.ACTIVE


def _remove_member(w: World):
    return (
        {"member": w.participant.pk},
        lambda: fresh(w.participant).status == MembershipStatus.REMOVED,
    )


def _rotate_code(w: World):
    code = w.assembly.join_code
    return {}, lambda: fresh(w.assembly).join_code != code


def _counters(w: World):
    meeting = w.meeting(start=True)
    ana, ben = w.make_member("Ana"), w.make_member("Ben")
    return (
        {"meeting": meeting.pk, "counter_a": ana.pk, "counter_b": ben.pk},
        lambda: set(fresh(meeting).hall_counters.all()) == {ana, ben},
    )


def _recount(w: World):
    proposal = proposal_services.call_for_consensus(actor=w.facilitator, proposal=w.proposal)
    meeting = w.meeting(start=True, on_agenda=[proposal], current=proposal)
    ana, ben = w.make_member("Ana"), w.make_member("Ben")
    hall.choose_counters(actor=w.facilitator, meeting=meeting, members=[ana, ben])
    hall.count_at_door(actor=ana, meeting=meeting, member=ben)
    hall.enter_hall_count(
        actor=ana, meeting=meeting, proposal=proposal, agree=1, stand_aside=0, block=0, blocks=[]
    )
    return (
        {"meeting": meeting.pk, "proposal": proposal.pk},
        lambda: not HallCount.objects.filter(cleared_at__isnull=True).exists(),
    )


SCENARIOS = {
    "schedule": _schedule,
    "reschedule": _reschedule,
    "counters": _counters,
    "recount": _recount,
    "start": _start,
    "adjourn": _adjourn,
    "agenda-add": _agenda_add,
    "agenda-up": _agenda_up,
    "agenda-down": _agenda_down,
    "agenda-remove": _agenda_remove,
    "make-current": _make_current,
    "phase": _phase,
    "temperature-open": _temperature_open,
    "temperature-close": _temperature_close,
    "call": _call,
    "close": _close,
    "table": _table,
    "withdraw": _withdraw,
    "call-next": _call_next,
    "add-speaker": _add_speaker,
    "skip": _skip,
    "remove-entry": _remove_entry,
    "priority": _priority,
    "progressive": _progressive,
    "timer-start": _timer_start,
    "timer-stop": _timer_stop,
    "admit": _admit,
    "remove-member": _remove_member,
    "rotate-code": _rotate_code,
}
ALL_ACTIONS = sorted(SCENARIOS)


def test_it_has_a_scenario_for_every_console_action():
    assert set(SCENARIOS) == set(console.ACTIONS)


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_it_performs_each_action_for_a_facilitator(client, world, action):
    data, check = SCENARIOS[action](world)
    before = LogEntry.objects.count()
    assert check() is False, "the scenario's change must not be there yet"
    client.force_login(world.facilitator.user)
    response = client.post(action_url(world.assembly, action), data)
    assert response.status_code == 302
    assert response["Location"] == console_url(world.assembly)
    assert check() is True
    # Every console action is written to the public facilitation log.
    assert LogEntry.objects.count() > before
    assert LogEntry.objects.order_by("-pk").first().actor == world.facilitator


@pytest.mark.parametrize("action", ALL_ACTIONS)
@pytest.mark.parametrize("who", ["participant", "observer"])
def test_it_refuses_each_action_to_a_non_facilitator_with_403(
    client, request, world, observer, action, who
):
    data, _check = SCENARIOS[action](world)
    member = request.getfixturevalue(who)
    before = db_state()
    client.force_login(member.user)
    response = client.post(action_url(world.assembly, action), data)
    assert response.status_code == 403
    assert "Only a facilitator of this assembly can do this." in body(response)
    assert db_state() == before


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_it_answers_404_to_an_outsider_posting_to_a_private_assembly(
    client, world, outsider, action
):
    data, _check = SCENARIOS[action](world)
    assembly_services.update_assembly(
        actor=world.facilitator, assembly=world.assembly, visibility="private"
    )
    before = db_state()
    client.force_login(outsider.user)
    response = client.post(action_url(world.assembly, action), data)
    assert response.status_code == 404
    assert db_state() == before


@pytest.mark.parametrize("action", ["rotate-code", "call"])
def test_it_refuses_an_anonymous_post(client, world, action):
    data, _check = SCENARIOS[action](world)
    before = db_state()
    response = client.post(action_url(world.assembly, action), data)
    assert response.status_code == 403
    assert db_state() == before


def test_it_answers_404_for_an_unknown_action(client, world):
    client.force_login(world.facilitator.user)
    before = db_state()
    assert client.post(action_url(world.assembly, "dance")).status_code == 404
    assert db_state() == before


def test_it_refuses_a_get_on_an_action(client, world):
    client.force_login(world.facilitator.user)
    before = db_state()
    assert client.get(action_url(world.assembly, "rotate-code")).status_code == 405
    assert db_state() == before


def test_it_answers_404_for_an_id_of_another_assembly(client, world, outsider, other_assembly):
    theirs = sitting_services.schedule_meeting(
        actor=outsider, assembly=other_assembly, title="Their GA"
    )
    client.force_login(world.facilitator.user)
    before = db_state()
    response = client.post(action_url(world.assembly, "start"), {"meeting": theirs.pk})
    assert response.status_code == 404
    assert db_state() == before


def test_it_shows_a_missing_field_on_the_console(client, world):
    client.force_login(world.facilitator.user)
    before = db_state()
    response = client.post(action_url(world.assembly, "start"), {}, follow=True)
    assert response.status_code == 200
    assert "A required field is missing." in body(response)
    assert db_state() == before


# --- conflicts, the close preview ------------------------------------------------------------


def test_it_shows_a_conflict_on_the_console_and_changes_nothing(client, world):
    meeting = world.meeting(start=True)
    client.force_login(world.facilitator.user)
    before = db_state()
    response = client.post(
        action_url(world.assembly, "start"), {"meeting": meeting.pk}, follow=True
    )
    assert response.redirect_chain == [(console_url(world.assembly), 302)]
    assert response.status_code == 200
    assert "Only a scheduled sitting can be started." in body(response)
    assert db_state() == before


def test_it_shows_invalid_speaking_time_on_the_console(client, world):
    meeting = world.meeting(start=True)
    client.force_login(world.facilitator.user)
    before = db_state()
    response = client.post(
        action_url(world.assembly, "timer-start"),
        {"meeting": meeting.pk, "seconds": "5"},
        follow=True,
    )
    assert "Speaking time is between 10 s and 1 hour." in body(response)
    assert db_state() == before


def test_it_previews_the_outcome_before_closing_and_records_it(client, world):
    stand_aside = world.make_member("Quinn")
    meeting = world.meeting(start=True, on_agenda=[world.proposal])
    proposal_services.call_for_consensus(actor=world.facilitator, proposal=world.proposal)
    sitting_services.set_current_proposal(
        actor=world.facilitator, meeting=meeting, proposal=world.proposal
    )
    proposal_services.take_position(actor=world.participant, proposal=world.proposal, kind="agree")
    proposal_services.take_position(
        actor=stand_aside, proposal=world.proposal, kind="stand_aside", reason="Away that week."
    )
    client.force_login(world.facilitator.user)

    page = body(client.get(console_url(world.assembly)))
    assert "If you close now, the rule decides:" in page
    assert "Consensus with stand-asides" in page
    assert not Decision.objects.exists()

    response = client.post(
        action_url(world.assembly, "close"),
        {"proposal": world.proposal.pk, "confirm": "1"},
        follow=True,
    )
    decision = Decision.objects.get(proposal=world.proposal)
    assert decision.outcome == Outcome.CONSENSUS_WITH_STAND_ASIDES
    assert "Recorded: Consensus with stand-asides." in body(response)
    assert "If you close now, the rule decides:" not in body(response)


def test_it_does_not_preview_a_close_outside_the_call(client, world):
    meeting = world.meeting(start=True, on_agenda=[world.proposal])
    sitting_services.set_current_proposal(
        actor=world.facilitator, meeting=meeting, proposal=world.proposal
    )
    client.force_login(world.facilitator.user)
    page = body(client.get(console_url(world.assembly)))
    assert world.proposal.title in page
    assert "If you close now, the rule decides:" not in page


# --- GET console -----------------------------------------------------------------------------


def test_it_shows_the_console_to_a_facilitator(client, world):
    entry = world.waiting_entry()
    client.force_login(world.facilitator.user)
    response = client.get(console_url(world.assembly))
    assert response.status_code == 200
    page = body(response)
    assert "Facilitator console" in page
    assert entry.meeting.title in page
    assert world.assembly.join_code in page
    assert "Pat" in page  # waiting on the stack
    assert action_url(world.assembly, "call-next") in page


@pytest.mark.parametrize("who", ["participant", "observer"])
def test_it_refuses_the_console_to_a_non_facilitator(client, request, world, observer, who):
    client.force_login(request.getfixturevalue(who).user)
    response = client.get(console_url(world.assembly))
    assert response.status_code == 403
    assert "Only a facilitator of this assembly can do this." in body(response)


def test_it_refuses_the_console_to_an_anonymous_visitor(client, world):
    response = client.get(console_url(world.assembly))
    assert response.status_code == 403
    assert "Only members of this assembly can do this." in body(response)


def test_it_answers_404_for_the_console_of_a_private_assembly_to_an_outsider(
    client, other_assembly, participant
):
    client.force_login(participant.user)
    assert client.get(console_url(other_assembly)).status_code == 404


def test_it_shows_the_console_of_a_private_assembly_to_its_facilitator(
    client, other_assembly, outsider
):
    client.force_login(outsider.user)
    assert client.get(console_url(other_assembly)).status_code == 200


# --- projector -------------------------------------------------------------------------------


def test_it_shows_the_projector_to_anyone_on_a_public_assembly(client, world, open_call):
    meeting = world.meeting(start=True, on_agenda=[open_call], current=open_call)
    proposal_services.take_position(actor=world.participant, proposal=open_call, kind="agree")
    response = client.get(reverse("sittings:projector", args=[world.assembly.slug]))
    assert response.status_code == 200
    page = body(response)
    assert "<svg" in page
    assert world.assembly.join_code in page
    assert open_call.title in page
    assert meeting.title in page
    assert 'data-count="agree">1</strong>' in page
    assert 'data-count="block">0</strong>' in page


def test_it_shows_the_projector_without_a_proposal(client, world):
    response = client.get(reverse("sittings:projector", args=[world.assembly.slug]))
    assert response.status_code == 200
    assert "Nothing on the floor yet" in body(response)


def test_it_hides_the_projector_of_a_private_assembly(client, other_assembly, participant):
    url = reverse("sittings:projector", args=[other_assembly.slug])
    assert client.get(url).status_code == 404
    client.force_login(participant.user)
    response = client.get(url)
    assert response.status_code == 404
    assert other_assembly.join_code not in body(response)


def test_it_shows_the_projector_of_a_private_assembly_to_a_member(client, other_assembly, outsider):
    member = assembly_services.join_by_code(code=other_assembly.join_code, display_name="Mia")
    client.force_login(member.user)
    response = client.get(reverse("sittings:projector", args=[other_assembly.slug]))
    assert response.status_code == 200
    # Issue 13: a member's own screen does not show a private assembly's join code.
    assert other_assembly.join_code not in body(response)


# --- the public log ----------------------------------------------------------------------------


def test_it_shows_the_facilitation_log_in_words(client, world):
    meeting = world.meeting(start=True)
    floor.set_timer(actor=world.facilitator, meeting=meeting, running=True, seconds=60)
    response = client.get(reverse("sittings:log", args=[world.assembly.slug]))
    assert response.status_code == 200
    page = body(response)
    assert "Fran opened the sitting" in page
    assert "Fran scheduled the sitting “Evening GA”" in page
    assert "Fran started the speaker timer (60 s)" in page
    assert "<html" in page


def test_it_renders_only_the_list_as_a_fragment(client, world):
    world.meeting(start=True)
    response = client.get(reverse("sittings:log", args=[world.assembly.slug]) + "?fragment=1")
    assert response.status_code == 200
    page = body(response).strip()
    # The region the live client swaps: the list, or the "Nothing yet." sentence instead.
    assert page.startswith('<div class="log-list" data-log>')
    assert page.endswith("</div>")
    assert '<ol class="log" reversed>' in page
    assert "<html" not in page
    assert "Fran opened the sitting" in page


def test_it_hides_the_log_of_a_private_assembly(client, other_assembly, participant):
    client.force_login(participant.user)
    url = reverse("sittings:log", args=[other_assembly.slug])
    assert client.get(url).status_code == 404
    assert client.get(url + "?fragment=1").status_code == 404


# --- minutes -----------------------------------------------------------------------------------


@pytest.fixture
def decided_sitting(world, open_call):
    quinn, rosa = world.make_member("Quinn"), world.make_member("Rosa")
    meeting = world.meeting(start=True, on_agenda=[open_call], current=open_call)
    proposal_services.take_position(actor=world.participant, proposal=open_call, kind="agree")
    proposal_services.take_position(
        actor=quinn, proposal=open_call, kind="stand_aside", reason="Away that week."
    )
    proposal_services.take_position(
        actor=rosa, proposal=open_call, kind="block", reason="It breaks our safer space policy."
    )
    decision = proposal_services.close_call(actor=world.facilitator, proposal=open_call)
    sitting_services.adjourn_meeting(actor=world.facilitator, meeting=meeting)
    return meeting, decision


def assert_full_minutes(text: str, decision) -> None:
    assert "Attendance" in text
    for name in ("Fran", "Pat", "Quinn", "Rosa"):
        assert name in text
    assert "Buy a second tarp for the kitchen" in text
    assert decision.outcome == Outcome.BLOCKED
    assert "Blocked" in text
    assert "1 agree, 1 stand aside, 1 block" in text
    assert "Quinn: Away that week." in text
    assert "Rosa: It breaks our safer space policy." in text
    assert "Fran opened the sitting" in text
    assert "Fran adjourned the sitting" in text
    assert (
        "Fran closed the call for consensus on “Buy a second tarp for the kitchen”: Blocked" in text
    )


def test_it_shows_the_minutes(client, world, decided_sitting):
    meeting, decision = decided_sitting
    response = client.get(reverse("sittings:minutes", args=[world.assembly.slug, meeting.pk]))
    assert response.status_code == 200
    assert_full_minutes(body(response), decision)
    assert reverse("sittings:minutes_md", args=[world.assembly.slug, meeting.pk]) in body(response)


def test_it_downloads_the_minutes_as_markdown(client, world, decided_sitting):
    meeting, decision = decided_sitting
    response = client.get(reverse("sittings:minutes_md", args=[world.assembly.slug, meeting.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"] == (
        f'attachment; filename="minutes-{world.assembly.slug}-{meeting.pk}.md"'
    )
    text = body(response)
    assert text.startswith("# Minutes: Evening GA")
    assert "- Fran (facilitator)" in text
    assert_full_minutes(text, decision)


def test_it_hides_the_minutes_of_a_private_assembly(client, other_assembly, outsider, participant):
    meeting = sitting_services.schedule_meeting(
        actor=outsider, assembly=other_assembly, title="Secret GA"
    )
    client.force_login(participant.user)
    for name in ("sittings:minutes", "sittings:minutes_md"):
        response = client.get(reverse(name, args=[other_assembly.slug, meeting.pk]))
        assert response.status_code == 404
        assert "Secret GA" not in body(response)


def test_it_answers_404_for_minutes_of_another_assemblys_sitting(
    client, world, other_assembly, outsider
):
    theirs = sitting_services.schedule_meeting(
        actor=outsider, assembly=other_assembly, title="Their GA"
    )
    url = reverse("sittings:minutes", args=[world.assembly.slug, theirs.pk])
    assert client.get(url).status_code == 404


# --- CSRF --------------------------------------------------------------------------------------


def test_it_refuses_a_console_post_without_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.facilitator.user)
    before = db_state()
    response = client.post(action_url(world.assembly, "rotate-code"))
    assert response.status_code == 403
    assert db_state() == before


# --- irreversible acts say what they will do before doing it --------------------------------


@pytest.mark.parametrize("action", ["close", "withdraw", "adjourn"])
def test_an_irreversible_act_without_confirmation_asks_first_and_changes_nothing(
    client, world, action
):
    data, check = SCENARIOS[action](world)
    data = {key: value for key, value in data.items() if key != "confirm"}
    client.force_login(world.facilitator.user)
    before = LogEntry.objects.count()
    response = client.post(action_url(world.assembly, action), data)
    assert response.status_code == 302
    assert f"confirm={action}" in response["Location"]
    assert check() is False
    assert LogEntry.objects.count() == before
    page = body(client.get(response["Location"]))
    assert 'role="alertdialog"' in page
    assert 'name="confirm" value="1"' in page


def test_the_close_confirmation_says_the_outcome_the_rule_gives_now(client, world):
    meeting = world.meeting(start=True, on_agenda=[world.proposal])
    sitting_services.set_current_proposal(
        actor=world.facilitator, meeting=meeting, proposal=world.proposal
    )
    proposal_services.call_for_consensus(actor=world.facilitator, proposal=world.proposal)
    blocker = world.make_member("Bea")
    proposal_services.take_position(
        actor=blocker, proposal=world.proposal, kind="block", reason="It harms the kitchen."
    )
    client.force_login(world.facilitator.user)
    url = console_url(world.assembly) + f"?confirm=close&proposal={world.proposal.pk}"
    page = body(client.get(url))
    assert "The rule decides now: Blocked (0 agree, 0 stand aside, 1 block)." in page
    assert "Yes, close and record: Blocked" in page
    assert not Decision.objects.exists()


def test_adjourning_with_a_call_open_says_what_happens_to_the_call(client, world):
    meeting = world.meeting(start=True, on_agenda=[world.proposal])
    sitting_services.set_current_proposal(
        actor=world.facilitator, meeting=meeting, proposal=world.proposal
    )
    proposal_services.call_for_consensus(actor=world.facilitator, proposal=world.proposal)
    client.force_login(world.facilitator.user)
    page = body(client.get(console_url(world.assembly) + "?confirm=adjourn"))
    assert "stays open" in page
    assert world.proposal.title in page


def test_an_htmx_console_action_answers_the_console_block_in_place(client, world):
    meeting = world.meeting(start=True)
    client.force_login(world.facilitator.user)
    response = client.post(
        action_url(world.assembly, "timer-start"),
        {"meeting": meeting.pk, "seconds": "90"},
        headers={"HX-Request": "true", "HX-Target": "console"},
        follow=True,
    )
    page = body(response)
    assert page.lstrip().startswith('<div id="console"')
    assert "<html" not in page
    assert "1:30" in page or "1:29" in page


def test_the_projector_shows_a_proposal_on_the_floor_before_its_call(client, world):
    meeting = world.meeting(start=True, on_agenda=[world.proposal])
    sitting_services.set_current_proposal(
        actor=world.facilitator, meeting=meeting, proposal=world.proposal
    )
    url = f"/a/{world.assembly.slug}/projector/?key={world.assembly.projector_key}"
    response = client.get(url)
    assert response.status_code == 200
    assert world.proposal.title in body(response)
