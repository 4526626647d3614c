"""Assemblies, joining, members, sittings and personal tokens over the API."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from assemblies import services as assembly_services
from assemblies.models import Assembly, Membership, Role
from sittings import services as sitting_services
from tests.conftest import make_user

A = "/api/v1/assemblies/liberty-square/"


def test_it_lists_public_assemblies_to_anyone(client_as, assembly, other_assembly):
    response = client_as(None).get("/api/v1/assemblies/")
    assert response.status_code == 200
    assert [a["slug"] for a in response.json()["results"]] == ["liberty-square"]
    assert response.json()["results"][0]["join_code"] is None


def test_it_lists_my_private_assemblies_too(client_as, assembly, outsider):
    slugs = [a["slug"] for a in client_as(outsider).get("/api/v1/assemblies/").json()["results"]]
    assert slugs == ["liberty-square", "other"]


def test_it_creates_an_assembly_whose_creator_is_its_first_facilitator(client_as, db):
    user = make_user("ada")
    body = {
        "name": "Zuccotti Park",
        "visibility": "private",
        "decision_rule": {"preset": "occupy_modified_consensus", "quorum": 30},
        "display_name": "Ada",
    }
    response = client_as(user).post("/api/v1/assemblies/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["slug"] == "zuccotti-park"
    assert data["my_membership"]["role"] == "facilitator"
    assert data["join_code"] == Assembly.objects.get(slug="zuccotti-park").join_code
    assert data["decision_rule"]["fallback_supermajority"] == "9/10"
    assert data["decision_rule"]["quorum"] == 30
    member = Membership.objects.get(assembly__slug="zuccotti-park")
    assert (member.user, member.role, member.display_name) == (user, Role.FACILITATOR, "Ada")


def test_it_takes_a_rule_as_parameters_with_exact_fractions(client_as, db):
    rule = {
        "max_blocks": 1,
        "fallback_supermajority": "3/4",
        "stand_aside_limit": "1/4",
        "quorum": 5,
        "reason_required_for_block": True,
        "reason_required_for_stand_aside": True,
    }
    response = client_as(make_user("ada")).post(
        "/api/v1/assemblies/", {"name": "Rules", "decision_rule": rule}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["decision_rule"] == {**rule, "preset": None}


@pytest.mark.parametrize(
    "rule",
    [
        {"fallback_supermajority": 0.9},
        {"fallback_supermajority": "9/0"},
        {"stand_aside_limit": "3/2"},
        {"preset": "majority"},
        {"max_blocks": -1},
        {"surprise": 1},
        "consensus",
    ],
)
def test_it_refuses_bad_rules_with_400(client_as, db, rule):
    client = client_as(make_user("ada"))
    response = client.post(
        "/api/v1/assemblies/", {"name": "R", "decision_rule": rule}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "decision_rule" in response.json()["fields"]
    assert not Assembly.objects.exists()


def test_it_answers_409_for_a_taken_slug(client_as, assembly):
    response = client_as(make_user("ada")).post(
        "/api/v1/assemblies/", {"name": "X", "slug": "liberty-square"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {"code": "slug_taken", "message": "That address is already in use."}


def test_it_shows_the_join_code_to_facilitators_only(client_as, assembly, facilitator, participant):
    assert client_as(facilitator).get(A).json()["join_code"] == assembly.join_code
    assert client_as(participant).get(A).json()["join_code"] is None
    assert client_as(None).get(A).json()["join_code"] is None


def test_it_changes_the_rule_by_preset_or_parameters(client_as, assembly, facilitator):
    client = client_as(facilitator)
    response = client.patch(A, {"decision_rule": {"preset": "consent"}}, format="json")
    assert response.status_code == 200
    assert response.json()["decision_rule"]["preset"] == "consent"
    response = client.patch(
        A, {"decision_rule": {"max_blocks": 2, "stand_aside_limit": "1/3"}}, format="json"
    )
    assert response.json()["decision_rule"]["max_blocks"] == 2
    assert response.json()["decision_rule"]["stand_aside_limit"] == "1/3"
    assembly.refresh_from_db()
    assert assembly.decision_rule["stand_aside_limit"] == "1/3"


def test_it_refuses_changes_by_participants(client_as, assembly, participant):
    response = client_as(participant).patch(A, {"name": "Mine now"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_facilitator"
    assembly.refresh_from_db()
    assert assembly.name == "Liberty Square General Assembly"


def test_it_answers_401_to_anonymous_writes(client_as, assembly):
    response = client_as(None).patch(A, {"name": "x"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Token")


def test_it_answers_401_to_a_bad_token(client_as, assembly):
    client = client_as(None)
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = client.get(A)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_it_answers_400_to_malformed_json(client_as, assembly, facilitator):
    response = client_as(facilitator).generic(
        "PATCH", A, "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_it_answers_405_as_json(client_as, assembly):
    response = client_as(None).delete(A)
    assert response.status_code in (401, 405)
    assert set(response.json()) == {"code", "message"}


def test_it_joins_by_code_without_an_account(client_as, assembly):
    response = client_as(None).post(
        A + "join/", {"code": assembly.join_code.lower(), "display_name": "Phone"}, format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["member"]["display_name"] == "Phone"
    assert data["member"]["joined_via"] == "code"
    member = Membership.objects.get(pk=data["member"]["id"])
    assert Token.objects.get(key=data["token"]).user == member.user
    mine = client_as(None)
    mine.credentials(HTTP_AUTHORIZATION=f"Token {data['token']}")
    assert mine.get(A).json()["my_membership"]["id"] == member.pk


def test_it_joins_a_private_assembly_with_its_code(client_as, other_assembly):
    url = "/api/v1/assemblies/other/join/"
    assert client_as(None).post(url, {"code": "WRONG234", "display_name": "X"}).status_code == 404
    response = client_as(None).post(
        url, {"code": other_assembly.join_code, "display_name": "Bot"}, format="json"
    )
    assert response.status_code == 201


def test_it_refuses_a_wrong_code(client_as, assembly):
    response = client_as(None).post(
        A + "join/", {"code": "ZZZZ2222", "display_name": "X"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert Membership.objects.filter(assembly=assembly).count() == 1


def test_it_joins_with_an_account_and_no_code(client_as, assembly):
    user = make_user("acc")
    response = client_as(user).post(A + "join/", {"display_name": "Acc"}, format="json")
    assert response.status_code == 201
    assert Membership.objects.get(user=user).joined_via == "account"


def test_it_lists_members_and_facilitators_see_pending_ones(
    client_as, assembly, facilitator, participant
):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, admission_required=True)
    client_as(make_user("late")).post(A + "join/", {"display_name": "Late"}, format="json")
    public = client_as(participant).get(A + "members/").json()["results"]
    assert [m["display_name"] for m in public] == ["Fran", "Pat"]
    full = client_as(facilitator).get(A + "members/").json()["results"]
    assert [(m["display_name"], m["status"]) for m in full] == [
        ("Fran", "active"),
        ("Late", "pending"),
        ("Pat", "active"),
    ]
    late = Membership.objects.get(display_name="Late")
    response = client_as(facilitator).post(A + f"members/{late.pk}/admit/")
    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_it_gives_roles_facilitators_only(client_as, assembly, facilitator, participant, observer):
    body = {"member_id": participant.pk, "role": "facilitator"}
    assert client_as(observer).post(A + "members/", body, format="json").status_code == 403
    response = client_as(facilitator).post(A + "members/", body, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "facilitator"
    participant.refresh_from_db()
    assert participant.role == Role.FACILITATOR


def test_it_keeps_the_last_facilitator(client_as, assembly, facilitator):
    body = {"member_id": facilitator.pk, "role": "participant"}
    response = client_as(facilitator).post(A + "members/", body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "last_facilitator"


def test_it_removes_members(client_as, assembly, facilitator, participant):
    response = client_as(facilitator).post(A + f"members/{participant.pk}/remove/")
    assert response.status_code == 200
    assert response.json()["status"] == "removed"
    assert client_as(facilitator).post(A + "members/99999/remove/").status_code == 404


def test_it_schedules_runs_and_shows_sittings(client_as, assembly, facilitator, proposal):
    client = client_as(facilitator)
    response = client.post(
        A + "meetings/",
        {"title": "Thursday GA", "location": "The steps", "scheduled_for": "2026-11-26T19:00Z"},
        format="json",
    )
    assert response.status_code == 201
    meeting_id = response.json()["id"]
    url = f"/api/v1/meetings/{meeting_id}/"
    agenda = client.post(url + "agenda/", {"proposal_id": proposal.pk}, format="json")
    assert agenda.json()["agenda"] == [
        {"position": 1, "proposal_id": proposal.pk, "title": proposal.title, "phase": "draft"}
    ]
    assert client.post(url + "start/").json()["state"] == "in_session"
    assert client.post(url + "start/").status_code == 409
    assert client_as(None).get(url).json()["title"] == "Thursday GA"
    listing = client_as(None).get(A + "meetings/").json()
    assert [m["id"] for m in listing["results"]] == [meeting_id]
    assert client.post(url + "adjourn/").json()["state"] == "adjourned"


def test_it_refuses_sittings_from_participants(client_as, assembly, participant):
    response = client_as(participant).post(A + "meetings/", {"title": "Mine"}, format="json")
    assert response.status_code == 403
    assert not assembly.meetings.exists()


@pytest.mark.parametrize("path", ["", "members/", "meetings/"])
def test_lists_take_a_constant_number_of_queries(
    client_as, assembly, facilitator, make_member, django_assert_max_num_queries, path
):
    client = client_as(facilitator)

    def grow(n):
        for i in range(n):
            make_member()
            sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title=f"S{i}")
            assembly_services.create_assembly(actor=facilitator.user, name=f"Assembly {i}")

    url = "/api/v1/assemblies/" if path == "" else A + path
    grow(3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(27)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.json()["count"] >= 30


# --- personal tokens ----------------------------------------------------------------------


def test_create_token_command_prints_a_working_token(client_as, assembly, facilitator, capsys):
    call_command("create_token", "fran")
    key = capsys.readouterr().out.strip()
    assert Token.objects.get(key=key).user == facilitator.user
    client = client_as(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(A).json()["join_code"] == assembly.join_code


def test_create_token_command_refuses_unknown_users(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_token", "nobody")


def test_profile_page_creates_and_revokes_tokens(client, facilitator):
    client.force_login(facilitator.user)
    page = client.get("/account/")
    assert "Personal API tokens" in page.content.decode()
    created = client.post("/account/api-token/")
    assert created.status_code == 200
    key = Token.objects.get(user=facilitator.user).key
    assert key in created.content.decode()
    assert key not in client.get("/account/").content.decode()
    replaced = client.post("/account/api-token/")
    assert Token.objects.get(user=facilitator.user).key != key
    assert replaced.status_code == 200
    assert client.post("/account/api-token/revoke/").status_code == 302
    assert not Token.objects.filter(user=facilitator.user).exists()


def test_profile_token_views_need_login_and_post(client, db):
    assert client.post("/account/api-token/").status_code == 302
    assert not Token.objects.exists()
    make_user("x")
    client.force_login(make_user("y"))
    assert client.get("/account/api-token/").status_code == 405
