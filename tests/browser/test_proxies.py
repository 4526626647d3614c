"""Proxies, as people meet them: phones in Chromium against a real uvicorn server.

Ana gives her proxy for a proposal to Ben from the proxies page; the call opens; Ben states
"stand aside" for her from the box on the proposal page; Ana's phone says Ben stated it for
her; a passer-by sees "Ben for Ana" among the stand-asides. Then Ana speaks for herself:
Ben's box says her proxy no longer applies, and his second try, from the page he still had
open, is refused with the reason and changes nothing.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from proposals import services as proposal_services
from proposals.models import Position, Proxy
from tests.browser.test_accessibility import axe_report, dangling_aria_references, scan
from tests.browser.test_live_sitting import live, logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def fits_and_passes_axe(page: Page, name: str) -> None:
    """No sideways scrolling (WCAG 1.4.10 Reflow) and no axe-core WCAG A/AA violation."""
    sizes = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"{name} scrolls sideways: {sizes[0]}px in {sizes[1]}px"
    results = scan(page)
    assert not results["violations"], f"axe violations on {name}:\n" + axe_report(results)
    assert not dangling_aria_references(page), dangling_aria_references(page)


def test_ana_gives_her_proxy_ben_stands_aside_for_her_and_her_own_position_overrides_it(
    browser, start_server, assembly, facilitator, proposal, make_member
):
    server = start_server()
    ana, ben = make_member("Ana"), make_member("Ben")
    proposal_url = f"{server['http']}{proposal.get_absolute_url()}"

    # Ana finds the proxies page from her assembly's page and gives her proxy to Ben.
    ana_page = logged_in_page(browser, server, ana)
    assert ana_page.viewport_size == {"width": 360, "height": 740}
    ana_page.goto(f"{server['http']}{assembly.get_absolute_url()}")
    ana_page.get_by_role("link", name=re.compile(r"^Proxies")).click()
    expect(ana_page).to_have_url(re.compile(rf"/a/{assembly.slug}/proxies/$"))
    expect(ana_page.get_by_role("heading", level=1)).to_have_text("Proxies")
    fits_and_passes_axe(ana_page, "proxies-empty")
    give = ana_page.get_by_role("region", name="Give your proxy")
    give.get_by_label("For which sitting or proposal").select_option(label=proposal.title)
    give.get_by_label("Who carries it").select_option(label="Ben")
    give.get_by_role("radio", name="Use your judgement").check()
    give.get_by_role("button", name="Give my proxy").click()
    expect(ana_page.locator(".messages")).to_contain_text("Your proxy is given.")
    given = ana_page.get_by_role("region", name="Proxies you gave")
    expect(given).to_contain_text("Carried by Ben")
    expect(given.get_by_role("link", name=proposal.title)).to_be_visible()
    expect(given).to_contain_text("Use your judgement")
    everyone = ana_page.get_by_role("table")
    expect(everyone.locator("tbody tr")).to_have_count(1)
    expect(everyone.locator("tbody tr")).to_contain_text("Ana")
    expect(everyone.locator("tbody tr")).to_contain_text("Ben")
    expect(everyone.locator("tbody tr")).to_contain_text("Use your judgement")
    fits_and_passes_axe(ana_page, "proxies-given")
    proxy = Proxy.objects.get()
    assert (proxy.giver, proxy.holder, proxy.proposal, proxy.mandate) == (
        ana,
        ben,
        proposal,
        "judgement",
    )

    # The facilitator opens the call; Ben's box on the proposal page offers what he may state.
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    ben_page = logged_in_page(browser, server, ben)
    ben_page.goto(proposal_url)
    live(ben_page)
    box = ben_page.get_by_role("region", name="Proxies you carry")
    expect(box).to_contain_text("Ana gave you their proxy. Mandate: Use your judgement")
    expect(box.get_by_role("radio")).to_have_count(2)  # judgement without blocking
    expect(box.get_by_role("radio", name="Block")).to_have_count(0)
    fits_and_passes_axe(ben_page, "proposal-carrying")
    box.get_by_role("radio", name="Stand aside").check()
    box.get_by_label("Reason").fill("Ana told me the fund is low.")
    box.get_by_role("button", name="Record it for Ana").click()
    expect(ben_page.locator(".messages")).to_contain_text("Recorded: Ben for Ana.")
    box = ben_page.get_by_role("region", name="Proxies you carry")
    expect(box).to_contain_text("You stated Stand aside for Ana.")
    expect(box).to_contain_text("Ana told me the fund is low.")
    expect(box.get_by_role("radio", name="Stand aside")).to_be_checked()
    fits_and_passes_axe(ben_page, "proposal-carried")
    stated = Position.objects.get(member=ana, is_current=True)
    assert (stated.kind, stated.stated_by, stated.reason) == (
        "stand_aside",
        ben,
        "Ana told me the fund is low.",
    )

    # Ana's phone says who stated it for her; anyone sees "Ben for Ana" among the stand-asides.
    ana_page.goto(proposal_url)
    expect(ana_page.locator(".my-position")).to_contain_text("Your position: Stand aside")
    expect(ana_page.get_by_text("Ben stated it for you")).to_be_visible()
    fits_and_passes_axe(ana_page, "proposal-stated-for-me")
    passer_by = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    passer_by.goto(proposal_url)
    aside = passer_by.locator('[data-dissent="stand_aside"] li')
    expect(aside).to_have_count(1)
    expect(aside).to_contain_text("Ben for Ana")
    expect(aside).to_contain_text("Ana told me the fund is low.")

    # Ana states her own position; it overrides the proxy, and Ben's box says so.
    ana_page.get_by_role("radio", name="Agree").check()
    ana_page.get_by_role("button", name="Change my position").click()
    expect(ana_page.locator(".messages")).to_contain_text("Your position is recorded")
    expect(ana_page.locator(".my-position")).to_contain_text("Your position: Agree")
    expect(ana_page.get_by_text("Ben stated it for you")).to_have_count(0)

    # Ben still has the page from before open and tries again: refused, with the reason.
    ben_page.get_by_role("region", name="Proxies you carry").get_by_role(
        "radio", name="Agree"
    ).check()
    ben_page.get_by_role("button", name="Change it for Ana").click()
    expect(ben_page.locator(".messages")).to_contain_text(
        "Ana stated their own position: it stands, and their proxy no longer applies."
    )
    box = ben_page.get_by_role("region", name="Proxies you carry")
    expect(box).to_contain_text("proxy no longer applies")
    expect(box.get_by_role("radio")).to_have_count(0)
    fits_and_passes_axe(ben_page, "proposal-giver-spoke")
    current = Position.objects.get(member=ana, is_current=True)
    assert (current.kind, current.stated_by) == ("agree", None)
    assert Position.objects.filter(member=ana, stated_by=ben).count() == 1
    passer_by.reload()
    expect(passer_by.locator('[data-dissent="stand_aside"] li')).to_have_count(0)
    expect(passer_by.get_by_text("Ben for Ana")).to_have_count(0)

    for page in (ana_page, ben_page, passer_by):
        page.context.close()
