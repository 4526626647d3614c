"""A whole sitting, run as people would run it, against a real uvicorn server.

A facilitator's console on a laptop, four phones (one in French, one without JavaScript),
a second tab of one member, the assembly page and the projector. Every check is made from
the outside, on what the pages show; nothing exists only for tests.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from playwright.sync_api import expect

from proposals import services as proposal_services
from proposals.models import Decision, Position
from sittings import services as sitting_services

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
BIG_SCREEN = {"width": 1920, "height": 1080}


@pytest.fixture
def server(start_server):
    return start_server()


class Browsers:
    """Contexts carrying real sessions for the uvicorn server."""

    def __init__(self, browser, server):
        self.browser, self.server = browser, server

    def page(self, member=None, *, viewport=PHONE, locale="en-US", javascript=True):
        context = self.browser.new_context(
            viewport=viewport, locale=locale, java_script_enabled=javascript
        )
        context.set_default_timeout(10_000)
        if member is not None:
            client = Client()
            client.force_login(member.user)
            cookie = client.cookies["sessionid"].value
            url = self.server["http"]
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": url}])
        return context.new_page()

    def url(self, path: str) -> str:
        return f"{self.server['http']}{path}"


def live(page):
    expect(page.locator("[data-live-status]").first).to_have_attribute("data-state", "live")


def fits(page) -> None:
    """No horizontal overflow at the page's own viewport."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


WCAG = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}


def checked(page, state: str) -> None:
    """The page as it is now: no horizontal overflow, no controls on top of each other, and
    no axe-core violation."""
    fits(page)
    overlaps = page.evaluate(OVERLAPPING_CONTROLS)
    assert not overlaps, f"{state}: overlapping controls {overlaps}"
    violations = Axe().run(page, options={**WCAG, "resultTypes": ["violations"]}).response
    found = [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations["violations"]]
    assert not found, f"{state}: axe violations {found}"


# Pairs of visible controls whose boxes intersect (by more than a pixel of rounding).
OVERLAPPING_CONTROLS = """() => {
  const controls = [...document.querySelectorAll("a, button, input, select, textarea, summary")]
    // checkVisibility: the content of a closed <details> is laid out but never shown.
    .filter((el) => el.checkVisibility({ visibilityProperty: true }) && el.type !== "hidden")
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.width > 0 && r.height > 0);
  const found = [];
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const [a, ra] = controls[i], [b, rb] = controls[j];
      const nested = (x, y) => x.contains(y) || Boolean(x.closest("label")?.contains(y));
      if (nested(a, b) || nested(b, a)) continue;
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 1 && y > 1) found.push([a.outerHTML.slice(0, 80), b.outerHTML.slice(0, 80)]);
    }
  }
  return found.slice(0, 5);
}"""


def on_screen(page, locator) -> None:
    """Visible without scrolling."""
    box = locator.bounding_box()
    assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"], box


@pytest.fixture
def sitting(assembly, facilitator, participant, make_member, proposal):
    """Two proposals on the agenda of a sitting in session; Pat wrote the first."""
    second = proposal_services.submit_proposal(
        actor=participant, title="Quiet hours in the sleeping area", text="From 11 pm to 7 am."
    )
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Thursday GA"
    )
    for item in (proposal, second):
        sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=item)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    members = {name: make_member(name) for name in ("Ana", "Bea", "Cai", "Dev")}
    return {"meeting": meeting, "first": proposal, "second": second, **members}


