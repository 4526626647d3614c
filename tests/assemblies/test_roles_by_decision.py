"""Roles by the assembly's own rule: a role changes only through a decision, cited in the log."""

import pytest
from django.db import connection, transaction
from django.db.utils import IntegrityError, InternalError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from assemblies import services
from assemblies.models import LogEntry, Membership, Role
from assemblies.rules import Outcome
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import chain
from proposals import services as proposal_services
from proposals.models import PositionKind
from tests.conftest import make_user
from tests.fixtures.state import db_state


@pytest.fixture
def ga(db):
    """A new assembly as anyone makes it: roles are given by decision (the default)."""
    return services.create_assembly(actor=make_user("rosa"), name="Park GA", display_name="Rosa")


@pytest.fixture
def rosa(ga):
    return ga.memberships.get()


@pytest.fixture
def people(ga):
    return {
        name: services.join_assembly(user=make_user(name.lower()), assembly=ga, display_name=name)
        for name in ("Ben", "Cleo", "Dev")
    }


def _decide(proposal, facilitator, voters, kind=PositionKind.AGREE):
    proposal = proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    for voter in voters:
        proposal_services.take_position(actor=voter, proposal=proposal, kind=kind)
    return proposal_services.close_call(actor=facilitator, proposal=proposal)


def _refused(call, exc_type, code):
    before = db_state()
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    assert db_state() == before


def _role(member) -> str:
    return Membership.objects.get(pk=member.pk).role


def test_a_new_assembly_gives_roles_by_decision(ga):
    assert ga.roles_by_decision is True and ga.founding_ended is False


def test_a_facilitator_alone_cannot_change_a_role(ga, rosa, people):
    _refused(
        lambda: services.change_role(actor=rosa, member=people["Ben"], role=Role.FACILITATOR),
        PermissionDenied,
        "roles_by_decision",
    )


def test_an_appointment_passes_and_the_log_cites_the_decision(ga, rosa, people):
    ben = people["Ben"]
    proposal = proposal_services.propose_roles(
        actor=people["Cleo"], changes=[(ben, Role.FACILITATOR)], reason="Ben knows the square."
    )
    assert proposal.governance["roles"] == [
        {"member_id": ben.pk, "member": "Ben", "role": "facilitator", "was": "participant"}
    ]
    assert "Ben: Participant → Facilitator" in proposal.revisions.get().text
    assert _role(ben) == Role.PARTICIPANT  # nothing changes before the decision
    decision = _decide(proposal, rosa, [rosa, *people.values()])
    assert Outcome(decision.outcome).passed
    assert _role(ben) == Role.FACILITATOR
    line = LogEntry.objects.get(action="assemblies.member.role_decided")
    assert line.actor is None
    assert line.data == {
        "member": "Ben",
        "member_id": ben.pk,
        "old": "participant",
        "new": "facilitator",
        "decision": decision.sequence,
        "proposal": proposal.title,
    }
    assert decision.record["proposal"]["governance"] == proposal.governance
    assert chain.verify_assembly(ga) is None


def test_the_founder_facilitates_only_until_the_first_appointment(ga, rosa, people):
    proposal = proposal_services.propose_roles(
        actor=people["Dev"], changes=[(people["Ben"], Role.FACILITATOR)]
    )
    decision = _decide(proposal, rosa, people.values())
    assert _role(rosa) == Role.PARTICIPANT
    ga.refresh_from_db()
    assert ga.founding_ended
    line = LogEntry.objects.get(action="assemblies.member.founding_ended")
    assert line.data["member"] == "Rosa" and line.data["decision"] == decision.sequence


def test_a_founder_the_assembly_appoints_keeps_the_role(ga, rosa, people):
    proposal = proposal_services.propose_roles(
        actor=people["Dev"],
        changes=[(people["Ben"], Role.FACILITATOR), (people["Cleo"], Role.OBSERVER)],
    )
    _decide(proposal, rosa, people.values())
    # Rosa was not named: she steps back, Ben facilitates, Cleo observes.
    assert (_role(rosa), _role(people["Ben"]), _role(people["Cleo"])) == (
        "participant",
        "facilitator",
        "observer",
    )


def test_a_blocked_proposal_changes_nothing(ga, rosa, people):
    proposal = proposal_services.propose_roles(
        actor=people["Dev"], changes=[(people["Ben"], Role.FACILITATOR)]
    )
    proposal = proposal_services.call_for_consensus(actor=rosa, proposal=proposal)
    proposal_services.take_position(
        actor=people["Cleo"], proposal=proposal, kind=PositionKind.BLOCK, reason="Not yet."
    )
    decision = proposal_services.close_call(actor=rosa, proposal=proposal)
    assert decision.outcome == Outcome.BLOCKED
    assert _role(people["Ben"]) == Role.PARTICIPANT and _role(rosa) == Role.FACILITATOR
    assert not LogEntry.objects.filter(action__startswith="assemblies.member.role_").exists()


def test_a_member_who_left_before_the_decision_is_skipped_and_the_log_says_so(ga, rosa, people):
    proposal = proposal_services.propose_roles(
        actor=people["Dev"], changes=[(people["Ben"], Role.FACILITATOR)]
    )
    services.leave_assembly(member=people["Ben"])
    _decide(proposal, rosa, [people["Cleo"], people["Dev"]])
    line = LogEntry.objects.get(action="assemblies.member.role_not_applied")
    assert line.data["why"] == "not_a_member"
    assert _role(rosa) == Role.FACILITATOR  # nobody was appointed: the founder stays


