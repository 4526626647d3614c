"""A whole sitting in real browsers against a real uvicorn server: live across contexts."""

import signal
import time

import pytest
from django.test import Client
from playwright.sync_api import expect

from assemblies import services as assembly_services
from proposals.models import Decision, Position
from sittings import services as sitting_services

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def logged_in_page(browser, server, member, *, phone=True):
    """A browser context carrying a real session of `member` for the uvicorn server."""
    client = Client()
    client.force_login(member.user)
    size = {"width": 360, "height": 740} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server["http"]}]
    )
    return context.new_page()


def live(page):
    expect(page.locator("[data-live-status]").first).to_have_attribute("data-state", "live")


@pytest.fixture
def server(start_server):
    return start_server()


def test_a_position_in_one_browser_changes_the_tally_in_another_within_a_second(
    browser, server, assembly, participant, make_member, open_call
):
    watcher_member = make_member("Wren")
    actor = logged_in_page(browser, server, participant)
    watcher = logged_in_page(browser, server, watcher_member)
    for page in (actor, watcher):
        page.goto(f"{server['http']}{open_call.get_absolute_url()}")
        live(page)
    actor.get_by_label("Agree").check()
    actor.get_by_role("button", name="State my position").click()
    expect(actor.locator('[data-count="agree"]')).to_have_text("1")
    seen_at_commit = time.monotonic()
    expect(watcher.locator('[data-count="agree"]')).to_have_text("1", timeout=1000)
    assert time.monotonic() - seen_at_commit < 1.0
    assert watcher.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_facilitator_runs_a_proposal_from_presentation_to_decision(
    browser, server, assembly, facilitator, participant, make_member, proposal
):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Thursday GA"
    )
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    ana = make_member("Ana")
    console = logged_in_page(browser, server, facilitator, phone=False)
    console.goto(f"{server['http']}/a/{assembly.slug}/console/")
    live(console)
    pages = {}
    for name, member in (("pat", participant), ("ana", ana)):
        pages[name] = logged_in_page(browser, server, member)
        pages[name].goto(f"{server['http']}{proposal.get_absolute_url()}")
        live(pages[name])
    pat, ana_page = pages["pat"], pages["ana"]

    # The facilitator brings it to the floor and opens clarifying questions.
    console.get_by_role("button", name="Bring to the floor").click()
    console.get_by_role("button", name="Clarifying questions").click()
    expect(pat.locator("[data-phase]")).to_have_text("Clarifying questions")

    # Hands go up on the phones; the console's stack follows, the question jumps the queue.
    ana_page.get_by_role("button", name="Raise my hand to speak").click()
    pat.locator("[data-live-controls]").get_by_role("button", name="Clarifying question").click()
    stack = console.locator(".console-stack > li")
    expect(stack).to_have_count(2)
    expect(stack.first).to_contain_text("Pat")
    ana_page.get_by_label("Your text").first.fill("Which shop sells blue tarps?")
    ana_page.get_by_role("button", name="Ask a clarifying question").click()
    expect(ana_page.get_by_text("Which shop sells blue tarps?")).to_be_visible()

    # The stack keeper calls the next speaker: everyone sees who speaks.
    console.get_by_role("button", name="Call the next speaker").click()
    expect(ana_page.locator("[data-speaker]")).to_have_text("Pat")

    # Call for consensus: the position form appears on the phones without a reload.
    console.get_by_role("button", name="Call for consensus").click()
    expect(pat.get_by_role("button", name="State my position")).to_be_visible()
    pat.get_by_role("radio", name="Agree").check()
    pat.get_by_role("button", name="State my position").click()
    ana_page.get_by_role("radio", name="Stand aside").check()
    ana_page.get_by_label("Why you stand aside").fill("I will be away that week.")
    ana_page.get_by_role("button", name="State my position").click()
    expect(console.locator('[data-count="stand_aside"]')).to_have_text("1")
    expect(console.locator('[data-count="agree"]')).to_have_text("1")
    expect(console.locator("[data-provisional-outcome]")).to_have_text(
        "Consensus with stand-asides"
    )

    # Close: the console says what the rule gives now and asks; then everyone sees it.
    console.get_by_role("link", name="Close the call and record the decision").click()
    dialog = console.get_by_role("alertdialog")
    expect(dialog).to_contain_text("The rule decides now: Consensus with stand-asides")
    assert not Decision.objects.filter(proposal=proposal).exists()
    dialog.get_by_role("button", name="Yes, close and record").click()
    expect(pat.locator("[data-phase]")).to_have_text("Decided")
    expect(ana_page.locator("#decision-region")).to_contain_text("Consensus with stand-asides")
    decision = Decision.objects.get(proposal=proposal)
    assert decision.outcome == "consensus_with_stand_asides"
    assert decision.counts == {"agree": 1, "stand_aside": 1, "block": 0}
    assert Position.objects.get(member=ana, is_current=True).reason == "I will be away that week."
    log = console.locator("[data-log]")
    expect(log).to_contain_text("Fran closed the call for consensus")


def test_two_facilitators_consoles_stay_in_sync(
    browser, server, assembly, facilitator, make_member, proposal
):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=proposal)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    second = assembly_services.change_role(
        actor=facilitator, member=make_member("Sol"), role="facilitator"
    )
    consoles = []
    for member in (facilitator, second):
        page = logged_in_page(browser, server, member, phone=False)
        page.goto(f"{server['http']}/a/{assembly.slug}/console/")
        live(page)
        consoles.append(page)
    first, other = consoles
    first.get_by_role("button", name="Bring to the floor").click()
    expect(other.locator("#current-heading")).to_contain_text(proposal.title)
    first.get_by_role("button", name="Progressive stack: off").click()
    expect(other.get_by_role("button", name="Progressive stack: on")).to_be_visible()
    expect(other.locator("[data-log]")).to_contain_text("Fran turned the progressive stack on")


def test_a_page_notices_a_server_gone_silent_and_is_live_again_when_it_answers(
    browser, start_server, assembly, participant, open_call
):
    """SIGSTOP: the server's sockets stay open but nothing comes (a host hung, or cut off
    without a reset). Three silent heartbeats later the page says it is reconnecting,
    instead of showing a stale tally as live; once the server answers it is live again."""
    server = start_server(LIVE_HEARTBEAT_SECONDS="1")
    page = logged_in_page(browser, server, participant)
    snapshots = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda frame: snapshots.append(frame) if '"type":"snapshot"' in str(frame) else None,
        ),
    )
    page.goto(f"{server['http']}{open_call.get_absolute_url()}")
    live(page)
    deadline = time.monotonic() + 10
    while not snapshots and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert snapshots, "no first snapshot"
    status = page.locator("[data-live-status]").first
    server["process"].send_signal(signal.SIGSTOP)
    try:
        expect(status).to_have_attribute("data-state", "reconnecting", timeout=10_000)
    finally:
        server["process"].send_signal(signal.SIGCONT)
    expect(status).to_have_attribute("data-state", "live", timeout=15_000)
