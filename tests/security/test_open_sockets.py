"""Issue 13, finding 3: open sockets do not outlive access.

Against a real uvicorn process and real websocket clients: when a member is removed, a token
revoked, an account deactivated or logged out, or the assembly made private, the affected
sockets are closed (4403) or downgraded within about one publish interval, and nothing they
send afterwards is acknowledged.
"""

import contextlib
import json
import time

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from assemblies import accounts
from assemblies import services as assembly_services

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WITHIN = 3.0  # seconds: one publish interval is 0.1-1 s; the rest is slack for CI


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def private(assembly, facilitator, participant, open_call, make_member):
    """The assembly, made private once its members (Pat, and Other) have joined."""
    make_member("Other")
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, visibility="private")
    return assembly


@contextlib.contextmanager
def socket(server, slug, *, token=None, cookie=None):
    """An open socket that has had its first snapshot."""
    headers = {}
    if token:
        headers["Authorization"] = f"Token {token}"
    if cookie:
        headers["Cookie"] = cookie
    with connect(f"{server['ws']}/ws/assemblies/{slug}/", additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        yield ws


def token_of(member) -> str:
    return Token.objects.get_or_create(user=member.user)[0].key


def closed_with(ws, timeout=WITHIN) -> int | None:
    """The close code once the server closes the socket; None if it stays open."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.recv(timeout=max(0.05, deadline - time.monotonic()))
    except TimeoutError:
        return None
    except ConnectionClosed:
        return ws.close_code
    return None


def position_answer(ws, proposal, request_id) -> dict | None:
    """The answer to a position sent now, or None when the socket is closed."""
    try:
        ws.send(
            json.dumps(
                {"type": "position", "proposal": proposal.pk, "kind": "agree",
                 "request_id": request_id}
            )
        )  # fmt: skip
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=5))
            if frame.get("request_id") == request_id:
                return frame
    except ConnectionClosed:
        return None
    return None


def test_a_removed_member_is_closed_out_of_a_private_assembly(
    server, private, facilitator, participant, open_call
):
    with socket(server, private.slug, token=token_of(participant)) as ws:
        assembly_services.remove_member(actor=facilitator, member=participant)
        assert closed_with(ws) == 4403
        assert position_answer(ws, open_call, "after-removal") is None
        assert not open_call.positions.filter(member=participant).exists()


def test_a_revoked_token_is_downgraded_on_a_public_assembly(
    server, assembly, participant, open_call
):
    with socket(server, assembly.slug, token=token_of(participant)) as ws:
        accounts.revoke_api_token(user=participant.user)
        time.sleep(WITHIN / 2)
        answer = position_answer(ws, open_call, "after-revoke")
        assert answer is not None and answer["type"] == "error", answer
        assert not open_call.positions.filter(member=participant).exists()


def test_a_revoked_token_is_closed_out_of_a_private_assembly(server, private, participant):
    with socket(server, private.slug, token=token_of(participant)) as ws:
        accounts.revoke_api_token(user=participant.user)
        assert closed_with(ws) == 4403


def test_a_deactivated_account_is_closed_out(server, private, participant):
    with socket(server, private.slug, token=token_of(participant)) as ws:
        user = participant.user
        user.is_active = False
        user.save()  # as staff do in the admin
        assert closed_with(ws) == 4403


def test_logging_out_closes_the_sessions_sockets(server, private, participant):
    browser = Client()
    browser.force_login(participant.user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    with socket(server, private.slug, cookie=cookie) as ws:
        browser.post("/logout/")
        assert closed_with(ws) == 4403


def test_anonymous_sockets_are_closed_when_the_assembly_turns_private(
    server, assembly, facilitator
):
    with socket(server, assembly.slug) as ws:
        assembly_services.update_assembly(
            actor=facilitator, assembly=assembly, visibility="private"
        )
        assert closed_with(ws) == 4403


def test_members_who_keep_their_access_stay_connected(
    server, private, facilitator, participant, open_call
):
    other = private.memberships.get(display_name="Other")
    with socket(server, private.slug, token=token_of(participant)) as ws:
        assembly_services.remove_member(actor=facilitator, member=other)
        assert closed_with(ws, timeout=1.5) is None
        answer = position_answer(ws, open_call, "still-here")
        assert answer is not None and answer["type"] == "ack", answer
