"""Proposals, discussion, positions, facilitation and decisions over the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import services as proposal_services
from proposals.models import Comment, Decision, Phase, Position, Proposal

A = "/api/v1/assemblies/liberty-square/"


def url(proposal, action=""):
    pk = proposal if isinstance(proposal, int) else proposal.pk
    return f"/api/v1/proposals/{pk}/{action}"


def test_it_submits_a_proposal(client_as, assembly, participant):
    response = client_as(participant).post(
        A + "proposals/", {"title": "Kitchen tarp", "text": "Buy **one**."}
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert isinstance(data["id"], int)
    assert data["phase"] == "draft"
    assert data["revision"]["text"] == "Buy **one**."
    assert data["author"] == {"member_id": participant.pk, "member": "Pat"}
    assert data["decision"] is None


def test_it_refuses_proposals_from_observers_and_outsiders(client_as, assembly, observer, outsider):
    body = {"title": "T", "text": "x"}
    assert client_as(observer).post(A + "proposals/", body).json()["code"] == "observer"
    assert client_as(outsider).post(A + "proposals/", body).json()["code"] == "not_a_member"
    assert not Proposal.objects.exists()


def test_it_validates_input_with_field_messages(client_as, assembly, participant):
    response = client_as(participant).post(A + "proposals/", {"title": ""})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"title", "text"}
    assert body["message"]


def test_it_shows_a_proposal_with_tally_and_positions(client_as, open_call, participant):
    proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
    data = client_as(None).get(url(open_call)).json()
    assert data["phase"] == "call"
    assert data["tally"] == {"agree": 1, "stand_aside": 0, "block": 0}
    assert data["rule"]["fallback_supermajority"] == "9/10"
    assert [(p["member"], p["kind"], p["stale"]) for p in data["positions"]] == [
        ("Pat", "agree", False)
    ]


def test_it_lists_proposals_with_phase_filter(client_as, assembly, proposal, open_call):
    listing = client_as(None).get(A + "proposals/").json()
    assert [p["id"] for p in listing["results"]] == [proposal.pk]
    assert listing["results"][0]["tally"] == {"agree": 0, "stand_aside": 0, "block": 0}
    assert client_as(None).get(A + "proposals/?phase=draft").json()["count"] == 0
    assert client_as(None).get(A + "proposals/?phase=call").json()["count"] == 1


def test_it_takes_and_replaces_positions(client_as, open_call, participant):
    client = client_as(participant)
    first = client.post(url(open_call, "positions/"), {"kind": "agree"})
    assert first.status_code == 201
    second = client.post(
        url(open_call, "positions/"), {"kind": "stand_aside", "reason": "Not my thing"}
    )
    assert second.json()["kind"] == "stand_aside"
    current = client.get(url(open_call, "positions/")).json()["results"]
    assert [(p["kind"], p["reason"]) for p in current] == [("stand_aside", "Not my thing")]
    assert Position.objects.filter(proposal=open_call).count() == 2


def test_a_retried_request_id_is_applied_once(client_as, open_call, participant):
    client = client_as(participant)
    body = {"kind": "agree", "request_id": "r-1"}
    ids = {client.post(url(open_call, "positions/"), body).json()["id"] for _ in range(3)}
    assert len(ids) == 1
    assert Position.objects.count() == 1


def test_a_block_needs_a_reason(client_as, open_call, participant):
    response = client_as(participant).post(url(open_call, "positions/"), {"kind": "block"})
    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    assert not Position.objects.exists()


def test_a_position_outside_the_call_is_a_conflict(client_as, proposal, participant):
    response = client_as(participant).post(url(proposal, "positions/"), {"kind": "agree"})
    assert response.status_code == 409
    assert response.json()["code"] == "call_not_open"


def test_the_discussion_runs_through_comments(client_as, proposal, participant, facilitator):
    asker, author = client_as(facilitator), client_as(participant)
    question = asker.post(url(proposal, "comments/"), {"kind": "question", "text": "Which blue?"})
    assert question.status_code == 201
    answer = author.post(
        url(proposal, "comments/"),
        {"kind": "answer", "text": "Navy", "parent": question.json()["id"]},
    )
    assert answer.status_code == 201
    amendment = asker.post(
        url(proposal, "comments/"),
        {"kind": "amendment", "text": "Cheaper", "proposed_text": "We buy a tarp, at most $60."},
    )
    assert amendment.status_code == 201
    accepted = author.post(f"/api/v1/comments/{amendment.json()['id']}/accept/")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    revisions = client_as(None).get(url(proposal, "revisions/")).json()["results"]
    assert [r["number"] for r in revisions] == [1, 2]
    assert revisions[1]["amendment"] == amendment.json()["id"]
    comments = client_as(None).get(url(proposal, "comments/")).json()["results"]
    assert [(c["kind"], c["status"]) for c in comments] == [
        ("question", "addressed"),
        ("answer", "open"),
        ("amendment", "accepted"),
    ]
    again = author.post(f"/api/v1/comments/{amendment.json()['id']}/decline/")
    assert again.status_code == 409


def test_an_answer_needs_a_question(client_as, proposal, participant):
    response = client_as(participant).post(
        url(proposal, "comments/"), {"kind": "answer", "text": "x", "parent": 999999}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "question_required"
    assert not Comment.objects.exists()


def test_facilitators_move_phases_and_call_for_consensus(client_as, proposal, facilitator):
    client = client_as(facilitator)
    response = client.post(url(proposal, "phase/"), {"phase": "questions"})
    assert response.status_code == 200
    assert response.json()["phase"] == "questions"
    assert client.post(url(proposal, "phase/"), {"phase": "decided"}).status_code == 400
    call = client.post(url(proposal, "call-for-consensus/"))
    assert call.status_code == 200
    assert call.json()["phase"] == "call"
    assert call.json()["rule"]["preset"] == "occupy_modified_consensus"
    assert client.post(url(proposal, "call-for-consensus/")).status_code == 409


def test_participants_cannot_facilitate(client_as, proposal, participant):
    client = client_as(participant)
    for action, body in [("phase/", {"phase": "questions"}), ("call-for-consensus/", {})]:
        response = client.post(url(proposal, action), body)
        assert response.status_code == 403
        assert response.json()["code"] == "not_facilitator"
    proposal.refresh_from_db()
    assert proposal.phase == Phase.DRAFT


def test_closing_answers_the_recorded_decision(client_as, open_call, facilitator, make_member):
    voters = [make_member() for _ in range(9)]
    for voter in voters:
        client_as(voter).post(url(open_call, "positions/"), {"kind": "agree"})
    blocker = make_member("Blair")
    client_as(blocker).post(url(open_call, "positions/"), {"kind": "block", "reason": "Cost"})
    response = client_as(facilitator).post(url(open_call, "close/"))
    assert response.status_code == 201, response.json()
    data = response.json()
    decision = Decision.objects.get()
    assert data["id"] == decision.pk
    assert data["outcome"] == "modified_consensus"  # 9 of 10 reaches 9/10 exactly
    assert data["passed"] is True
    assert data["counts"] == {"agree": 9, "stand_aside": 0, "block": 1}
    assert data["digest"] == decision.digest
    assert data["record"]["positions"][-1]["reason"] == "Cost"
    again = client_as(facilitator).post(url(open_call, "close/"))
    assert again.status_code == 409
    assert again.json()["code"] == "call_not_open"
    late = client_as(voters[0]).post(url(open_call, "positions/"), {"kind": "block", "reason": "x"})
    assert late.status_code == 409
    assert Decision.objects.count() == 1
    shown = client_as(None).get(url(open_call)).json()
    assert shown["decision"]["digest"] == decision.digest
    assert shown["outcome"] == "modified_consensus"


def test_tabling_and_withdrawing(client_as, proposal, open_call, facilitator, participant):
    tabled = client_as(facilitator).post(url(proposal, "table/"))
    assert tabled.status_code == 200
    assert tabled.json()["phase"] == "tabled"
    assert client_as(facilitator).post(url(proposal, "table/")).status_code == 409
    withdrawn = client_as(participant).post(url(proposal, "withdraw/"))
    assert withdrawn.status_code == 201
    assert withdrawn.json()["outcome"] == "withdrawn"
    assert client_as(participant).post(url(proposal, "withdraw/")).status_code == 409


def test_decisions_filter_and_paginate_by_cursor(client_as, assembly, facilitator, participant):
    for i in range(5):
        proposal = proposal_services.submit_proposal(actor=participant, title=f"P{i}", text="t")
        if i % 2:
            proposal_services.withdraw_proposal(actor=participant, proposal=proposal)
        else:
            proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
            proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")
            proposal_services.close_call(actor=facilitator, proposal=proposal)
    client = client_as(None)
    page = client.get(A + "decisions/?limit=2").json()
    assert [d["sequence"] for d in page["results"]] == [5, 4]
    assert "cursor=" in page["next"]
    rest = client.get(page["next"]).json()
    assert [d["sequence"] for d in rest["results"]] == [3, 2]
    consensus = client.get(A + "decisions/?outcome=consensus").json()["results"]
    assert [d["sequence"] for d in consensus] == [5, 3, 1]
    first = Decision.objects.get(sequence=2).decided_at.isoformat()
    since = client.get(A + "decisions/", {"since": first}).json()["results"]
    assert [d["sequence"] for d in since] == [5, 4, 3, 2]
    until = client.get(A + "decisions/", {"until": first}).json()["results"]
    assert [d["sequence"] for d in until] == [1]
    bad = client.get(A + "decisions/?outcome=won&since=yesterday")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"outcome", "since"}
    detail = client.get(f"/api/v1/decisions/{Decision.objects.get(sequence=1).pk}/").json()
    assert detail["record"]["sequence"] == 1


def _grow(facilitator, participant, make_member, n):
    for _ in range(n):
        proposal = proposal_services.submit_proposal(actor=participant, title="P", text="t")
        proposal_services.add_comment(
            actor=participant, proposal=proposal, kind="concern", text="c"
        )
        proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
        proposal_services.take_position(actor=make_member(), proposal=proposal, kind="agree")
        proposal_services.close_call(actor=facilitator, proposal=proposal)


@pytest.mark.parametrize("path", ["proposals/", "decisions/", "positions", "comments", "revisions"])
def test_lists_take_a_constant_number_of_queries(
    client_as, open_call, facilitator, participant, make_member, django_assert_max_num_queries, path
):
    # A big proposal for the per-proposal lists; many proposals for the assembly's lists.
    def target():
        if path.endswith("/"):
            return A + path
        return url(open_call, path + "/")

    def grow_one(n):
        for _ in range(n):
            voter = make_member()
            proposal_services.take_position(actor=voter, proposal=open_call, kind="agree")
            proposal_services.add_comment(actor=voter, proposal=open_call, kind="concern", text="c")

    client = client_as(participant)
    _grow(facilitator, participant, make_member, 3)
    grow_one(3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(target()).status_code == 200
    _grow(facilitator, participant, make_member, 27)
    grow_one(27)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(target())
    assert len(response.json()["results"]) >= (1 if path == "revisions" else 30)


def test_a_script_with_only_tokens_runs_a_decision(client_as, assembly, facilitator):
    """What a bot or a phone does: join by code, follow the proposal, take a position; the
    facilitator's own script calls for consensus and closes."""
    from rest_framework.test import APIClient

    anonymous = APIClient()
    joined = anonymous.post(A + "join/", {"code": assembly.join_code, "display_name": "Bot"}).json()
    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION=f"Token {joined['token']}")
    chair = client_as(facilitator)

    proposal_id = bot.post(A + "proposals/", {"title": "Open a library", "text": "Books."}).json()[
        "id"
    ]
    chair.post(url(proposal_id, "phase/"), {"phase": "presented"})
    bot.post(url(proposal_id, "comments/"), {"kind": "concern", "text": "Rain?"})
    assert chair.post(url(proposal_id, "call-for-consensus/")).json()["phase"] == "call"
    followed = bot.get(url(proposal_id)).json()
    assert followed["phase"] == "call"
    assert bot.post(url(proposal_id, "positions/"), {"kind": "agree"}).status_code == 201
    decision = chair.post(url(proposal_id, "close/")).json()
    assert decision["outcome"] == "consensus"
    assert decision["counts"] == {"agree": 1, "stand_aside": 0, "block": 0}
    assert bot.get(url(proposal_id)).json()["decision"]["id"] == decision["id"]
