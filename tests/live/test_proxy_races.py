"""Proxies under real concurrent connections to a real server (docs/hybrid.md, "Races").

Each race is run many times with its requests released together from threads; whatever the
order PostgreSQL gives them, the outcome must be one of the allowed ones and never a 500.
"""

import json
import threading
import urllib.error
import urllib.request
from functools import partial

import pytest
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

from assemblies import services as assembly_services
from proposals import services as proposal_services
from proposals.models import Position, Proxy

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROUNDS = 8


def token_of(member) -> str:
    return Token.objects.get_or_create(user=member.user)[0].key


def post(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body or {}).encode(), method="POST"
    )  # fmt: skip
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def together(*calls):
    """Run the calls in threads released at once; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait(timeout=20)
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def world(start_server, assembly, facilitator, make_member):
    server = start_server()
    api = f"{server['http']}/api/v1"
    members = {name: make_member(name) for name in ("Ana", "Ben", "Carla")}
    tokens = {name: token_of(member) for name, member in members.items()}
    tokens["Fran"] = token_of(facilitator)
    return server, api, members, tokens


def new_proposal(facilitator, n: int):
    return proposal_services.submit_proposal(actor=facilitator, title=f"Proposal {n}", text="Text.")


def state_once_open(url: str, token: str, body: dict) -> tuple[int, dict]:
    """POST a position until the call is open (or it is refused for another reason)."""
    for _ in range(50):
        status, answer = post(url, token, body)
        if answer.get("code") != "call_not_open":
            break
    return status, answer


def test_revoke_while_the_call_opens_and_the_holder_states(world, facilitator):
    _server, api, members, tokens = world
    ana, ben = members["Ana"], members["Ben"]
    outcomes = set()
    for n in range(ROUNDS):
        proposal = new_proposal(facilitator, n)
        proxy = proposal_services.give_proxy(
            actor=ana, holder=ben, proposal=proposal, mandate="judgement"
        )
        opened, revoked, stated = together(
            partial(post, f"{api}/proposals/{proposal.pk}/call-for-consensus/", tokens["Fran"]),
            partial(post, f"{api}/proxies/{proxy.pk}/revoke/", tokens["Ana"]),
            partial(
                state_once_open,
                f"{api}/proposals/{proposal.pk}/positions/",
                tokens["Ben"],
                {"kind": "agree", "for_member": ana.pk},
            ),
        )
        assert opened[0] == 200, opened
        assert revoked[0] in (200, 409), revoked
        assert stated[0] in (201, 403, 409), stated
        recorded = Position.objects.filter(proposal=proposal, member=ana, stated_by=ben).exists()
        # Never both: a revoked proxy states nothing, a proxy used was not revoked.
        assert not (revoked[0] == 200 and recorded), (revoked, stated)
        assert recorded == (stated[0] == 201)
        outcomes.add((revoked[0], stated[0]))
    assert outcomes  # which orders happened is PostgreSQL's choice


def test_a_giver_cannot_give_two_holders_at_once(world, facilitator):
    _server, api, members, tokens = world
    url = f"{api}/assemblies/liberty-square/proxies/"
    for n in range(ROUNDS):
        proposal = new_proposal(facilitator, n)
        body = {"proposal": proposal.pk, "mandate": "agree"}
        to_ben, to_carla = together(
            partial(post, url, tokens["Ana"], {**body, "holder": members["Ben"].pk}),
            partial(post, url, tokens["Ana"], {**body, "holder": members["Carla"].pk}),
        )
        assert sorted([to_ben[0], to_carla[0]]) == [201, 409], (to_ben, to_carla)
        assert Proxy.objects.filter(proposal=proposal, revoked_at__isnull=True).count() == 1


def test_two_givers_racing_for_one_holder_respect_the_cap(world, facilitator):
    _server, api, members, tokens = world
    url = f"{api}/assemblies/liberty-square/proxies/"
    for n in range(ROUNDS):
        proposal = new_proposal(facilitator, n)
        body = {"proposal": proposal.pk, "mandate": "agree", "holder": members["Ben"].pk}
        first, second = together(
            partial(post, url, tokens["Ana"], body), partial(post, url, tokens["Carla"], body)
        )
        assert sorted([first[0], second[0]]) == [201, 409], (first, second)
        refused = first if first[0] == 409 else second
        assert refused[1]["code"] == "proxy_cap"


def test_the_giver_and_the_holder_state_at_once(world, facilitator):
    _server, api, members, tokens = world
    ana, ben = members["Ana"], members["Ben"]
    for n in range(ROUNDS):
        proposal = new_proposal(facilitator, n)
        proposal_services.give_proxy(actor=ana, holder=ben, proposal=proposal, mandate="agree")
        proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
        url = f"{api}/proposals/{proposal.pk}/positions/"
        own, proxied = together(
            partial(post, url, tokens["Ana"], {"kind": "stand_aside"}),
            partial(post, url, tokens["Ben"], {"kind": "agree", "for_member": ana.pk}),
        )
        assert own[0] == 201, own
        assert proxied[0] in (201, 409), proxied
        current = Position.objects.get(proposal=proposal, member=ana, is_current=True)
        # Whatever the order, the member's own position is the one that stands.
        assert (current.kind, current.stated_by_id) == ("stand_aside", None)


def test_a_holder_states_over_the_socket_and_everyone_sees_ben_for_ana(world, facilitator):
    server, _api, members, tokens = world
    ana, ben = members["Ana"], members["Ben"]
    proposal = new_proposal(facilitator, 0)
    assembly = facilitator.assembly
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, proxy_may_block=True)
    proposal_services.give_proxy(
        actor=ana, holder=ben, proposal=proposal, mandate="judgement", may_block=True
    )
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    url = f"{server['ws']}/ws/assemblies/{assembly.slug}/"
    with (
        connect(url, additional_headers={"Authorization": f"Token {tokens['Carla']}"}) as watcher,
        connect(url, additional_headers={"Authorization": f"Token {tokens['Ben']}"}) as ws,
    ):
        ws.send(json.dumps({"type": "position", "proposal": proposal.pk, "kind": "block",
                            "reason": "It harms the river.", "for_member": ana.pk,
                            "request_id": "proxy-1"}))  # fmt: skip
        for _ in range(50):
            frame = json.loads(ws.recv(timeout=5))
            if frame["type"] not in ("snapshot", "mine", "beat"):
                break
        assert frame["type"] == "ack", frame
        ws.send(json.dumps({"type": "position", "proposal": proposal.pk, "kind": "agree",
                            "for_member": "Ana"}))  # fmt: skip
        for _ in range(50):
            frame = json.loads(ws.recv(timeout=5))
            if frame["type"] == "error":
                break
        assert frame["code"] == "invalid_field"
        for _ in range(50):
            frame = json.loads(watcher.recv(timeout=5))
            blocks = [
                block
                for p in frame.get("proposals", [])
                if p["id"] == proposal.pk
                for block in p.get("blocks", [])
            ]
            if blocks:
                break
        assert blocks[0]["member"] == "Ben for Ana"
        assert blocks[0]["reason"] == "It harms the river."
