"""A newcomer on a phone joins by code, reads, asks, takes and changes a position, tries a
block without a reason. Once with JavaScript (htmx boosts every form), once without."""

import re

import pytest
from playwright.sync_api import Page, expect

from assemblies.models import Membership
from proposals.models import Position

pytestmark = pytest.mark.browser

TIMEOUT = 5_000
PHONE_WIDTH = 360
MIN_TARGET = 44
# A tally count reads "1 agree" or "Agree 1" depending on the wording: match the number alone.
ONE = re.compile(r"(?<!\d)1(?!\d)")
ZERO = re.compile(r"(?<!\d)0(?!\d)")


def assert_fits_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways: scrollWidth {width}px"


def assert_touch_targets(page: Page) -> None:
    """Every visible button, button-styled link and position choice is at least 44 px tall."""
    targets = page.locator("button, a.button, label.choice, input[type=submit]")
    small = []
    for index in range(targets.count()):
        target = targets.nth(index)
        if not target.is_visible():
            continue
        box = target.bounding_box()
        if box is not None and box["height"] < MIN_TARGET:
            small.append(f"{target.evaluate('e => e.outerHTML.slice(0, 120)')}: {box['height']}px")
    assert not small, "touch targets under 44 px tall:\n" + "\n".join(small)


def assert_same_document(page: Page, js: bool) -> None:
    """With JavaScript, htmx swapped the page in place: the marker set at the start survives."""
    if js:
        assert page.evaluate("window.__marker") == 1, "a full page load happened: not boosted"


def history_of(member: Membership, proposal) -> list[tuple[str, bool]]:
    positions = Position.objects.filter(member=member, proposal=proposal).order_by("id")
    return list(positions.values_list("kind", "is_current"))


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_newcomer_joins_discusses_and_takes_a_position(request, live_server, open_call, js):
    page: Page = request.getfixturevalue("phone" if js else "no_js_phone")
    proposal = open_call
    assembly = proposal.assembly

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Join by code, no account.
    page.goto(f"{live_server.url}/join/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Join an assembly")
    assert_fits_phone(page)
    assert_touch_targets(page)
    if js:
        page.wait_for_function("window.htmx !== undefined", timeout=TIMEOUT)
        page.evaluate("window.__marker = 1")
    else:
        assert page.evaluate("typeof window.htmx") == "undefined", "JavaScript ran"
    page.get_by_label("Join code").fill(assembly.join_code)
    page.get_by_label("Your name, as others will see it").fill("Noa")
    page.locator("main").get_by_role("button", name="Join").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(assembly.name, timeout=TIMEOUT)
    expect(page.locator(".messages")).to_contain_text(f"Welcome to {assembly.name}")
    assert_same_document(page, js)
    assert_fits_phone(page)
    assert_touch_targets(page)
    member = Membership.objects.get(assembly=assembly, display_name="Noa")

    # Open the proposal in the call for consensus and read it.
    page.get_by_role("link", name=proposal.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal.title, timeout=TIMEOUT)
    expect(page.locator(".proposal-text")).to_contain_text("We buy a blue tarp for the kitchen")
    expect(page.locator(".proposal-text strong")).to_have_text("blue tarp")
    assert_same_document(page, js)
    assert_fits_phone(page)
    assert_touch_targets(page)

    # A clarifying question.
    question = "Which shop sells the tarp?"
    page.locator("#id_question-text").fill(question)
    page.get_by_role("button", name="Ask a clarifying question").click()
    expect(page.locator("#discussion .comment")).to_contain_text(
        f"Noa: {question}", timeout=TIMEOUT
    )
    assert_same_document(page, js)

    # Stand aside, with a reason.
    tally = page.locator("#positions .tally")
    reason = "I will be away that week."
    page.locator("label.choice-stand_aside").click()
    expect(page.locator("#id_kind_1")).to_be_checked()
    page.get_by_label("Why you stand aside").fill(reason)
    page.get_by_role("button", name="State my position").click()
    mine = page.locator("#positions li.position-stand_aside").filter(has_text="Noa")
    expect(mine.locator("blockquote")).to_have_text(reason, timeout=TIMEOUT)
    expect(page.locator(".my-position")).to_contain_text("Your position: Stand aside")
    expect(tally.locator(".count-stand_aside")).to_have_text(ONE)
    expect(tally.locator(".count-agree")).to_have_text(ZERO)
    assert_same_document(page, js)
    assert history_of(member, proposal) == [("stand_aside", True)]

    # Change it to agree: the stand-aside's reason is not carried over.
    page.locator("label.choice-agree").click()
    expect(page.get_by_label("A word of support")).to_have_value("")
    page.get_by_role("button", name="Change my position").click()
    expect(tally.locator(".count-agree")).to_have_text(ONE, timeout=TIMEOUT)
    expect(tally.locator(".count-stand_aside")).to_have_text(ZERO)
    expect(page.locator(".my-position")).to_contain_text("Your position: Agree")
    expect(mine).to_have_count(0)
    assert_same_document(page, js)
    assert history_of(member, proposal) == [("stand_aside", False), ("agree", True)]
    assert Position.objects.filter(member=member, proposal=proposal, is_current=True).count() == 1

    # A block: the form says the rule requires a reason, and a block without one is
    # refused before the confirmation, on the reason's own box.
    page.locator("label.choice-block").click()
    expect(page.locator(".choice-group").filter(has=page.locator("#id_kind_2"))).to_contain_text(
        "required by this assembly's rule"
    )
    page.get_by_role("button", name="Change my position").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "A block needs a reason", timeout=TIMEOUT
    )
    expect(page.locator(".confirm-block")).to_have_count(0)
    assert_same_document(page, js)
    # With a reason, the page explains what a block is before it counts.
    page.get_by_label("Your principled objection").fill("It would endanger the kitchen.")
    page.get_by_role("button", name="Change my position").click()
    confirm = page.locator(".confirm-block")
    expect(confirm).to_contain_text("A block is not a vote against", timeout=TIMEOUT)
    expect(confirm).to_contain_text("It would endanger the kitchen.")
    assert_fits_phone(page)
    assert_touch_targets(page)
    assert history_of(member, proposal) == [("stand_aside", False), ("agree", True)]
    confirm.get_by_role("button", name="Go back").click()
    expect(page.locator(".confirm-block")).to_have_count(0)
    expect(page.get_by_label("Your principled objection")).to_have_value(
        "It would endanger the kitchen."
    )
    expect(tally.locator(".count-block")).to_have_text(ZERO)
    expect(tally.locator(".count-agree")).to_have_text(ONE)
    expect(page.locator(".my-position")).to_contain_text("Your position: Agree")
    assert_same_document(page, js)
    assert_fits_phone(page)
    assert history_of(member, proposal) == [("stand_aside", False), ("agree", True)]
    assert not errors, f"uncaught JavaScript errors: {errors}"
