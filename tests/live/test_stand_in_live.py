"""A sitting continues when its facilitator disappears: real server processes and sockets.

The facilitator's phone dies (her socket closes); after FACILITATOR_AWAY_SECONDS every
member's snapshot says so; a member offers to stand in through the API; nobody objects
within QUICK_CONSENT_SECONDS; the server settles it by itself and the stand-in calls the
next speaker over her own socket. The windows are shortened for the test.
"""

import json
import urllib.request

import pytest

from assemblies.models import LogEntry, Membership
from sittings import floor
from sittings import services as sitting_services
from tests.live.test_socket import open_socket, receive, receive_until, send, token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WINDOWS = {
    "FACILITATOR_AWAY_SECONDS": "2",
    "QUICK_CONSENT_SECONDS": "1.5",
    "FACILITATOR_PRESENCE_SECONDS": "0.3",
}


def _post(server, path: str, member, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        server["http"] + path,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Token {token_for(member)}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _facilitation(frame: dict) -> dict:
    return (frame.get("meeting") or {}).get("facilitation") or {}


def test_a_member_takes_over_when_the_facilitator_disappears(
    start_server, assembly, facilitator, participant, make_member
):
    server = start_server(**WINDOWS)
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    meeting = sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    ana = make_member("Ana")
    with open_socket(server, assembly.slug, ana) as watcher:
        with open_socket(server, assembly.slug, facilitator) as phone:
            receive(phone)
            first = receive(watcher)
            assert _facilitation(first)["away"] is False
            # While her socket is open the sitting is never "without a facilitator".
            with pytest.raises((AssertionError, TimeoutError)):
                receive_until(watcher, lambda f: _facilitation(f).get("away"), timeout=3)
            status, body = _post(server, f"/api/v1/meetings/{meeting.pk}/stand-in/", ana)
            assert status == 409 and body["code"] == "facilitator_present"
        # Her phone died.
        receive_until(watcher, lambda f: _facilitation(f).get("away") is True, timeout=8)
        status, consent = _post(server, f"/api/v1/meetings/{meeting.pk}/stand-in/", ana)
        assert status == 201, consent
        frame = receive_until(watcher, lambda f: _facilitation(f).get("consent"), timeout=5)
        assert _facilitation(frame)["consent"]["candidate"] == "Ana"
        frame = receive_until(
            watcher, lambda f: "Ana" in _facilitation(f).get("facilitators", []), timeout=8
        )
        assert _facilitation(frame)["consent"] is None
        assert Membership.objects.get(pk=ana.pk).facilitates_sitting_id == meeting.pk
        # The sitting goes on: she calls the next speaker from her own socket.
        entry = floor.raise_hand(actor=participant, meeting=meeting, kind="speak")
        send(watcher, type="facilitate", action="call_next", request_id="take-over")
        ack = receive_until(watcher, lambda f: f["type"] in ("ack", "error"))
        assert ack == {"type": "ack", "request_id": "take-over", "speaker": entry.pk}
    actions = set(LogEntry.objects.filter(assembly=assembly).values_list("action", flat=True))
    assert {
        "assemblies.meeting.facilitators_away",
        "assemblies.consent.stand_in_offered",
        "assemblies.consent.stand_in_accepted",
        "assemblies.stack.called",
    } <= actions


def test_an_objection_over_the_api_stops_the_stand_in(
    start_server, assembly, facilitator, participant, make_member
):
    server = start_server(**WINDOWS)
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    meeting = sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    ana = make_member("Ana")
    with open_socket(server, assembly.slug, participant) as watcher:
        receive_until(watcher, lambda f: _facilitation(f).get("away") is True, timeout=8)
        status, consent = _post(server, f"/api/v1/meetings/{meeting.pk}/stand-in/", ana)
        assert status == 201
        status, body = _post(server, f"/api/v1/consents/{consent['id']}/object/", participant)
        assert status == 200 and body["state"] == "objected"
        receive_until(watcher, lambda f: _facilitation(f).get("consent") is None, timeout=5)
    assert Membership.objects.get(pk=ana.pk).facilitates_sitting_id is None
    status, body = _post(server, f"/api/v1/consents/{consent['id']}/object/", participant)
    assert status == 409 and body["code"] == "consent_closed"
