"""Positions that survive a dead network, in Chromium with the network switched off and on.

The page was opened online (the service worker keeps it); the phone goes offline; the
member states her position: the page says "waiting for network" and nothing reaches the
server. Reloading offline shows the kept copy, marked as such, with the position still
waiting. Online again, it is sent once ("recorded"); sending it again changes nothing. If
the call closed meanwhile, she is told that it did not count. A request to speak made
offline goes when the socket returns.
"""

import pytest
from playwright.sync_api import expect

from assemblies.models import StackEntry
from proposals import services as proposal_services
from proposals.models import Position
from sittings import services as sitting_services
from tests.browser.test_live_sitting import live, logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(start_server):
    return start_server()


def _controlled(page):
    """The service worker is installed and serves this page (it claims it on activation)."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _open(browser, server, member, url, *, is_live=True):
    page = logged_in_page(browser, server, member)
    page.goto(url)
    _controlled(page)
    page.reload()  # now through the service worker, which keeps a copy
    if is_live:
        live(page)
    return page


def test_a_position_stated_offline_is_recorded_once_when_the_network_returns(
    browser, server, participant, open_call
):
    page = _open(browser, server, participant, f"{server['http']}{open_call.get_absolute_url()}")
    page.context.set_offline(True)
    page.get_by_label("Agree").check()
    page.get_by_role("button", name="State my position").click()
    outbox = page.locator("[data-outbox]")
    expect(outbox).to_contain_text("Waiting for network")
    assert not Position.objects.filter(member=participant).exists()

    page.reload()  # offline: the kept copy, saying so, with the position still waiting
    expect(page.locator("[data-offline-banner]")).to_contain_text("You are offline")
    expect(page.get_by_role("heading", level=1)).to_have_text(open_call.title)
    expect(outbox).to_contain_text("Waiting for network")

    page.context.set_offline(False)
    expect(outbox).to_contain_text("Recorded", timeout=15_000)
    positions = Position.objects.filter(member=participant)
    assert positions.count() == 1 and positions.get().kind == "agree"
    request_id = positions.get().request_id
    assert request_id

    # The same request again (a flaky network answered late): applied once.
    status = page.evaluate(
        """async ([proposal, requestId]) => {
            const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const response = await fetch(`/api/v1/proposals/${proposal}/positions/`, {
              method: "POST", credentials: "same-origin",
              headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
              body: JSON.stringify({kind: "agree", reason: "", request_id: requestId})});
            return response.status;
        }""",
        [open_call.pk, request_id],
    )
    assert status in (200, 201)
    assert Position.objects.filter(member=participant).count() == 1
    page.context.close()


def test_a_position_queued_while_the_call_closed_is_told_it_did_not_count(
    browser, server, participant, facilitator, open_call
):
    page = _open(browser, server, participant, f"{server['http']}{open_call.get_absolute_url()}")
    page.context.set_offline(True)
    page.locator("input[name=kind][value=stand_aside]").check()
    page.get_by_role("button", name="State my position").click()
    expect(page.locator("[data-outbox]")).to_contain_text("Waiting for network")
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    page.context.set_offline(False)
    expect(page.locator("[data-outbox]")).to_contain_text("Did not count", timeout=15_000)
    assert not Position.objects.filter(member=participant).exists()
    page.context.close()


def test_a_request_to_speak_made_offline_goes_when_the_socket_returns(
    browser, server, assembly, facilitator, participant
):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    page = _open(browser, server, participant, f"{server['http']}{assembly.get_absolute_url()}")
    page.context.set_offline(True)
    expect(page.locator("[data-live-status]").first).not_to_have_attribute(
        "data-state", "live", timeout=10_000
    )
    page.get_by_role("button", name="Raise my hand to speak").click()
    expect(page.locator("[data-outbox]")).to_contain_text("Waiting for network")
    assert not StackEntry.objects.filter(member=participant).exists()
    page.context.set_offline(False)
    live(page)
    expect(page.locator("[data-outbox]")).to_contain_text("Recorded", timeout=10_000)
    page.evaluate("document.activeElement.blur()")  # a part in use is not swapped under her
    expect(page.locator("[data-stack]")).to_contain_text("Pat", timeout=10_000)
    assert StackEntry.objects.filter(member=participant).count() == 1
    page.context.close()


def test_a_page_never_opened_says_it_is_offline(browser, server, participant, assembly):
    page = _open(browser, server, participant, f"{server['http']}{assembly.get_absolute_url()}")
    page.context.set_offline(True)
    page.goto(f"{server['http']}/a/{assembly.slug}/log/")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    page.context.close()


def test_the_app_is_installable(browser, server, participant, assembly):
    page = _open(browser, server, participant, f"{server['http']}/", is_live=False)
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.json())"
    )
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        status = page.evaluate("(src) => fetch(src).then((r) => r.status)", icon["src"])
        assert status == 200, icon
    page.context.close()
