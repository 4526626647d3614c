"""A crowd connecting at once is authorised socket by socket (issue 16, point 3).

The sockets that connect while a lookup is in flight share the next one (core.coalesce):
one query for their tokens, two for their assemblies and memberships. Against a real
uvicorn process and real clients, all at once: members, outsiders, bad and wrong-length
tokens, a removed member, the projector's key and a wrong one, into a private assembly.
Each socket must get its own verdict, and each member's position must be stored as hers.
"""

import asyncio
import json

import pytest
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from assemblies import services as assembly_services
from proposals.models import Position
from tests.conftest import make_user
from tests.fixtures.servers import run_in_own_loop

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MEMBERS = 60


def token_of(member) -> str:
    return Token.objects.get_or_create(user=member.user)[0].key


async def verdict(url: str, token: str | None, proposal_id: int, request_id: str) -> str:
    """'member' (snapshot, then its position acked), 'watcher' (snapshot, its position
    refused), or the close code as text."""
    headers = {"Authorization": f"Token {token}"} if token else {}
    try:
        async with connect(url, additional_headers=headers, open_timeout=30) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert first["type"] == "snapshot"
            await ws.send(
                json.dumps(
                    {"type": "position", "proposal": proposal_id, "kind": "agree",
                     "request_id": request_id}
                )
            )  # fmt: skip
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if frame.get("request_id") == request_id:
                    return "member" if frame["type"] == "ack" else "watcher"
    except ConnectionClosed as closed:
        return str(closed.rcvd.code if closed.rcvd else None)


async def crowd(sockets: list[tuple[str, str | None]], proposal_id: int) -> list[str]:
    return await asyncio.gather(
        *(verdict(url, token, proposal_id, f"r{i}") for i, (url, token) in enumerate(sockets))
    )


def test_a_crowd_connecting_at_once_gets_one_verdict_each(
    start_server, assembly, facilitator, participant, open_call, make_member
):
    members = [make_member(f"Crowd {i}") for i in range(MEMBERS)]
    removed = make_member("Removed")
    outsiders = [make_user(f"outsider{i}") for i in range(10)]
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, visibility="private")
    removed_token = token_of(removed)
    assembly_services.remove_member(actor=facilitator, member=removed)
    server = start_server()
    url = f"{server['ws']}/ws/assemblies/{assembly.slug}/"
    expected = (
        [("member", (url, token_of(m))) for m in members]
        + [("4403", (url, Token.objects.create(user=u).key)) for u in outsiders]
        + [("4403", (url, "x" * 40)), ("4403", (url, "short")), ("4403", (url, "y" * 5000))]
        + [("4403", (url, removed_token))]
        + [("watcher", (f"{url}?key={assembly.projector_key}", None))] * 5
        + [("4403", (f"{url}?key={'0' * 32}", None))] * 3
    )

    got = run_in_own_loop(crowd([socket for _verdict, socket in expected], open_call.pk))

    assert got == [want for want, _socket in expected]
    stored = Position.objects.filter(proposal=open_call, is_current=True)
    assert sorted(stored.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
