"""The links in an email: one-click unsubscribe and one-tap answers, without logging in."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import tokens
from notifications.models import Level, Preference
from proposals import services
from proposals.models import Position

pytestmark = pytest.mark.django_db


def unsubscribe_url(member) -> str:
    return f"/unsubscribe/{tokens.unsubscribe_token(member.pk)}/"


def level(member) -> str:
    found = Preference.objects.filter(membership=member).first()
    return found.level if found else Level.ALL


def test_the_unsubscribe_link_asks_first_on_a_get(client, participant):
    response = client.get(unsubscribe_url(participant))
    assert response.status_code == 200
    assert b"Stop every email from Liberty Square General Assembly to Pat?" in response.content
    assert level(participant) == Level.ALL


def test_one_click_unsubscribes_without_login_and_only_that_member(
    client, participant, facilitator
):
    response = client.post(
        unsubscribe_url(participant),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert level(participant) == Level.NONE
    assert level(facilitator) == Level.ALL


def test_the_unsubscribe_post_needs_no_csrf_token(participant):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(unsubscribe_url(participant))
    assert response.status_code == 200
    assert level(participant) == Level.NONE


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        # A valid token's payload with another member's id and the old signature.
        "swap",
        # An answer link's token (another salt) is no unsubscribe token.
        "respond",
    ],
)
def test_a_tampered_unsubscribe_token_is_refused_and_changes_nothing(
    client, participant, facilitator, token
):
    if token == "swap":
        good = tokens.unsubscribe_token(participant.pk)
        forged = tokens.unsubscribe_token(facilitator.pk)
        token = forged.split(":", 1)[0] + ":" + good.split(":", 1)[1]
    elif token == "respond":
        token = tokens.respond_token(facilitator.pk, 1)
    response = client.post(f"/unsubscribe/{token}/")
    assert response.status_code == 404
    assert level(participant) == Level.ALL and level(facilitator) == Level.ALL


@pytest.fixture
def online_call(participant, facilitator):
    return services.submit_proposal(
        actor=participant,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(days=2),
    )


def respond_url(member, proposal, kind):
    token = tokens.respond_token(member.pk, proposal.pk)
    return f"/a/liberty-square/p/{proposal.pk}/respond/{kind}/?t={token}", token


def test_a_one_tap_link_lands_on_the_confirmation_and_a_get_never_acts(
    client, participant, online_call
):
    url, _token = respond_url(participant, online_call, "agree")
    response = client.get(url)
    assert response.status_code == 200
    assert b"Confirm: Agree" in response.content
    assert not Position.objects.filter(proposal=online_call).exists()


def test_confirming_records_the_position_without_login(client, participant, online_call):
    url, token = respond_url(participant, online_call, "stand_aside")
    response = client.post(url, {"t": token, "reason_stand_aside": "Away that week."})
    assert response.status_code == 200
    assert b"Your position is recorded." in response.content
    position = Position.objects.get(proposal=online_call, is_current=True)
    assert (position.member, position.kind, position.reason) == (
        participant,
        "stand_aside",
        "Away that week.",
    )


def test_a_block_is_explained_and_needs_its_reason(client, participant, online_call):
    url, token = respond_url(participant, online_call, "block")
    page = client.get(url)
    assert b"A block is not a vote against" in page.content
    response = client.post(url, {"t": token, "reason_block": ""})
    assert response.status_code == 400
    assert not Position.objects.filter(proposal=online_call).exists()


def test_a_link_for_another_proposal_or_tampered_is_refused(
    client, participant, facilitator, online_call, proposal
):
    url, token = respond_url(participant, proposal, "agree")
    wrong = f"/a/liberty-square/p/{online_call.pk}/respond/agree/?t={token}"
    assert client.post(wrong, {"t": token}).status_code == 404
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(url.split("?")[0], {"t": tampered}).status_code == 404
    assert not Position.objects.exists()


def test_a_link_opened_while_logged_in_as_someone_else_is_refused(
    client, participant, facilitator, online_call
):
    client.force_login(facilitator.user)
    url, token = respond_url(participant, online_call, "agree")
    assert client.post(url, {"t": token}).status_code == 403
    assert not Position.objects.exists()


def test_an_expired_link_is_refused(client, settings, participant, online_call):
    url, _token = respond_url(participant, online_call, "agree")
    settings.NOTIFY_LINK_DAYS = 0
    import time

    time.sleep(1.1)
    assert client.get(url).status_code == 404


def test_after_the_close_the_page_says_so(client, facilitator, participant, online_call):
    services.close_call(actor=facilitator, proposal=online_call)
    url, token = respond_url(participant, online_call, "agree")
    page = client.get(url)
    assert b"The call for consensus is not open" in page.content
    assert client.post(url, {"t": token}).status_code == 400


def test_a_second_tap_on_the_confirmation_records_once(client, participant, online_call):
    url, token = respond_url(participant, online_call, "agree")
    page = client.get(url).content.decode()
    request_id = re.search(r'name="request_id" value="([0-9a-f]+)"', page)[1]
    for _ in range(2):
        client.post(url, {"t": token, "request_id": request_id})
    assert Position.objects.filter(proposal=online_call).count() == 1


def test_a_members_calendar_key_opens_the_sitting_file(client, facilitator, participant):
    from notifications.selectors import preference_for
    from sittings import services as sitting_services

    meeting = sitting_services.schedule_meeting(
        actor=facilitator,
        assembly=facilitator.assembly,
        title="May sitting",
        scheduled_for=timezone.now() + timedelta(days=3),
    )
    key = preference_for(participant).calendar_key
    url = f"/a/liberty-square/sittings/{meeting.pk}/sitting.ics"
    assert client.get(url, {"key": key}).status_code == 200
    assert client.get(url, {"key": "wrong"}).status_code == 200  # public: the page's reader
    assert (
        client.get(f"/a/liberty-square/sittings/{meeting.pk + 99}/sitting.ics").status_code == 404
    )
