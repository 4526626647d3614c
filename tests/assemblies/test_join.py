"""One `join` service for every way in: the same request gets the same answer from the QR
link's page and from the API (and the join page, which has no assembly, finds it by code)."""

import pytest
from django.urls import reverse

from assemblies import services
from assemblies.models import Membership
from core.errors import DomainError, NotFound
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# who, which code, visibility -> expected: "joined", or the refusal's code.
CASES = [
    ("anonymous", "right", "public", "joined"),
    ("anonymous", "wrong", "public", "invalid_code"),
    ("anonymous", "none", "public", "code_required"),
    ("account", "right", "public", "joined"),
    ("account", "wrong", "public", "invalid_code"),
    ("account", "none", "public", "joined"),
    ("anonymous", "right", "private", "joined"),
    ("account", "right", "private", "joined"),
    ("account", "wrong", "private", "assembly_not_found"),
    ("account", "none", "private", "assembly_not_found"),
    ("anonymous", "none", "private", "assembly_not_found"),
]
IDS = ["-".join(case[:3]) for case in CASES]
# The edges answer "not found" before the service, for an assembly the caller may not see.
SERVICE_CASES = [case for case in CASES if case[3] != "assembly_not_found"]


def _setup(assembly, facilitator, who, which, visibility):
    if visibility != "public":
        services.update_assembly(actor=facilitator, assembly=assembly, visibility=visibility)
        assembly.refresh_from_db()
    user = make_user("newcomer") if who == "account" else None
    code = {"right": assembly.join_code, "wrong": "ZZZZ2222", "none": ""}[which]
    return user, code


@pytest.mark.parametrize(
    ("who", "which", "visibility", "expected"),
    SERVICE_CASES,
    ids=["-".join(case[:3]) for case in SERVICE_CASES],
)
def test_the_service(assembly, facilitator, who, which, visibility, expected):
    user, code = _setup(assembly, facilitator, who, which, visibility)
    try:
        member = services.join(user=user, assembly=assembly, code=code, display_name="Newcomer")
    except DomainError as error:
        assert error.code == expected
    else:
        assert expected == "joined"
        assert member.assembly_id == assembly.pk


def _outcome_of_page(response):
    if response.status_code == 302:
        return "joined"
    if response.status_code == 404:
        return "assembly_not_found"
    errors = response.context["form"].errors.as_data()
    return next(error.code for field in errors.values() for error in field)


def _outcome_of_api(response):
    if response.status_code == 201:
        return "joined"
    return response.json()["code"]


@pytest.mark.parametrize(("who", "which", "visibility", "expected"), CASES, ids=IDS)
def test_the_qr_link_page_and_the_api_agree(
    client, assembly, facilitator, who, which, visibility, expected
):
    user, code = _setup(assembly, facilitator, who, which, visibility)
    if user is not None:
        client.force_login(user)
    page = client.post(
        reverse("assemblies:join_link", args=[assembly.slug]),
        {"code": code, "display_name": "Newcomer"},
    )
    assert _outcome_of_page(page) == expected
    Membership.objects.filter(display_name="Newcomer").delete()
    if user is None:
        client.logout()
    api = client.post(
        f"/api/v1/assemblies/{assembly.slug}/join/",
        {"code": code, "display_name": "Newcomer"},
        content_type="application/json",
    )
    assert _outcome_of_api(api) == expected


def test_the_join_page_finds_the_assembly_by_its_code(client, assembly):
    response = client.post(
        reverse("assemblies:join"), {"code": assembly.join_code, "display_name": "Walk-in"}
    )
    assert response.status_code == 302
    assert assembly.memberships.filter(display_name="Walk-in").exists()


def test_a_private_assembly_without_its_code_is_not_found_by_the_service(assembly, facilitator):
    services.update_assembly(actor=facilitator, assembly=assembly, visibility="private")
    assembly.refresh_from_db()
    with pytest.raises(NotFound):
        services.join(user=make_user("x"), assembly=assembly, display_name="X")
