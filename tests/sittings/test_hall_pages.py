"""The check-in page, the counters' page, and the hall on the console, projector and
proposal page: online and hall apart and their sum."""

import pytest
from django.test import Client
from django.urls import reverse

from assemblies.models import LogEntry, Presence
from proposals import services as proposal_services
from proposals.models import HallCount
from sittings import hall
from sittings import services as sitting_services
from tests.fixtures.state import db_state


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def sitting(assembly, facilitator, open_call, make_member):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    meeting = sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=open_call)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=open_call)
    ana, ben = make_member("Ana"), make_member("Ben")
    hall.choose_counters(actor=facilitator, meeting=meeting, members=[ana, ben])
    meeting.refresh_from_db()
    return meeting, open_call, ana, ben


def test_it_checks_in_from_the_page_the_qr_code_opens(assembly, sitting, participant):
    _meeting, *_ = sitting
    url = reverse("sittings:check_in", args=[assembly.slug])
    client = _client(participant)
    page = client.get(url).content.decode()
    assert "I am here: check in" in page
    assert not Presence.objects.exists()  # a GET changes nothing
    response = client.post(reverse("sittings:check_in_post", args=[assembly.slug]))
    assert response.status_code == 302
    assert Presence.objects.get().member == participant
    assert "You are counted present at this sitting." in client.get(url).content.decode()


def test_the_projector_shows_the_check_in_qr_code_and_presence(client, assembly, sitting):
    response = client.get(reverse("sittings:projector", args=[assembly.slug]))
    page = response.content.decode()
    assert "QR code with the check-in link" in page
    assert reverse("sittings:check_in", args=[assembly.slug]) in page


def test_counters_count_at_the_door_and_in_the_hall(
    assembly, sitting, participant, facilitator, make_member
):
    meeting, proposal, ana, ben = sitting
    for counter in (ana, ben):
        page = _client(counter).get(reverse("sittings:hall", args=[assembly.slug]))
        assert page.status_code == 200
    door = reverse("sittings:hall_action", args=[assembly.slug, "door"])
    for member in (participant, make_member("Rosa"), make_member("Sam")):
        assert _client(ana).post(door, {"member": member.pk}).status_code == 302
    assert Presence.objects.count() == 3
    count = reverse("sittings:hall_action", args=[assembly.slug, "count"])
    form = {"agree": "1", "stand_aside": "0", "block": "1", "blocks": "Rosa | Food first"}
    _client(ana).post(count, form)
    _client(ben).post(count, {**form, "blocks": "Not the kitchen fund"})
    assert HallCount.objects.count() == 2
    proposal_services.take_position(actor=make_member(), proposal=proposal, kind="agree")

    page = _client(participant).get(proposal.get_absolute_url()).content.decode()
    assert "In the hall" in page and "Together" in page
    assert "Food first" in page  # the first counter's reasons are the ones recorded
    console = _client(facilitator).get(reverse("sittings:console", args=[assembly.slug]))
    console = console.content.decode()
    assert "Call a recount of the hall" in console and "Ana, Ben" in console
    projector = _client(facilitator).get(reverse("sittings:projector", args=[assembly.slug]))
    assert "In the hall" in projector.content.decode()
    part = _client(participant).get(proposal.get_absolute_url() + "?part=hall").content.decode()
    assert 'data-part="hall"' in part and "Together" in part

    recount = reverse("sittings:console_action", args=[assembly.slug, "recount"])
    _client(facilitator).post(recount, {"meeting": meeting.pk, "proposal": proposal.pk})
    assert not HallCount.objects.filter(cleared_at__isnull=True).exists()
    assert LogEntry.objects.filter(action="assemblies.hall.recount").exists()


def test_a_difference_is_shown_with_both_counts(assembly, sitting, make_member, participant):
    meeting, proposal, ana, ben = sitting
    for member in (make_member(), make_member(), make_member()):
        hall.count_at_door(actor=ana, meeting=meeting, member=member)
    count = reverse("sittings:hall_action", args=[assembly.slug, "count"])
    _client(ana).post(count, {"agree": "2", "stand_aside": "0", "block": "0"})
    _client(ben).post(count, {"agree": "3", "stand_aside": "0", "block": "0"})
    page = _client(participant).get(proposal.get_absolute_url()).content.decode()
    assert "The two counts of the hall differ." in page
    assert "Difference" in page


def test_only_the_counters_count(assembly, sitting, participant):
    url = reverse("sittings:hall", args=[assembly.slug])
    assert _client(participant).get(url).status_code == 403
    before = db_state()
    count = reverse("sittings:hall_action", args=[assembly.slug, "count"])
    response = _client(participant).post(count, {"agree": "1", "stand_aside": "0", "block": "0"})
    assert response.status_code == 403
    assert db_state() == before


def test_a_bad_count_is_refused_with_a_message_and_changes_nothing(assembly, sitting):
    _meeting, _proposal, ana, _ben = sitting
    count = reverse("sittings:hall_action", args=[assembly.slug, "count"])
    client = _client(ana)
    for form in (
        {"agree": "x", "stand_aside": "0", "block": "0"},
        {"agree": "²", "stand_aside": "0", "block": "0"},
        {"agree": "5", "stand_aside": "0", "block": "0"},  # nobody is present
    ):
        before = db_state()
        response = client.post(count, form, follow=True)
        assert response.status_code == 200
        assert db_state() == before
    assert "larger than the members present" in response.content.decode()


def test_the_console_chooses_the_counters(assembly, sitting, facilitator, make_member):
    meeting, *_ = sitting
    rosa, sam = make_member("Rosa"), make_member("Sam")
    url = reverse("sittings:console_action", args=[assembly.slug, "counters"])
    _client(facilitator).post(
        url, {"meeting": meeting.pk, "counter_a": rosa.pk, "counter_b": sam.pk}
    )
    assert set(meeting.hall_counters.values_list("display_name", flat=True)) == {"Rosa", "Sam"}
