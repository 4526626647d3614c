"""CSRF is enforced on every form: a cross-site POST changes nothing, whoever is logged in."""

import pytest
from django.test import Client
from django.urls import reverse

from proposals import services
from sittings import console
from sittings import services as sitting_services
from tests.fixtures.state import db_state


@pytest.fixture
def forms(assembly, facilitator, participant, proposal):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    question = services.add_comment(actor=participant, proposal=proposal, kind="question", text="?")
    slug, pk = assembly.slug, proposal.pk
    urls = [
        reverse("logout"),
        reverse("signup"),
        reverse("account"),
        reverse("api_token_create"),
        reverse("api_token_revoke"),
        reverse("set_language"),
        reverse("assemblies:join"),
        reverse("assemblies:join_link", args=[slug]),
        reverse("assemblies:leave", args=[slug]),
        reverse("proposals:new", args=[slug]),
        reverse("proposals:position", args=[slug, pk]),
        reverse("proposals:comment", args=[slug, pk, "question"]),
        reverse("proposals:comment", args=[slug, pk, "concern"]),
        reverse("proposals:answer", args=[slug, pk, question.pk]),
        reverse("proposals:amend", args=[slug, pk]),
        reverse("proposals:resolve_amendment", args=[slug, pk, question.pk, "accept"]),
        reverse("proposals:reading", args=[slug, pk]),
        f"/api/v1/assemblies/{slug}/proposals/",
        f"/api/v1/proposals/{pk}/positions/",
        f"/api/v1/proposals/{pk}/call-for-consensus/",
    ]
    urls += [reverse("sittings:console_action", args=[slug, action]) for action in console.ACTIONS]
    return {"urls": urls, "meeting": meeting}


def test_every_form_refuses_a_post_without_the_csrf_token(facilitator, forms, proposal):
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator.user)
    data = {"kind": "agree", "text": "x", "title": "x", "phase": "questions",
            "meeting": forms["meeting"].pk, "proposal": proposal.pk, "language": "fr",
            "display_name": "x", "question-text": "x", "reading": "up"}  # fmt: skip
    before = db_state()
    for url in forms["urls"]:
        response = client.post(url, data)
        assert response.status_code == 403, url
    assert db_state() == before
