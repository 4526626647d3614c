"""A sitting survives any one person: co-facilitators, stand-ins, stepping aside, all public."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assemblies import services as assembly_services
from assemblies.models import ConsentState, LogEntry, Meeting, Membership
from core.errors import Conflict, NotFound, PermissionDenied
from proposals import services as proposal_services
from sittings import floor, stand_in
from sittings import services as sitting_services
from tests.fixtures.state import db_state

AWAY = 120


@pytest.fixture(autouse=True)
def _windows(settings):
    settings.FACILITATOR_AWAY_SECONDS = AWAY
    settings.QUICK_CONSENT_SECONDS = 60


@pytest.fixture
def meeting(assembly, facilitator):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    return sitting_services.start_meeting(actor=facilitator, meeting=meeting)


@pytest.fixture
def ana(make_member):
    return make_member("Ana")


def _fresh(member) -> Membership:
    return Membership.objects.get(pk=member.pk)


def _gone(meeting, seconds=AWAY + 1):
    """Nobody facilitating has been connected since the sitting began, `seconds` ago."""
    stand_in.note_facilitators_away(now=meeting.started_at + timedelta(seconds=seconds))
    meeting.refresh_from_db()
    return meeting


def _settle(consent):
    return stand_in.settle_due_consents(now=consent.closes_at + timedelta(seconds=1))


def _refused(call, exc_type, code):
    before = db_state()
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    assert db_state() == before


def _actions(assembly) -> list[str]:
    return list(LogEntry.objects.filter(assembly=assembly).values_list("action", flat=True))


def test_nobody_may_stand_in_while_a_facilitator_is_connected(meeting, ana):
    _refused(
        lambda: stand_in.offer_to_stand_in(actor=ana, meeting=meeting),
        Conflict,
        "facilitator_present",
    )


def test_two_minutes_without_a_facilitator_are_noted_once(assembly, meeting):
    assert stand_in.note_facilitators_away(now=meeting.started_at + timedelta(seconds=60)) == 0
    _gone(meeting)
    assert meeting.facilitators_away_at is not None
    assert stand_in.note_facilitators_away(now=timezone.now() + timedelta(hours=1)) == 0
    assert _actions(assembly).count("assemblies.meeting.facilitators_away") == 1


def test_a_facilitator_who_connects_again_ends_the_absence(meeting, facilitator):
    _gone(meeting)
    stand_in.note_facilitators_connected({facilitator.pk})
    meeting.refresh_from_db()
    assert meeting.facilitators_away_at is None


def test_a_connected_participant_does_not_count_as_a_facilitator(meeting, ana):
    _gone(meeting)
    stand_in.note_facilitators_connected({ana.pk})
    meeting.refresh_from_db()
    assert meeting.facilitators_away_at is not None


def test_a_stand_in_nobody_objects_to_facilitates_until_the_sitting_ends(
    assembly, meeting, ana, participant, facilitator
):
    meeting = _gone(meeting)
    consent = stand_in.offer_to_stand_in(actor=ana, meeting=meeting)
    assert not _fresh(ana).is_facilitator  # not before the window is over
    assert stand_in.settle_due_consents(now=consent.closes_at - timedelta(seconds=1)) == 0
    assert _settle(consent) == 1
    ana = _fresh(ana)
    assert ana.is_facilitator and ana.facilitates_sitting_id == meeting.pk
    consent.refresh_from_db()
    assert consent.state == ConsentState.ACCEPTED
    # She runs the sitting: the floor, the proposals.
    floor.raise_hand(actor=participant, meeting=meeting, kind="speak")
    assert floor.call_next(actor=ana, meeting=meeting).member_id == participant.pk
    proposal = proposal_services.submit_proposal(
        actor=participant, title="Tarp", text="A tarp.", meeting=meeting
    )
    proposal = proposal_services.call_for_consensus(actor=ana, proposal=proposal)
    proposal_services.close_call(actor=ana, proposal=proposal)
    # ... but not the assembly: its settings, roles and members stay its facilitators'.
    _refused(
        lambda: assembly_services.update_assembly(actor=ana, assembly=assembly, name="Mine"),
        PermissionDenied,
        "not_assembly_facilitator",
    )
    sitting_services.adjourn_meeting(actor=ana, meeting=meeting)
    assert not _fresh(ana).is_facilitator
    actions = _actions(assembly)
    assert "assemblies.consent.stand_in_offered" in actions
    assert "assemblies.consent.stand_in_accepted" in actions


def test_one_objection_is_enough(assembly, meeting, ana, participant):
    meeting = _gone(meeting)
    consent = stand_in.offer_to_stand_in(actor=ana, meeting=meeting)
    stand_in.object_to(actor=participant, consent=consent)
    consent.refresh_from_db()
    assert consent.state == ConsentState.OBJECTED
    assert _settle(consent) == 0
    assert not _fresh(ana).is_facilitator
    line = LogEntry.objects.get(action="assemblies.consent.stand_in_objected")
    assert line.actor_id == participant.pk and line.data["member"] == "Ana"
    # Another member may offer in turn.
    assert stand_in.offer_to_stand_in(actor=participant, meeting=meeting)


def test_the_candidate_withdraws_rather_than_objects(meeting, ana, participant):
    meeting = _gone(meeting)
    consent = stand_in.offer_to_stand_in(actor=ana, meeting=meeting)
    _refused(lambda: stand_in.object_to(actor=ana, consent=consent), Conflict, "own_offer")
    _refused(
        lambda: stand_in.withdraw(actor=participant, consent=consent),
        PermissionDenied,
        "not_yours",
    )
    stand_in.withdraw(actor=ana, consent=consent)
    consent.refresh_from_db()
    assert consent.state == ConsentState.WITHDRAWN


def test_one_question_at_a_time_and_none_after_its_time(meeting, ana, participant):
    meeting = _gone(meeting)
    consent = stand_in.offer_to_stand_in(actor=ana, meeting=meeting)
    _refused(
        lambda: stand_in.offer_to_stand_in(actor=participant, meeting=meeting),
        Conflict,
        "consent_open",
    )
    type(consent).objects.filter(pk=consent.pk).update(closes_at=timezone.now())
    _refused(
        lambda: stand_in.object_to(actor=participant, consent=consent),
        Conflict,
        "consent_closed",
    )


def test_observers_and_outsiders_take_no_part(meeting, ana, observer, outsider):
    meeting = _gone(meeting)
    _refused(
        lambda: stand_in.offer_to_stand_in(actor=observer, meeting=meeting),
        PermissionDenied,
        "observer",
    )
    _refused(
        lambda: stand_in.offer_to_stand_in(actor=outsider, meeting=meeting),
        NotFound,
        "meeting_not_found",
    )
    consent = stand_in.offer_to_stand_in(actor=ana, meeting=meeting)
    _refused(
        lambda: stand_in.object_to(actor=outsider, consent=consent),
        NotFound,
        "consent_not_found",
    )


def test_a_facilitator_asked_to_step_aside_stops_and_a_stand_in_may_come_at_once(
    assembly, meeting, facilitator, ana, participant
):
    consent = stand_in.ask_to_step_aside(actor=ana, meeting=meeting, facilitator=facilitator)
    _refused(
        lambda: stand_in.object_to(actor=facilitator, consent=consent),
        PermissionDenied,
        "concerned",
    )
    _settle(consent)
    fran = _fresh(facilitator)
    assert not fran.is_facilitator and fran.stepped_aside_from_id == meeting.pk
    _refused(
        lambda: floor.set_timer(actor=fran, meeting=meeting, running=True),
        PermissionDenied,
        "stepped_aside",
    )
    _refused(
        lambda: assembly_services.remove_member(actor=fran, member=ana),
        PermissionDenied,
        "stepped_aside",
    )
    meeting.refresh_from_db()
    assert meeting.facilitators_away_at is not None  # nobody facilitates: no two-minute wait
    standing = stand_in.offer_to_stand_in(actor=participant, meeting=meeting)
    _settle(standing)
    assert _fresh(participant).is_facilitator
    sitting_services.adjourn_meeting(actor=_fresh(participant), meeting=meeting)
    assert _fresh(facilitator).is_facilitator  # she facilitates the next sitting again
    assert "assemblies.consent.step_aside_accepted" in _actions(assembly)


def test_a_facilitator_names_a_co_facilitator_for_the_sitting(assembly, meeting, facilitator, ana):
    stand_in.name_sitting_facilitator(actor=facilitator, meeting=meeting, member=ana)
    ana = _fresh(ana)
    assert ana.is_facilitator and not ana.holds_facilitator_role
    assert [m.display_name for m in stand_in.facilitators_of(meeting)] == ["Ana", "Fran"]
    floor.set_timer(actor=ana, meeting=meeting, running=True, seconds=60)
    stand_in.release_sitting_facilitator(actor=ana, meeting=meeting, member=ana)
    assert not _fresh(ana).is_facilitator
    actions = _actions(assembly)
    assert "assemblies.sitting_facilitator.named" in actions
    assert "assemblies.sitting_facilitator.released" in actions


def test_a_participant_cannot_name_a_co_facilitator(meeting, participant, ana):
    _refused(
        lambda: stand_in.name_sitting_facilitator(actor=participant, meeting=meeting, member=ana),
        PermissionDenied,
        "not_facilitator",
    )


def test_the_snapshot_carries_the_question(meeting, ana):
    from sittings import live

    meeting = _gone(meeting)
    assert live.meeting_state(meeting)["facilitation"]["away"] is True
    consent = stand_in.offer_to_stand_in(actor=ana, meeting=meeting)
    state = live.meeting_state(Meeting.objects.get(pk=meeting.pk))["facilitation"]
    assert state["consent"]["id"] == consent.pk and state["consent"]["candidate"] == "Ana"
    assert state["facilitators"] == ["Fran"]


# --- the page --------------------------------------------------------------------------------


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_the_page_offers_and_objects(assembly, meeting, ana, participant):
    _gone(meeting)
    page_url = reverse("sittings:assembly", args=[assembly.slug])
    page = _client(ana).get(page_url)
    assert "Offer to stand in as facilitator" in page.text
    url = reverse("sittings:facilitation", args=[assembly.slug, "offer"])
    response = _client(ana).post(url, {"next": page_url})
    assert response.status_code == 302 and response["Location"] == page_url
    consent = meeting.consents.get()
    page = _client(participant).get(page_url)
    assert "Ana offers to facilitate this sitting until it ends" in page.text
    assert "I object" in page.text
    url = reverse("sittings:facilitation", args=[assembly.slug, "object"])
    _client(participant).post(url, {"consent": consent.pk, "next": "https://evil.example/"})
    consent.refresh_from_db()
    assert consent.state == ConsentState.OBJECTED


def test_the_page_refuses_nonsense_without_a_500(assembly, meeting, ana):
    client = _client(ana)
    for action, data in [
        ("object", {"consent": "x"}),
        ("object", {"consent": "9" * 40}),
        ("step-aside", {"member": ""}),
        ("nope", {}),
    ]:
        response = client.post(reverse("sittings:facilitation", args=[assembly.slug, action]), data)
        assert response.status_code in (302, 400, 403, 404), (action, response.status_code)
    assert (
        client.get(reverse("sittings:facilitation", args=[assembly.slug, "offer"])).status_code
        == 405
    )


# --- the stand-in's boundaries, from outside ---------------------------------------------------


def _stand_in(meeting, member):
    meeting = _gone(meeting)
    _settle(stand_in.offer_to_stand_in(actor=member, meeting=meeting))
    return _fresh(member)


def test_a_stand_in_gets_the_console_without_the_assemblys_own_acts(assembly, meeting, ana):
    ana = _stand_in(meeting, ana)
    page = _client(ana).get(reverse("sittings:console", args=[assembly.slug]))
    assert page.status_code == 200
    assert "Schedule a sitting" not in page.text and "Change the join code" in page.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "api:assembly", {"name": "Taken over"}),
        ("post", "api:members", {"member_id": 0, "role": "observer"}),
        ("post", "api:meetings", {"title": "Next week"}),
    ],
)
def test_a_stand_in_cannot_do_what_only_the_assemblys_facilitators_do(
    assembly, meeting, ana, participant, method, path, body
):
    from rest_framework.test import APIClient

    ana = _stand_in(meeting, ana)
    client = APIClient()
    client.force_authenticate(ana.user)
    body = {**body, "member_id": participant.pk} if "member_id" in body else body
    before = db_state()
    response = getattr(client, method)(reverse(path, args=[assembly.slug]), body, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "not_assembly_facilitator"
    assert db_state() == before


def test_a_stand_in_stops_with_the_sitting_over_the_api(assembly, meeting, ana, participant):
    from rest_framework.test import APIClient

    ana = _stand_in(meeting, ana)
    client = APIClient()
    client.force_authenticate(ana.user)
    assert client.post(reverse("api:meeting-adjourn", args=[meeting.pk])).status_code == 200
    later = sitting_services.schedule_meeting(
        actor=_fresh(assembly.memberships.get(display_name="Fran")), assembly=assembly, title="B"
    )
    response = client.post(reverse("api:meeting-start", args=[later.pk]))
    assert response.status_code == 403 and response.json()["code"] == "not_facilitator"
