"""Proxies over the API: give, list, revoke, state "Ben for Ana", and the exports."""

import csv
import io
import json

import pytest

from assemblies.models import LogEntry
from proposals import services as proposal_services

A = "/api/v1/assemblies/liberty-square/"


@pytest.fixture
def ana(make_member):
    return make_member("Ana")


@pytest.fixture
def ben(make_member):
    return make_member("Ben")


def test_a_proxy_given_used_and_exported(client_as, ana, ben, open_call, facilitator):
    given = client_as(ana).post(
        A + "proxies/",
        {"holder": ben.pk, "proposal": open_call.pk, "mandate": "stand_aside", "reason": "Away."},
        format="json",
    )
    assert given.status_code == 201, given.json()
    assert given.json()["holder"] == "Ben" and given.json()["active"] is True
    listed = client_as(None).get(A + "proxies/").json()["results"]
    assert [(p["giver"], p["holder"]) for p in listed] == [("Ana", "Ben")]
    url = f"/api/v1/proposals/{open_call.pk}/positions/"
    wrong = client_as(ben).post(url, {"kind": "agree", "for_member": ana.pk}, format="json")
    assert wrong.status_code == 409 and wrong.json()["code"] == "proxy_mandate"
    stated = client_as(ben).post(url, {"kind": "stand_aside", "for_member": ana.pk}, format="json")
    assert stated.status_code == 201, stated.json()
    body = stated.json()
    assert (body["member"], body["stated_by"], body["reason"]) == ("Ana", "Ben", "Away.")
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    csv_text = b"".join(client_as(None).get(A + "positions.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["member"], r["stated_by"]) for r in rows] == [("Ana", "Ben")]
    popolo = json.loads(b"".join(client_as(None).get(A + "popolo.json").streaming_content))
    [vote] = popolo["motions"][0]["vote_events"][0]["votes"]
    assert vote["voter"]["name"] == "Ana" and vote["proxy_holder"]["name"] == "Ben"
    assert vote["role"] == "represented by proxy"
    minutes_lines = [e.action for e in LogEntry.objects.all()]
    assert "proposals.proxy.given" in minutes_lines and "proposals.proxy.used" in minutes_lines


def test_refusals_are_json_and_change_nothing(client_as, ana, ben, observer, open_call, proposal):
    cases = [
        ({"holder": ana.pk, "proposal": open_call.pk, "mandate": "agree"}, 400),
        ({"holder": ben.pk, "proposal": open_call.pk, "mandate": "veto"}, 400),
        ({"holder": ben.pk, "mandate": "agree"}, 400),
        ({"holder": 2**62, "proposal": open_call.pk, "mandate": "agree"}, 404),
        ({"holder": ben.pk, "proposal": 2**62, "mandate": "agree"}, 404),
        ({"holder": ben.pk, "proposal": open_call.pk, "mandate": "block"}, 403),
        ({"holder": "x" * 10_000, "mandate": "agree"}, 400),
    ]
    for body, status in cases:
        response = client_as(ana).post(A + "proxies/", body, format="json")
        assert response.status_code == status, (body, response.json())
        assert "code" in response.json() or isinstance(response.json(), dict)
    observed = client_as(observer).post(
        A + "proxies/", {"holder": ben.pk, "proposal": open_call.pk, "mandate": "agree"}
    )
    assert observed.status_code == 403
    anonymous = client_as(None).post(
        A + "proxies/", {"holder": ben.pk, "proposal": open_call.pk, "mandate": "agree"}
    )
    assert anonymous.status_code in (401, 403)
    assert client_as(None).get(A + "proxies/").json()["count"] == 0


def test_revoke_through_the_api_until_the_call_opens(client_as, ana, ben, proposal, facilitator):
    proxy = (
        client_as(ana)
        .post(A + "proxies/", {"holder": ben.pk, "proposal": proposal.pk, "mandate": "agree"})
        .json()
    )
    outsider_try = client_as(facilitator).post(f"/api/v1/proxies/{proxy['id']}/revoke/")
    assert outsider_try.status_code == 404
    revoked = client_as(ana).post(f"/api/v1/proxies/{proxy['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    again = (
        client_as(ana)
        .post(A + "proxies/", {"holder": ben.pk, "proposal": proposal.pk, "mandate": "agree"})
        .json()
    )
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    late = client_as(ben).post(f"/api/v1/proxies/{again['id']}/revoke/")
    assert late.status_code == 409 and late.json()["code"] == "proxy_call_open"
    assert client_as(None).get(A + "proxies/?all=true").json()["count"] == 2


def test_hostile_input_is_refused_with_json_and_changes_nothing(client_as, ana, ben, open_call):
    proxies = A + "proxies/"
    nested: dict = {}
    for _ in range(200):
        nested = {"x": nested}
    bodies = [
        {"holder": ben.pk, "proposal": open_call.pk, "mandate": "agree", "reason": "a\x00b"},
        {
            "holder": ben.pk,
            "proposal": open_call.pk,
            "mandate": "agree",
            "reason": "a\u202eb" * 3000,
        },
        {"holder": ben.pk, "proposal": open_call.pk, "mandate": "agree", "reason": nested},
        {"holder": [ben.pk], "proposal": open_call.pk, "mandate": "agree"},
        {"holder": -1, "proposal": open_call.pk, "mandate": "agree"},
        {"holder": 2**70, "proposal": open_call.pk, "mandate": "agree"},
    ]
    for body in bodies:
        response = client_as(ana).post(proxies, body, format="json")
        assert 400 <= response.status_code < 500, (body, response.status_code)
        assert "code" in response.json()
    assert client_as(None).get(proxies).json()["count"] == 0
    url = f"/api/v1/proposals/{open_call.pk}/positions/"
    for for_member in ("Ana", 1.5, True, 2**70, -3, [ana.pk], {"id": ana.pk}):
        response = client_as(ben).post(
            url, {"kind": "agree", "for_member": for_member}, format="json"
        )
        assert response.status_code == 400, (for_member, response.json())
    refused = client_as(ben).post(url, {"kind": "agree", "for_member": ana.pk}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "no_proxy"
    assert client_as(None).get(url).json()["count"] == 0