def test_a_proposal_that_leaves_no_facilitator_is_refused(ga, rosa, people):
    _refused(
        lambda: proposal_services.propose_roles(
            actor=people["Dev"], changes=[(rosa, Role.PARTICIPANT)]
        ),
        Conflict,
        "last_facilitator",
    )


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        (lambda p, r: [], DomainError, "no_change"),
        (lambda p, r: [(p["Ben"], Role.PARTICIPANT)], DomainError, "role_unchanged"),
        (lambda p, r: [(p["Ben"], "king")], DomainError, "invalid_role"),
        (
            lambda p, r: [(p["Ben"], Role.OBSERVER), (p["Ben"], Role.FACILITATOR)],
            DomainError,
            "member_twice",
        ),
    ],
)
def test_bad_proposals_of_roles_are_refused(ga, rosa, people, changes, error, code):
    _refused(
        lambda: proposal_services.propose_roles(actor=people["Dev"], changes=changes(people, rosa)),
        error,
        code,
    )


def test_a_member_of_another_assembly_cannot_be_named(ga, people, outsider):
    _refused(
        lambda: proposal_services.propose_roles(
            actor=people["Dev"], changes=[(outsider, Role.OBSERVER)]
        ),
        NotFound,
        "member_not_found",
    )


def test_only_a_decision_gives_roles_back_to_facilitators(ga, rosa, people):
    _refused(
        lambda: services.update_assembly(actor=rosa, assembly=ga, roles_by_decision=False),
        PermissionDenied,
        "roles_by_decision",
    )
    proposal = proposal_services.propose_roles(
        actor=people["Dev"], changes=[], roles_by_facilitators=True
    )
    _decide(proposal, rosa, people.values())
    ga.refresh_from_db()
    assert ga.roles_by_decision is False
    assert LogEntry.objects.filter(action="assemblies.assembly.roles_by_facilitators").exists()
    services.change_role(actor=rosa, member=people["Ben"], role=Role.OBSERVER)


def test_a_facilitator_may_turn_roles_by_decision_on(assembly, facilitator):
    assert assembly.roles_by_decision is False
    services.update_assembly(actor=facilitator, assembly=assembly, roles_by_decision=True)
    assembly.refresh_from_db()
    assert assembly.roles_by_decision is True


@pytest.mark.django_db(transaction=True)
def test_the_roles_a_proposal_changes_are_fixed_in_the_database(ga, people):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    proposal = proposal_services.propose_roles(
        actor=people["Dev"], changes=[(people["Ben"], Role.FACILITATOR)]
    )
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        type(proposal).objects.filter(pk=proposal.pk).update(governance={"roles": []})


# --- the edges ---------------------------------------------------------------------------------


def _api(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member.user)
    return client


def test_the_api_proposes_roles_and_refuses_a_direct_change(ga, rosa, people):
    ben = people["Ben"]
    url = reverse("api:role-proposals", args=[ga.slug])
    response = _api(people["Dev"]).post(
        url, {"changes": [{"member_id": ben.pk, "role": "facilitator"}]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["governance"]["roles"][0]["role"] == "facilitator"
    response = _api(rosa).post(
        reverse("api:members", args=[ga.slug]),
        {"member_id": ben.pk, "role": "facilitator"},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "roles_by_decision"
    assert _role(ben) == Role.PARTICIPANT


@pytest.mark.parametrize(
    "body",
    [
        {"changes": [{"member_id": 10**12, "role": "facilitator"}]},
        {"changes": [{"member_id": "x", "role": "facilitator"}]},
        {"changes": [{"role": "facilitator"}]},
        {"changes": "all"},
        {"changes": [{"member_id": 1, "role": "king"}] * 30},
        {},
    ],
)
def test_the_api_refuses_bad_proposals_of_roles_with_a_json_error(ga, people, body):
    response = _api(people["Dev"]).post(
        reverse("api:role-proposals", args=[ga.slug]), body, format="json"
    )
    assert 400 <= response.status_code < 500
    assert "code" in response.json()


def test_an_outsider_cannot_propose_roles_in_a_private_assembly(ga, rosa, people, outsider):
    url = reverse("api:role-proposals", args=[ga.slug])
    body = {"changes": [{"member_id": people["Ben"].pk, "role": "facilitator"}]}
    services.update_assembly(actor=rosa, assembly=ga, visibility="private")
    assert _api(outsider).post(url, body, format="json").status_code == 404


def test_the_page_proposes_a_change_of_roles(ga, rosa, people):
    client = Client()
    client.force_login(people["Cleo"].user)
    url = reverse("proposals:roles", args=[ga.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert "Propose this change of roles" in page.text
    form = {f"role_{m.pk}": m.role for m in ga.memberships.all()}
    form[f"role_{people['Ben'].pk}"] = "facilitator"
    response = client.post(url, {**form, "reason": "He knows the square."})
    assert response.status_code == 302
    proposal = ga.proposals.get()
    assert response["Location"] == proposal.get_absolute_url()
    assert proposal.governance["roles"][0]["member"] == "Ben"


def test_the_page_shows_a_refusal_on_the_form(ga, rosa, people):
    client = Client()
    client.force_login(people["Cleo"].user)
    url = reverse("proposals:roles", args=[ga.slug])
    form = {f"role_{m.pk}": m.role for m in ga.memberships.all()}
    form[f"role_{rosa.pk}"] = "participant"  # would leave no facilitator
    before = db_state()
    response = client.post(url, form)
    assert response.status_code == 400
    assert "at least one facilitator" in response.text
    assert db_state() == before


def test_the_log_page_says_the_rule_made_the_change(ga, rosa, people):
    proposal = proposal_services.propose_roles(
        actor=people["Dev"], changes=[(people["Ben"], Role.FACILITATOR)]
    )
    decision = _decide(proposal, rosa, people.values())
    page = Client().get(reverse("sittings:log", args=[ga.slug]))
    assert f"rule made Ben Facilitator, as decision #{decision.sequence}" in page.text
