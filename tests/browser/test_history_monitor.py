"""The history monitor in Chromium: a member's browser keeps the newest signed tree head and
warns, with the evidence, when the server's history no longer extends it (issue 14, point 5).

Each attack of tests/fixtures/tampering.py is made after the page has stored the head; the
next visit shows the warning and the report reaches the assembly's public log.
"""

import json
import time
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from assemblies.models import LogEntry
from proposals import services as proposal_services
from tests.fixtures.tampering import TAMPERS, rehash_after_editing_first

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORE = "multitude.treeHead.liberty-square"
TIMEOUT = 10_000


def _decide(facilitator, participant, make_member, title):
    proposal = proposal_services.submit_proposal(actor=facilitator, title=title, text="t")
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")
    proposal_services.take_position(actor=make_member(), proposal=proposal, kind="agree")
    return proposal_services.close_call(actor=facilitator, proposal=proposal)


def _kept_size(page: Page):
    return page.evaluate(
        f"(JSON.parse(localStorage.getItem('{STORE}') || 'null') || {{}}).tree_size"
    )


def _wait_for_kept_size(page: Page, size: int):
    # Polled from here: wait_for_function evaluates strings, which the site's CSP forbids.
    deadline = time.monotonic() + TIMEOUT / 1000
    while _kept_size(page) != size:
        assert time.monotonic() < deadline, f"the browser kept size {_kept_size(page)}"
        page.wait_for_timeout(100)


@pytest.fixture
def three_decisions(assembly, facilitator, participant, make_member):
    return [
        _decide(facilitator, participant, make_member, title)
        for title in ("Buy a tarp", "Move camp", "Cook on Sundays")
    ]


REASONS = {
    "rewrite-last": "unsigned",
    "drop-last": "shortened",
    "append-forged": "unsigned",
    "rehash-after-editing-first": "gone",
    "truncate-everything": "gone",
}


@pytest.mark.parametrize("attack", list(TAMPERS))
def test_a_page_that_kept_the_head_warns_after_the_tamper(
    attack, phone, login_page, live_server, three_decisions, assembly, facilitator, participant
):
    page = login_page(phone, participant.user)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    last = three_decisions[-1]
    page.goto(f"{live_server.url}{last.proposal.get_absolute_url()}")
    _wait_for_kept_size(page, 3)
    warning = page.locator("[data-history-warning]")
    expect(warning).to_be_hidden()
    # The decision's page prints the head signed with it, and offers the member's receipt.
    expect(page.locator("[data-tree-head]")).to_contain_text("3 decisions")
    expect(page.get_by_role("link", name="Download your receipt")).to_be_visible()

    TAMPERS[attack](assembly, facilitator=facilitator, participant=participant)
    page.goto(f"{live_server.url}{assembly.get_absolute_url()}")

    expect(warning).to_be_visible(timeout=TIMEOUT)
    expect(warning.get_by_role("heading")).to_contain_text("record of decisions was altered")
    expect(warning.locator(f'[data-reason="{REASONS[attack]}"]')).to_be_visible()
    evidence_link = warning.get_by_role("link", name="Download the evidence (JSON)")
    href = evidence_link.get_attribute("href")
    assert href.startswith("data:application/json")
    with page.expect_download() as download:
        evidence_link.click()
    evidence = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert evidence["kept_head"]["tree_size"] == 3
    assert evidence["reason"] == REASONS[attack]
    # The kept head is not replaced by what the server shows now: the evidence stays.
    assert _kept_size(page) == 3
    expect(warning.locator("[data-history-reported]")).to_be_visible(timeout=TIMEOUT)
    assert LogEntry.objects.filter(
        assembly=assembly, action__startswith="proposals.history.", actor=participant
    ).exists()
    assert not errors


def test_an_untouched_history_and_a_new_decision_show_no_warning(
    phone, login_page, live_server, three_decisions, assembly, facilitator, participant, make_member
):
    page = login_page(phone, participant.user)
    page.goto(f"{live_server.url}{assembly.get_absolute_url()}")
    _wait_for_kept_size(page, 3)
    _decide(facilitator, participant, make_member, "Paint the banner")
    page.reload()
    _wait_for_kept_size(page, 4)  # the consistency proof 3 -> 4 held
    expect(page.locator("[data-history-warning]")).to_be_hidden()


@pytest.mark.slow
def test_a_live_update_with_a_new_head_is_checked_at_once(
    browser, start_server, three_decisions, assembly, facilitator, participant, make_member
):
    """The page stays open; the history is rehashed behind its back and a legitimate decision
    follows: its head arrives in a live snapshot, and the proof from the kept head fails."""
    server = start_server()
    client = Client()
    client.force_login(participant.user)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.set_default_timeout(TIMEOUT)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server["http"]}]
    )
    page = context.new_page()
    page.goto(f"{server['http']}{assembly.get_absolute_url()}")
    expect(page.locator("[data-live-status]").first).to_have_attribute("data-state", "live")
    _wait_for_kept_size(page, 3)
    rehash_after_editing_first(assembly)
    _decide(facilitator, participant, make_member, "Paint the banner")
    warning = page.locator("[data-history-warning]")
    expect(warning).to_be_visible(timeout=TIMEOUT)
    expect(warning.locator('[data-reason="rewritten"]')).to_be_visible()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    context.close()


def test_chromium_checks_the_heads_ed25519_signature(
    phone, login_page, live_server, three_decisions, assembly, participant
):
    """A head whose signature does not hold (changed on its way) is refused: the browser's
    WebCrypto verified the Ed25519 signature over the documented bytes."""
    page = login_page(phone, participant.user)

    def forge(route):
        head = route.fetch().json()
        head["timestamp"] = "2020-01-01T00:00:00.000000+00:00"
        route.fulfill(json=head)

    page.route("**/api/v1/assemblies/liberty-square/tree-head/", forge)
    page.goto(f"{live_server.url}{assembly.get_absolute_url()}")
    warning = page.locator("[data-history-warning]")
    expect(warning).to_be_visible(timeout=TIMEOUT)
    expect(warning.locator('[data-reason="signature"]')).to_be_visible()
    assert _kept_size(page) is None
