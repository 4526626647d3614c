"""The admin: every model is managed there, and the records of decisions are view-only."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from assemblies.models import (
    AgendaItem,
    Assembly,
    LogEntry,
    Meeting,
    Membership,
    StackEntry,
    StackKind,
)
from proposals import services as proposal_services
from proposals.models import (
    Comment,
    CommentKind,
    Decision,
    Phase,
    Position,
    PositionKind,
    Proposal,
    Reading,
    Revision,
    TemperatureCheck,
    TemperatureReading,
)
from sittings import services as sitting_services

ALL_MODELS = [
    Assembly,
    Membership,
    Meeting,
    AgendaItem,
    StackEntry,
    LogEntry,
    Proposal,
    Revision,
    Position,
    Comment,
    TemperatureCheck,
    TemperatureReading,
    Decision,
]
READ_ONLY_MODELS = [Decision, Position, LogEntry]
EDITABLE_MODELS = [model for model in ALL_MODELS if model not in READ_ONLY_MODELS]


@pytest.fixture(autouse=True)
def _plain_settings(settings):
    # The admin renders {% static %}: without collectstatic there is no manifest to read.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser_client(db):
    User.objects.create_superuser(
        username="root", email="root@example.org", password="root-password"
    )
    client = Client()
    assert client.login(username="root", password="root-password")
    return client


@pytest.fixture
def rows(assembly, facilitator, participant, observer):
    """One row of every model, built through the services (a stack entry has none yet)."""
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Thursday sitting", location="The square"
    )
    meeting = sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    proposal = proposal_services.submit_proposal(
        actor=participant,
        title="Buy a second tarp for the kitchen",
        text="We buy a **blue tarp** for the kitchen.",
        meeting=meeting,
    )
    proposal = proposal_services.set_phase(
        actor=facilitator, proposal=proposal, phase=Phase.QUESTIONS
    )
    proposal_services.add_comment(
        actor=facilitator, proposal=proposal, kind=CommentKind.QUESTION, text="How much?"
    )
    amendment = proposal_services.add_comment(
        actor=facilitator,
        proposal=proposal,
        kind=CommentKind.AMENDMENT,
        text="Say the price.",
        proposed_text="We buy a **blue tarp** for the kitchen, at most $80.",
    )
    proposal_services.accept_amendment(actor=participant, amendment=amendment)
    proposal_services.open_temperature_check(actor=facilitator, proposal=proposal)
    proposal_services.give_reading(actor=participant, proposal=proposal, reading=Reading.UP)
    proposal = proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    proposal_services.take_position(actor=participant, proposal=proposal, kind=PositionKind.AGREE)
    proposal_services.take_position(
        actor=facilitator,
        proposal=proposal,
        kind=PositionKind.STAND_ASIDE,
        reason="I'd patch the old one.",
    )
    proposal_services.close_call(actor=facilitator, proposal=proposal)
    # No service writes the stack yet: this is the one row made directly.
    StackEntry.objects.create(meeting=meeting, member=participant, kind=StackKind.SPEAK)
    return {model: model.objects.order_by("pk").first() for model in ALL_MODELS}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _snapshot(obj) -> dict:
    return model_to_dict(type(obj).objects.get(pk=obj.pk))


def test_it_registers_every_model():
    for model in ALL_MODELS:
        assert admin.site.is_registered(model), model
    assert admin.site.site_header == "Multitude administration"


def test_it_shows_the_site_header(superuser_client):
    response = superuser_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Multitude administration" in response.text


def test_it_answers_every_changelist(superuser_client, rows):
    for model in ALL_MODELS:
        response = superuser_client.get(_url(model, "changelist"))
        assert response.status_code == 200, model
        assert response.context["cl"].result_count >= 1, model


def test_it_answers_every_changelist_with_filters_and_search(superuser_client, rows):
    for model in ALL_MODELS:
        response = superuser_client.get(_url(model, "changelist"), {"q": "tarp"})
        assert response.status_code == 200, model


def test_it_answers_every_change_page(superuser_client, rows):
    for model in ALL_MODELS:
        obj = rows[model]
        assert obj is not None, model
        response = superuser_client.get(_url(model, "change", obj.pk))
        assert response.status_code == 200, model


def test_it_answers_the_add_page_of_editable_models(superuser_client, rows):
    for model in EDITABLE_MODELS:
        response = superuser_client.get(_url(model, "add"))
        assert response.status_code == 200, model


def test_it_answers_autocomplete_for_the_admin_widgets(superuser_client, rows):
    response = superuser_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "assemblies",
            "model_name": "agendaitem",
            "field_name": "proposal",
            "term": "tarp",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"]


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_it_shows_records_without_a_save_button(superuser_client, rows, model):
    response = superuser_client.get(_url(model, "change", rows[model].pk))
    assert response.status_code == 200
    for button in ('name="_save"', 'name="_continue"', 'name="_addanother"'):
        assert button not in response.text
    assert _url(model, "delete", rows[model].pk) not in response.text


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_it_refuses_to_change_records(superuser_client, rows, model):
    obj = rows[model]
    before = _snapshot(obj)
    changed = {
        Decision: {"outcome": "blocked", "agree_count": "99", "digest": "0" * 64},
        Position: {"kind": "block", "reason": "Rewritten history", "is_current": "on"},
        LogEntry: {"action": "forged.action", "data": "{}"},
    }[model]
    form = {key: "" if value is None else str(value) for key, value in before.items()}
    response = superuser_client.post(_url(model, "change", obj.pk), {**form, **changed})
    assert response.status_code == 403
    assert _snapshot(obj) == before


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_it_refuses_to_delete_records(superuser_client, rows, model):
    obj = rows[model]
    url = _url(model, "delete", obj.pk)
    assert superuser_client.get(url).status_code == 403
    assert superuser_client.post(url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_it_refuses_to_add_records(superuser_client, rows, model):
    count = model.objects.count()
    assert superuser_client.get(_url(model, "add")).status_code == 403
    assert superuser_client.post(_url(model, "add"), {}).status_code == 403
    assert model.objects.count() == count


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_it_offers_no_bulk_delete(superuser_client, rows, model):
    obj = rows[model]
    url = _url(model, "changelist")
    response = superuser_client.get(url)
    assert "delete_selected" not in response.text
    superuser_client.post(
        url, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_it_lets_staff_with_the_view_permission_read_records(rows, model):
    user = User.objects.create_user(username="clerk", password="clerk-password", is_staff=True)
    codename = f"view_{model._meta.model_name}"
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=model._meta.app_label, codename=codename)
    )
    client = Client()
    client.force_login(user)
    assert client.get(_url(model, "changelist")).status_code == 200
    assert client.get(_url(model, "change", rows[model].pk)).status_code == 200


def test_it_keeps_editable_models_editable(superuser_client, rows):
    assembly = rows[Assembly]
    response = superuser_client.get(_url(Assembly, "change", assembly.pk))
    assert 'name="_save"' in response.text
    # An assembly is never deleted in the admin (its public log would go with it);
    # other editable rows still are, each with a public line (test_public_staff_changes).
    assert "delete_selected" not in superuser_client.get(_url(Assembly, "changelist")).text
    assert "delete_selected" in superuser_client.get(_url(Comment, "changelist")).text
