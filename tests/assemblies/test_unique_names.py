"""Issue "A real sitting without a stumble", point 5: names can deceive.

A second "Ana" (in any case, width or accent) and a name claiming a role are refused at
every way in, over HTTP: the join page, the QR link's page and the API; a taken name comes
with a free one to use instead, and a race for one name is decided by the database, never
with a 500.
"""

import threading

import pytest
import requests
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse

from assemblies import services
from assemblies.models import Membership
from core.errors import Conflict
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def join_page(client, assembly, name):
    return client.post(
        reverse("assemblies:join"), {"code": assembly.join_code, "display_name": name}
    )


def join_link(client, assembly, name):
    return client.post(
        reverse("assemblies:join_link", args=[assembly.slug]),
        {"code": assembly.join_code, "display_name": name},
    )


def join_api(client, assembly, name):
    return client.post(
        f"/api/v1/assemblies/{assembly.slug}/join/",
        {"code": assembly.join_code, "display_name": name},
        content_type="application/json",
    )


EDGES = {"join page": join_page, "QR link page": join_link, "API": join_api}


def outcome(response) -> tuple[str, str]:
    """("joined", "") or (the refusal's code, its message), from a page or the API."""
    if response.status_code in (201, 302):
        return "joined", ""
    if response.headers["Content-Type"].startswith("application/json"):
        body = response.json()
        return body["code"], body["message"]
    error = response.context["form"].errors.as_data()["display_name"][0]
    return error.code, error.messages[0]


@pytest.fixture
def ana(assembly):
    return services.join_by_code(code=assembly.join_code, display_name="Ana")


@pytest.fixture(params=list(EDGES))
def edge(request):
    return EDGES[request.param]


# --- the same name, spelled otherwise ----------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["Ana", "ANA", "ana", "Ana ", "  Ana", "\uff21\uff4e\uff41", "Aná", "\u0410na", "A\u200dna"],
)
def test_a_second_ana_is_refused_with_a_free_name_to_use(client, assembly, ana, edge, spelling):
    members = Membership.objects.count()
    code, message = outcome(edge(client, assembly, spelling))
    assert code == "display_name_taken"
    typed = spelling.strip()
    assert message == f"“{typed}” is taken here: “{typed} 2”?"
    assert Membership.objects.count() == members
    assert not User.objects.filter(username__startswith="guest-").exclude(pk=ana.user_id).exists()


def test_the_suggestion_is_free_and_the_next_one_moves_on(client, assembly, ana, edge):
    assert outcome(edge(client, assembly, "ana")) == (
        "display_name_taken",
        "“ana” is taken here: “ana 2”?",
    )
    client.logout()
    assert outcome(edge(client, assembly, "ana 2"))[0] == "joined"
    client.logout()
    assert outcome(edge(client, assembly, "ANA")) == (
        "display_name_taken",
        "“ANA” is taken here: “ANA 3”?",
    )
    assert sorted(assembly.memberships.values_list("display_name", flat=True)) == [
        "Ana",
        "Fran",
        "ana 2",
    ]


def test_the_suggestion_skips_names_already_taken(client, assembly, ana):
    services.join_by_code(code=assembly.join_code, display_name="Ana 2")
    services.join_by_code(code=assembly.join_code, display_name="ANA 3")
    assert outcome(join_api(client, assembly, "Ana"))[1] == "“Ana” is taken here: “Ana 4”?"


def test_the_api_answers_409_with_the_suggestion_in_the_body(client, assembly, ana):
    response = join_api(client, assembly, "ANA")
    assert response.status_code == 409
    assert response.json() == {
        "code": "display_name_taken",
        "message": "“ANA” is taken here: “ANA 2”?",
        "suggestion": "ANA 2",
    }


def test_the_refusal_is_in_the_readers_language(client, assembly, ana):
    spanish = client.post(
        f"/api/v1/assemblies/{assembly.slug}/join/",
        {"code": assembly.join_code, "display_name": "ANA"},
        content_type="application/json",
        headers={"Accept-Language": "es"},
    )
    assert spanish.json()["message"] == "«ANA» ya está en uso aquí: ¿«ANA 2»?"
    french = client.post(
        f"/api/v1/assemblies/{assembly.slug}/join/",
        {"code": assembly.join_code, "display_name": "ANA"},
        content_type="application/json",
        headers={"Accept-Language": "fr"},
    )
    assert (
        french.json()["message"]
        == "«\u202fANA\u202f» est déjà pris ici\u00a0: «\u202fANA 2\u202f»\u202f?"
    )


def test_the_name_is_stored_as_typed(client, assembly, edge):
    assert outcome(edge(client, assembly, "  \uff32\uff4f\uff53\uff41  María "))[0] == "joined"
    member = assembly.memberships.get(display_name="\uff32\uff4f\uff53\uff41 María")
    assert member.name_key == "rosa maria"


def test_a_name_is_free_in_another_assembly(client, assembly, other_assembly, ana):
    assert outcome(join_api(client, other_assembly, "Ana"))[0] == "joined"


