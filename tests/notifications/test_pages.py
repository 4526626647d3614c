"""The preferences page, the webhooks page and the API, for every permission level."""

import pytest

from assemblies.models import LogEntry
from notifications import services
from notifications.models import Level, Preference, Recipient, Webhook

pytestmark = pytest.mark.django_db


def test_the_preferences_page_saves_the_choice_and_language(client, participant):
    client.force_login(participant.user)
    page = client.get("/a/liberty-square/notifications/")
    assert page.status_code == 200
    assert b"A daily digest" in page.content and b"calendar/" in page.content
    response = client.post(
        "/a/liberty-square/notifications/", {"level": "digest", "language": "fr"}
    )
    assert response.status_code == 302
    assert Preference.objects.get(membership=participant).level == Level.DIGEST
    assert Recipient.objects.get(user=participant.user).language == "fr"
    # A personal choice is not a public act.
    assert not LogEntry.objects.filter(action__startswith="notifications.").exists()


def test_bad_input_is_refused_and_changes_nothing(client, participant):
    client.force_login(participant.user)
    response = client.post(
        "/a/liberty-square/notifications/", {"level": "hourly", "language": "de"}
    )
    assert response.status_code == 400
    assert b"field-error" in response.content
    assert not Preference.objects.filter(level="hourly").exists()
    assert not Recipient.objects.filter(language="de").exists()


def test_a_guest_without_an_email_is_told_to_add_one(client, guest):
    client.force_login(guest.user)
    page = client.get("/a/liberty-square/notifications/")
    assert b'id="no-email"' in page.content and b'href="/account/"' in page.content


def test_the_page_is_reached_from_the_assembly_and_the_account(client, participant):
    client.force_login(participant.user)
    assert b"/a/liberty-square/notifications/" in client.get("/a/liberty-square/").content
    assert b"/a/liberty-square/notifications/" in client.get("/account/").content


def test_outsiders_and_anonymous_people_get_no_preferences(client, outsider, assembly):
    assert client.get("/a/liberty-square/notifications/").status_code == 302  # to log in
    client.force_login(outsider.user)
    assert client.get("/a/liberty-square/notifications/").status_code == 403


# --- webhooks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,code",
    [
        ("ftp://example.org/hook", "url_scheme"),
        ("javascript:alert(1)", "url_scheme"),
        ("file:///etc/passwd", "url_scheme"),
        ("https://", "url_invalid"),
        ("https://bot.example.org/a b", "url_invalid"),
        ("https://user:pw@bot.example.org/", "url_credentials"),
        ("https://bot.example.org:99999/", "url_invalid"),
        ("", "url_required"),
    ],
)
def test_a_webhook_url_must_be_http_or_https(facilitator, url, code):
    from core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        services.add_webhook(actor=facilitator, assembly=facilitator.assembly, url=url)
    assert refused.value.code == code
    assert not Webhook.objects.exists()


def test_adding_and_removing_a_webhook_is_logged(client, facilitator):
    client.force_login(facilitator.user)
    response = client.post(
        "/a/liberty-square/webhooks/", {"url": "https://chat.example.org/hooks/abc"}
    )
    assert response.status_code == 200
    webhook = Webhook.objects.get()
    assert webhook.secret.encode() in response.content  # shown once, to copy
    response = client.post(f"/a/liberty-square/webhooks/{webhook.pk}/remove/")
    assert response.status_code == 302
    assert not Webhook.objects.exists()
    assert list(
        LogEntry.objects.filter(action__startswith="notifications.")
        .values_list("action", "data__host", "actor")
        .order_by("id")
    ) == [
        ("notifications.webhook.added", "chat.example.org", facilitator.pk),
        ("notifications.webhook.removed", "chat.example.org", facilitator.pk),
    ]
    log = client.get("/a/liberty-square/log/")
    assert b"added a chat webhook to chat.example.org" in log.content


def test_the_webhook_page_refuses_a_bad_url_with_a_field_error(client, facilitator):
    client.force_login(facilitator.user)
    response = client.post("/a/liberty-square/webhooks/", {"url": "gopher://x.org/"})
    assert response.status_code == 400
    assert b"Only http:// and https:// URLs" in response.content
    assert not Webhook.objects.exists()