def test_a_whole_sitting_from_presentation_to_a_recorded_decision(
    browser, server, assembly, facilitator, participant, sitting
):
    b = Browsers(browser, server)
    first, second = sitting["first"], sitting["second"]
    console = b.page(facilitator, viewport=LAPTOP)
    console.goto(b.url(f"/a/{assembly.slug}/console/"))
    live(console)
    projector = b.page(viewport=BIG_SCREEN)
    projector.goto(b.url(f"/a/{assembly.slug}/projector/?key={assembly.projector_key}"))

    # The facilitator brings the first proposal to the floor; the assembly page follows.
    watcher = b.page(sitting["Dev"])
    watcher.goto(b.url(assembly.get_absolute_url()))
    live(watcher)
    console.get_by_role("button", name="Bring to the floor").first.click()
    expect(console.locator("#current-heading")).to_contain_text(first.title)
    expect(watcher.locator('[data-part="meeting"] li[aria-current="true"]')).to_contain_text(
        first.title
    )
    expect(watcher.locator(".floor-notice")).to_contain_text(first.title)
    expect(projector.locator(".projector-title")).to_have_text(first.title)

    ana = b.page(sitting["Ana"])
    ana_tab = b.page(sitting["Ana"])
    bea = b.page(sitting["Bea"], locale="fr-FR")
    cai = b.page(sitting["Cai"], javascript=False)
    for page in (ana, ana_tab, bea, cai):
        page.goto(b.url(first.get_absolute_url()))
    for page in (ana, ana_tab, bea):
        live(page)

    # One screen: the floor, its tally, the stack and its button, on a 1280x800 laptop.
    checked(console, "console")
    checked(ana, "phone on the floor")
    on_screen(console, console.get_by_role("button", name="Call the next speaker"))
    on_screen(console, console.locator("#current-heading"))

    # Hand signals and the stack reach the console live.
    ana.get_by_role("button", name=re.compile("Wrap it up")).click()
    expect(console.locator('[data-signal-count="wrap_up"]')).to_have_text("1", timeout=5000)
    ana.get_by_role("button", name="Raise my hand to speak").click()
    expect(console.locator(".console-stack")).to_contain_text("Ana")
    console.get_by_role("button", name="Call the next speaker").click()
    for page in (ana, bea, projector):
        expect(page.locator("[data-speaker]").first).to_have_text("Ana")

    # The speaker's timer runs on the console, and says when time is up.
    console.locator("#timer-seconds").fill("10")
    console.get_by_role("button", name="Restart the timer").click()
    timer = console.locator("[data-timer]")
    expect(timer).to_have_text(re.compile(r"0:0[5-9]|0:10"))
    expect(timer).to_have_text("0:00", timeout=15_000)
    expect(timer).to_have_class(re.compile("timer-up"))

    # Questions and revisions appear on every phone without a reload.
    console.get_by_role("button", name="Clarifying questions").click()
    expect(ana.locator("[data-phase]")).to_have_text("Clarifying questions")
    bea.locator("#id_question-text").fill("Quelle boutique ?")
    bea.get_by_role("button", name=re.compile("question")).click()
    expect(ana.locator('[data-part="questions"]')).to_contain_text("Quelle boutique ?")
    amendment = proposal_services.add_comment(
        actor=sitting["Ana"],
        proposal=first,
        kind="amendment",
        text="Green, not blue.",
        proposed_text="We buy a **green tarp** for the kitchen, at most $80.",
    )
    expect(ana.locator('[data-part="amendments"]')).to_contain_text("Green, not blue.")
    proposal_services.accept_amendment(actor=participant, amendment=amendment)
    expect(ana.locator('[data-part="header"]')).to_contain_text("revision 2")
    expect(ana.locator('[data-part="text"]')).to_contain_text("green tarp")

    # The call for consensus: the position form appears on the phones.
    console.get_by_role("button", name="Call for consensus").click()
    expect(ana.get_by_role("button", name="State my position")).to_be_visible()

    # A block with its reason, confirmed; the second tab shows it too.
    ana.locator("label.choice-block").click()
    ana.get_by_label("Your principled objection").fill("The tarp would block the fire exit.")
    ana.get_by_role("button", name="State my position").click()
    ana.locator(".confirm-block").get_by_role("button", name="Yes, I block").click()
    expect(ana.locator(".my-position")).to_contain_text("Block")
    expect(ana_tab.locator(".my-position")).to_contain_text("Block", timeout=5000)

    # Changing to agree never carries the block's reason over.
    ana.locator("label.choice-agree").click()
    expect(ana.get_by_label("A word of support")).to_have_value("")
    ana.get_by_role("button", name="Change my position").click()
    expect(ana_tab.locator(".my-position")).to_contain_text("Agree", timeout=5000)
    mine = Position.objects.get(member=sitting["Ana"], proposal=first, is_current=True)
    assert (mine.kind, mine.reason) == ("agree", "")

    # Without JavaScript: a stand-aside by plain form posts; reloading never re-posts or 405s.
    cai.reload()
    cai.locator("label.choice-stand_aside").click()
    cai.get_by_label("Why you stand aside").fill("I am away that week.")
    cai.get_by_role("button", name="State my position").click()
    expect(cai.locator(".my-position")).to_contain_text("Stand aside")
    assert cai.reload().status == 200
    assert Position.objects.filter(member=sitting["Cai"], proposal=first).count() == 1

    # The console's tally and what the rule would decide, live; closing asks first.
    expect(console.locator('[data-count="agree"]')).to_have_text("1")
    expect(console.locator('[data-count="stand_aside"]')).to_have_text("1")
    console.get_by_role("link", name=re.compile("Close the call")).click()
    dialog = console.get_by_role("alertdialog")
    expect(dialog).to_contain_text("1 agree, 1 stand aside, 0 block")
    checked(console, "console asking to close")
    dialog.get_by_role("button", name=re.compile("Yes, close and record")).click()
    expect(console.locator(".messages")).to_contain_text("Recorded:")
    decision = Decision.objects.get(proposal=first)
    assert decision.counts == {"agree": 1, "stand_aside": 1, "block": 0}

    # The projector shows the outcome, large, and fits the screen.
    outcome = projector.locator(".projector-outcome")
    expect(outcome).to_contain_text(decision.get_outcome_display())
    expect(outcome).to_contain_text("1 agree, 1 stand aside, 0 block")
    assert projector.evaluate("document.documentElement.scrollHeight") <= 1080
    checked(projector, "projector with the outcome")

    # The floor moves on: every phone says so and offers the new proposal in one tap.
    console.get_by_role("button", name="Bring to the floor").first.click()
    for page in (ana, bea):
        expect(page.locator(".floor-notice")).to_contain_text(second.title)
    checked(bea, "French phone told the floor moved")
    expect(projector.locator(".projector-title")).to_have_text(second.title)
    ana.locator(".floor-notice").get_by_role("link").click()
    expect(ana.get_by_role("heading", level=1)).to_have_text(second.title)

    # Everything the French phone saw was in French.
    expect(bea.locator("html")).to_have_attribute("lang", "fr")
    for page in (ana, bea, cai, watcher):
        fits(page)


def test_the_projector_fits_long_reasons_on_every_screen(
    browser, server, assembly, facilitator, sitting
):
    first = sitting["first"]
    sitting_services.set_current_proposal(
        actor=facilitator, meeting=sitting["meeting"], proposal=first
    )
    proposal_services.call_for_consensus(actor=facilitator, proposal=first)
    for name in ("Ana", "Bea", "Cai", "Dev"):
        proposal_services.take_position(
            actor=sitting[name],
            proposal=first,
            kind="stand_aside",
            reason=("A very long reason without end " * 40) + "Supercalifragilistic" * 20,
        )
    b = Browsers(browser, server)
    for viewport in ({"width": 1280, "height": 720}, BIG_SCREEN):
        projector = b.page(viewport=viewport)
        projector.goto(b.url(f"/a/{assembly.slug}/projector/?key={assembly.projector_key}"))
        expect(projector.locator(".projector-more")).to_contain_text("and 1 more")
        size = projector.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        assert size[0] <= viewport["width"] and size[1] <= viewport["height"], size
        projector.context.close()
