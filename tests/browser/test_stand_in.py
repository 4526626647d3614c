"""The stand-in, as people meet it: phones and the projector in Chromium, a real server.

Nobody facilitates: the phones say so and offer to stand in; Ana offers; every phone and
the projector show the question with the time left; Ben objects on his phone; Ana offers
again, nobody objects, and her phone shows that she facilitates. Windows are shortened.
"""

import re

import pytest
from playwright.sync_api import expect

from assemblies.models import Membership
from sittings import services as sitting_services
from tests.browser.test_live_sitting import live, logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_phones_and_the_projector_carry_the_stand_in_question(
    browser, start_server, assembly, facilitator, make_member
):
    server = start_server(
        FACILITATOR_AWAY_SECONDS="2", QUICK_CONSENT_SECONDS="4", FACILITATOR_PRESENCE_SECONDS="0.3"
    )
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    ana, ben = make_member("Ana"), make_member("Ben")
    url = f"{server['http']}{assembly.get_absolute_url()}"
    phones = {}
    for member in (ana, ben):
        phones[member.display_name] = page = logged_in_page(browser, server, member)
        page.goto(url)
        live(page)
    projector = browser.new_page(viewport={"width": 1280, "height": 720})
    projector.goto(f"{url}projector/?key={assembly.projector_key}")

    for page in phones.values():
        expect(page.get_by_text("No facilitator is connected")).to_be_visible(timeout=10_000)
    expect(projector.get_by_text("No facilitator is connected")).to_be_visible()

    phones["Ana"].get_by_role("button", name="Offer to stand in as facilitator").click()
    question = "Ana offers to facilitate this sitting until it ends"
    expect(phones["Ben"].get_by_text(question)).to_be_visible(timeout=5_000)
    expect(projector.get_by_text(question)).to_be_visible(timeout=5_000)
    expect(projector.get_by_role("button", name="I object")).to_have_count(0)
    phones["Ben"].get_by_role("button", name="I object").click()
    expect(phones["Ana"].get_by_text(question)).to_be_hidden(timeout=5_000)
    assert Membership.objects.get(pk=ana.pk).facilitates_sitting_id is None

    phones["Ana"].get_by_role("button", name="Offer to stand in as facilitator").click()
    expect(phones["Ben"].get_by_text(question)).to_be_visible(timeout=5_000)
    # The time left counts down on the phone, from what the server said.
    expect(phones["Ben"].locator("[data-seconds-left]")).to_have_text(re.compile(r"0:0[0-4]"))
    expect(phones["Ana"].locator(".facilitators")).to_contain_text("Ana", timeout=10_000)
    expect(projector.get_by_text(question)).to_be_hidden(timeout=5_000)
    assert Membership.objects.get(pk=ana.pk).facilitates_sitting_id == meeting.pk
    for page in (*phones.values(), projector):
        page.context.close()