def test_an_account_joining_without_a_code_hears_the_same(client, assembly, ana):
    client.force_login(make_user("ana2"))
    response = client.post(
        f"/api/v1/assemblies/{assembly.slug}/join/",
        {"display_name": "ANA"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "display_name_taken")


# --- control and invisible characters are refused, not stripped ------------------------------


@pytest.mark.parametrize(
    "name", ["A\u200bna", "\u202eAna", "Ana\u2066", "Ana\u2069", "A\x07na", "Ana\x1b[31m", "A\tna"]
)
def test_a_name_with_invisible_or_control_characters_is_refused(client, assembly, edge, name):
    members = Membership.objects.count()
    code, message = outcome(edge(client, assembly, name))
    assert code == "display_name_invalid"
    assert message
    assert Membership.objects.count() == members


# --- names that claim a role ----------------------------------------------------------------


ROLE_CLAIMS = [
    "Rosa (facilitator)",
    "Facilitator",
    "[moderator] Ben",
    "admin",
    "Staff",
    "Site staff",
    "Multitude",
    "Rosa (facilitadora)",
    "Moderador Ben",
    "Administrador",
    "Rosa (animatrice)",
    "Modératrice",
    "Facilitateur Léo",
    "Administrateur",
]


@pytest.mark.parametrize("name", ROLE_CLAIMS)
def test_a_name_claiming_a_role_is_refused(client, assembly, edge, name):
    members = Membership.objects.count()
    code, message = outcome(edge(client, assembly, name))
    assert code == "display_name_claims_role"
    assert "role" in message
    assert Membership.objects.count() == members


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "cannot claim a role"), ("es", "no puede atribuirse"), ("fr", "ne peut pas")],
)
def test_the_role_refusal_is_translated(client, assembly, language, words):
    response = client.post(
        f"/api/v1/assemblies/{assembly.slug}/join/",
        {"code": assembly.join_code, "display_name": "Rosa (facilitator)"},
        content_type="application/json",
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    assert words in response.json()["message"]


def test_creating_an_assembly_under_a_role_name_is_refused(client):
    client.force_login(make_user("ada"))
    response = client.post(
        "/api/v1/assemblies/",
        {"name": "New GA", "display_name": "Site staff"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "display_name_claims_role")


# --- leaving keeps the name; coming back checks it again -------------------------------------


def test_a_member_who_left_keeps_their_name(client, assembly, ana):
    services.leave_assembly(member=ana)
    assert outcome(join_api(client, assembly, "Ana"))[0] == "display_name_taken"


def test_coming_back_under_ones_own_name_is_fine_but_not_under_anothers(assembly, participant):
    services.leave_assembly(member=participant)
    with pytest.raises(Conflict) as refused:
        services.join_assembly(user=participant.user, assembly=assembly, display_name="FRAN")
    assert refused.value.code == "display_name_taken"
    participant.refresh_from_db()
    assert (participant.display_name, participant.status) == ("Pat", "left")
    back = services.join_assembly(user=participant.user, assembly=assembly, display_name="PAT")
    assert (back.display_name, back.name_key, back.status) == ("PAT", "pat", "active")


# --- the admin -----------------------------------------------------------------------------


def test_the_admin_shows_a_taken_name_on_the_form_not_a_500(client, assembly, ana, participant):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    url = reverse("admin:assemblies_membership_change", args=[participant.pk])
    response = client.post(
        url,
        {
            "user": participant.user_id,
            "assembly": assembly.pk,
            "display_name": "ANA",
            "role": "participant",
            "status": "active",
            "joined_via": "account",
        },
    )
    assert response.status_code == 200
    assert "Someone in this assembly already has this name." in response.content.decode()
    participant.refresh_from_db()
    assert participant.display_name == "Pat"


# --- a race for one name ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_one_name_at_once_the_database_decides(assembly):
    """The first joiner's transaction is still open when the second checks the name and
    finds it free; the second's insert then waits on the unique index and loses."""
    first_inserted, may_commit = threading.Event(), threading.Event()
    results = {}

    def first():
        from django.db import transaction

        try:
            with transaction.atomic():
                results["first"] = services.join_by_code(
                    code=assembly.join_code, display_name="Ana"
                )
                first_inserted.set()
                may_commit.wait(10)
        finally:
            connection.close()

    def second():
        first_inserted.wait(10)
        try:
            results["second"] = services.join_by_code(code=assembly.join_code, display_name="ANA")
        except Exception as error:  # the refusal is what this test is about
            results["second"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    _wait_until_waiting_on_a_lock()
    may_commit.set()
    for thread in threads:
        thread.join(20)
    loser = results["second"]
    assert isinstance(loser, Conflict), loser
    assert (loser.code, loser.message) == ("display_name_taken", "“ANA” is taken here: “ANA 2”?")
    assert list(assembly.memberships.exclude(role="facilitator").values_list("display_name")) == [
        ("Ana",)
    ]
    assert User.objects.filter(username__startswith="guest-").count() == 1


def _wait_until_waiting_on_a_lock(timeout=10.0):
    """Until the second insert blocks behind the first's open transaction."""
    import time

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the second insert never waited on the first")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_crowd_taking_one_name_through_a_real_server_gets_one_member_and_no_500(
    start_server, assembly
):
    server = start_server()
    start = threading.Barrier(8)
    answers = []

    def join(spelling):
        start.wait(10)
        response = requests.post(
            f"{server['http']}/api/v1/assemblies/{assembly.slug}/join/",
            json={"code": assembly.join_code, "display_name": spelling},
            timeout=30,
        )
        answers.append((response.status_code, response.json()))

    spellings = ["Ana", "ANA", "ana", "\uff21\uff4e\uff41", "Aná", "Ana ", "aNa", "\u0410na"]
    threads = [threading.Thread(target=join, args=(s,)) for s in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] + [409] * 7, answers
    for status, body in answers:
        if status == 409:
            assert body["code"] == "display_name_taken"
            assert body["suggestion"].endswith(" 2")
    assert assembly.memberships.filter(name_key="ana").count() == 1
