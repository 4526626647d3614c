"""Every link of a received email, followed in Chromium, lands where it says.

The email is sent through a real SMTP server (aiosmtpd) by the notification tasks; the
links point at a real uvicorn server; the browser has no session, as in a mail app.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import Level, Preference
from proposals import services
from proposals.models import Position

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://[^\s<>\"]+")


@pytest.fixture
def received(start_server, smtp_server, settings, facilitator, participant):
    server = start_server()
    settings.SITE_URL = server["http"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    proposal = services.submit_proposal(
        actor=facilitator,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(days=2),
    )
    [mail] = smtp_server.to("pat@example.org")
    return server, proposal, mail


def links(mail) -> list[str]:
    found = LINK.findall(mail.text)
    # The HTML part offers the same links (entities aside).
    assert sorted(set(found)) == sorted(
        {url.replace("&amp;", "&") for url in re.findall(r'href="([^"]+)"', mail.html)}
    )
    return found


def test_each_link_lands_where_it_says(browser, received, participant):
    server, proposal, mail = received
    urls = links(mail)
    assert all(url.startswith(server["http"]) for url in urls)
    by_kind = {}
    for url in urls:
        for kind in ("agree", "stand_aside", "block"):
            if f"/respond/{kind}/" in url:
                by_kind[kind] = url
    assert by_kind.keys() == {"agree", "stand_aside", "block"}
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(f"{server['http']}/a/liberty-square/")  # the assembly (the email's header)
    assert f"{server['http']}/a/liberty-square/" in urls
    expect(page.locator("h1")).to_have_text("Liberty Square General Assembly")

    page.goto(next(url for url in urls if url.endswith(f"/p/{proposal.pk}/")))
    expect(page.locator("h1")).to_contain_text("Share the bike trailer")

    page.goto(by_kind["block"])
    expect(page.locator("h1")).to_have_text("Confirm: Block")
    expect(page.locator("#confirm-text")).to_contain_text("A block is not a vote against")
    page.goto(by_kind["stand_aside"])
    expect(page.locator("h1")).to_have_text("Confirm: Stand aside")
    page.goto(by_kind["agree"])
    expect(page.locator("h1")).to_have_text("Confirm: Agree")
    assert not Position.objects.filter(proposal=proposal).exists()  # a GET never acts
    page.get_by_role("button", name="Confirm: Agree").click()
    expect(page.locator("#recorded")).to_contain_text("Share the bike trailer")
    position = Position.objects.get(proposal=proposal, is_current=True)
    assert (position.member_id, position.kind) == (participant.pk, "agree")

    settings_url = next(url for url in urls if url.endswith("/a/liberty-square/notifications/"))
    page.goto(settings_url)
    expect(page).to_have_url(re.compile(r"/login/\?next=/a/liberty-square/notifications/"))

    unsubscribe = next(url for url in urls if "/unsubscribe/" in url)
    assert mail.message["List-Unsubscribe"] == f"<{unsubscribe}>"
    page.goto(unsubscribe)
    expect(page.locator("h1")).to_have_text("Stop these emails")
    assert not Preference.objects.filter(level=Level.NONE).exists()
    page.get_by_role("button", name="Stop the emails").click()
    expect(page.locator("#unsubscribed")).to_contain_text("Liberty Square General Assembly")
    assert Preference.objects.get(membership=participant).level == Level.NONE
    context.close()


def test_the_mail_clients_one_click_post_unsubscribes(browser, received, participant):
    _server, _proposal, mail = received
    unsubscribe = mail.message["List-Unsubscribe"].strip("<>")
    context = browser.new_context()
    response = context.request.post(
        unsubscribe,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    assert Preference.objects.get(membership=participant).level == Level.NONE
    context.close()