def test_only_facilitators_manage_webhooks(client, participant, observer, outsider, facilitator):
    webhook = services.add_webhook(
        actor=facilitator, assembly=facilitator.assembly, url="https://chat.example.org/"
    )
    for member in (participant, observer):
        client.force_login(member.user)
        assert client.get("/a/liberty-square/webhooks/").status_code == 403
        assert client.post(f"/a/liberty-square/webhooks/{webhook.pk}/remove/").status_code == 403
    client.force_login(outsider.user)
    assert client.post(f"/a/other/webhooks/{webhook.pk}/remove/").status_code == 404
    assert Webhook.objects.filter(pk=webhook.pk).exists()


# --- the API -------------------------------------------------------------------------------


def test_the_api_reads_and_changes_preferences(client, participant):
    client.force_login(participant.user)
    url = "/api/v1/assemblies/liberty-square/notifications/"
    body = client.get(url).json()
    assert body["level"] == "all" and body["has_email"] is True
    assert "/a/liberty-square/calendar/" in body["calendar_url"]
    changed = client.patch(
        url, {"level": "calls", "language": "es"}, content_type="application/json"
    )
    assert changed.status_code == 200
    assert changed.json()["level"] == "calls" and changed.json()["language"] == "es"


def test_the_api_refuses_bad_input_with_code_and_message(client, participant):
    client.force_login(participant.user)
    url = "/api/v1/assemblies/liberty-square/notifications/"
    response = client.patch(url, {"level": "hourly"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "level" in response.json()["fields"]
    assert client.get(url).json()["level"] == "all"


def test_the_api_answers_outsiders_and_anonymous_people(client, outsider, assembly):
    url = "/api/v1/assemblies/liberty-square/notifications/"
    assert client.get(url).status_code == 401
    client.force_login(outsider.user)
    assert client.get(url).json()["code"] == "not_a_member"
    assert client.get("/api/v1/assemblies/other/notifications/").status_code == 200


def test_the_api_schema_documents_it(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/assemblies/{slug}/notifications/"]
    assert {"get", "patch"} <= operations.keys()


# --- moving a sitting (the event "sitting moved") -------------------------------------------


def test_a_facilitator_moves_a_sitting_from_the_console_and_the_api(client, assembly, facilitator):
    from datetime import timedelta

    from django.utils import timezone

    from assemblies.models import Meeting
    from sittings import services as sitting_services

    meeting = sitting_services.schedule_meeting(
        actor=facilitator,
        assembly=assembly,
        title="May sitting",
        scheduled_for=timezone.now() + timedelta(days=3),
    )
    client.force_login(facilitator.user)
    console = client.get("/a/liberty-square/console/")
    assert f'id="move-{meeting.pk}"'.encode() in console.content
    response = client.post(
        "/a/liberty-square/console/reschedule/",
        {"meeting": meeting.pk, "scheduled_for": "2030-05-01T18:30"},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.scheduled_for.year, meeting.scheduled_for.hour) == (2030, 18)
    assert LogEntry.objects.filter(action="assemblies.meeting.moved").count() == 1
    moved = client.post(
        f"/api/v1/meetings/{meeting.pk}/reschedule/",
        {"scheduled_for": "2031-01-02T10:00:00Z"},
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert moved.json()["scheduled_for"].startswith("2031-01-02T10:00:00")
    refused = client.post(
        f"/api/v1/meetings/{meeting.pk}/reschedule/",
        {"scheduled_for": "1850-01-01T10:00:00Z"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["code"] == "scheduled_for_invalid"
    assert Meeting.objects.get(pk=meeting.pk).scheduled_for.year == 2031


def test_a_participant_cannot_move_a_sitting(client, assembly, facilitator, participant):
    from sittings import services as sitting_services

    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="May sitting"
    )
    client.force_login(participant.user)
    response = client.post(
        f"/api/v1/meetings/{meeting.pk}/reschedule/",
        {"scheduled_for": "2031-01-02T10:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_the_emails_follow_the_language_read_at_login_until_one_is_chosen(client, participant):
    from django.conf import settings as django_settings

    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "es"
    client.post("/login/", {"username": "pat", "password": "correct horse battery staple"})
    assert Recipient.objects.get(user=participant.user).language == "es"
    services.set_preference(actor=participant, language="fr")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post("/login/", {"username": "pat", "password": "correct horse battery staple"})
    assert Recipient.objects.get(user=participant.user).language == "fr"
