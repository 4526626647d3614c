"""Presence, counters and hall counts over the API, and the hall's figures in the exports."""

import csv
import io
import json

import pytest

from assemblies.models import Assembly
from proposals import services as proposal_services
from sittings import services as sitting_services
from tests.api.test_exports import _validator

A = "/api/v1/assemblies/liberty-square/"


@pytest.fixture
def meeting(assembly, facilitator):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    return sitting_services.start_meeting(actor=facilitator, meeting=meeting)


@pytest.fixture
def sitting(meeting, facilitator, open_call, make_member):
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=open_call)
    sitting_services.set_current_proposal(actor=facilitator, meeting=meeting, proposal=open_call)
    return meeting, open_call, make_member("Ana"), make_member("Ben")


def _url(meeting, rest=""):
    return f"/api/v1/meetings/{meeting.pk}/{rest}"


def test_it_runs_a_hall_count_from_outside(
    client_as, sitting, facilitator, participant, make_member
):
    meeting, proposal, ana, ben = sitting
    response = client_as(facilitator).post(
        _url(meeting, "counters/"), {"member_ids": [ana.pk, ben.pk]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["counters"] == ["Ana", "Ben"]
    assert client_as(participant).post(_url(meeting, "presence/")).json()["checked_in"] == 1
    for _ in range(3):
        door = client_as(ana).post(_url(meeting, f"presence/{make_member().pk}/"))
        assert door.status_code == 200, door.json()
    assert door.json()["present"] == 4
    proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")
    hall_url = _url(meeting, f"proposals/{proposal.pk}/hall-count/")
    body = {"agree": 2, "stand_aside": 1, "block": 0}
    assert client_as(ana).post(hall_url, body, format="json").json()["state"] == "waiting"
    other = client_as(ben).post(hall_url, {**body, "agree": 3}, format="json").json()
    assert other["state"] == "differs"
    assert other["difference"] == {"agree": 1, "stand_aside": 0, "block": 0}
    assert other["total"] == {"agree": 1, "stand_aside": 0, "block": 0}
    agreed = client_as(ben).post(hall_url, body, format="json").json()
    assert agreed["state"] == "recorded"
    assert agreed["online"] == {"agree": 1, "stand_aside": 0, "block": 0}
    assert agreed["total"] == {"agree": 3, "stand_aside": 1, "block": 0}
    assert client_as(None).get(hall_url).json()["counts"] == body
    detail = client_as(None).get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert detail["tally"] == agreed["total"]

    close = client_as(facilitator).post(
        f"/api/v1/proposals/{proposal.pk}/close/", {"confirm": True}, format="json"
    )
    assert close.status_code in (200, 201), close.json()
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client_as(None).get(A + "decisions.csv").streaming_content).decode()
            )
        )
    )
    assert (rows[0]["agree"], rows[0]["hall_agree"], rows[0]["hall_stand_aside"]) == ("3", "2", "1")
    popolo = json.loads(b"".join(client_as(None).get(A + "popolo.json").streaming_content))
    vote_event = popolo["motions"][0]["vote_events"][0]
    grouped = {
        (count["group"]["name"], count["option"]): count["value"]
        for count in vote_event["counts"]
        if "group" in count
    }
    assert grouped[("online", "yes")] == 1
    assert grouped[("hall", "yes")] == 2
    assert grouped[("hall", "abstain")] == 1
    _validator("vote_event").validate(vote_event)
    for count in vote_event["counts"]:
        _validator("count").validate(count)


def test_it_answers_refusals_as_json_and_changes_nothing(
    client_as, sitting, participant, facilitator
):
    meeting, proposal, ana, ben = sitting
    hall_url = _url(meeting, f"proposals/{proposal.pk}/hall-count/")
    refused = client_as(participant).post(
        hall_url, {"agree": 1, "stand_aside": 0, "block": 0}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_counter"
    bad = client_as(facilitator).post(
        _url(meeting, "counters/"), {"member_ids": [ana.pk]}, format="json"
    )
    assert bad.status_code == 400
    client_as(facilitator).post(
        _url(meeting, "counters/"), {"member_ids": [ana.pk, ben.pk]}, format="json"
    )
    too_many = client_as(ana).post(
        hall_url, {"agree": 1, "stand_aside": 0, "block": 0}, format="json"
    )
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "more_than_present"
    negative = client_as(ana).post(
        hall_url, {"agree": -1, "stand_aside": 0, "block": 0}, format="json"
    )
    assert negative.status_code == 400
    recount = client_as(facilitator).post(hall_url + "recount/")
    assert recount.status_code == 409
    assert recount.json()["code"] == "nothing_to_recount"
    assert client_as(None).get(_url(meeting, "presence/")).json()["present"] == 0


def test_it_sets_quorum_of_present_members(client_as, assembly, facilitator):
    response = client_as(facilitator).patch(A, {"quorum_of": "present"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["quorum_of"] == "present"
    assert Assembly.objects.get(pk=assembly.pk).quorum_of == "present"
    bad = client_as(facilitator).patch(A, {"quorum_of": "phones"}, format="json")
    assert bad.status_code == 400


def test_the_schema_documents_the_hall(client_as, db):
    schema = client_as(None).get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert "/api/v1/meetings/{meeting_id}/proposals/{proposal_id}/hall-count/" in paths
    assert "/api/v1/meetings/{meeting_id}/presence/" in paths
    assert "/api/v1/meetings/{meeting_id}/counters/" in paths
