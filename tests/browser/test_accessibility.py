"""axe-core finds no WCAG 2.x A/AA violation on any main page, and the position form works
with the keyboard alone, with a visible focus indicator."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from playwright.sync_api import Page, expect

from assemblies import services as assembly_services
from proposals import services as proposal_services
from proposals.models import Position
from sittings import services as sitting_services

pytestmark = pytest.mark.browser

TIMEOUT = 5_000
PHONE_WIDTH = 360
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations"],
}


def axe_report(results: dict) -> str:
    lines = []
    for violation in results["violations"]:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node.get('failureSummary', '').strip()}")
            lines.append(f"       {node['html'][:200]}")
    return "\n".join(lines)


@pytest.fixture
def scene(open_call, assembly, facilitator, participant, make_member):
    """An assembly with a sitting, a proposal in the call with positions and a discussion,
    a decided proposal with two revisions, and one in discussion with a temperature check."""
    call = open_call
    ada, ben, cy = make_member("Ada"), make_member("Ben"), make_member("Cy")

    question = proposal_services.add_comment(
        actor=ada, proposal=call, kind="question", text="Which **colour** is the tarp?"
    )
    proposal_services.add_comment(
        actor=participant, proposal=call, kind="answer", text="Blue.", parent=question
    )
    proposal_services.add_comment(
        actor=ben, proposal=call, kind="concern", text="The fund is low this month."
    )
    proposal_services.add_comment(
        actor=cy,
        proposal=call,
        kind="amendment",
        text="Cap the price lower.",
        proposed_text="We buy a blue tarp for the kitchen, at most $60.",
    )
    proposal_services.take_position(actor=ada, proposal=call, kind="agree")
    proposal_services.take_position(
        actor=ben, proposal=call, kind="stand_aside", reason="Too expensive for me."
    )
    proposal_services.take_position(
        actor=cy, proposal=call, kind="block", reason="We agreed to buy only second-hand."
    )
    proposal_services.take_position(actor=facilitator, proposal=call, kind="agree")

    decided = proposal_services.submit_proposal(
        actor=participant, title="Quiet hours after 23:00", text="No amplified sound after 23:00."
    )
    proposal_services.revise_proposal(
        actor=participant,
        proposal=decided,
        text="No amplified sound after 23:00, except on Saturdays.",
        summary="Saturday exception",
    )
    proposal_services.call_for_consensus(actor=facilitator, proposal=decided)
    proposal_services.take_position(actor=ada, proposal=decided, kind="agree")
    proposal_services.take_position(
        actor=ben, proposal=decided, kind="stand_aside", reason="I sleep early."
    )
    proposal_services.close_call(actor=facilitator, proposal=decided)

    discussed = proposal_services.submit_proposal(
        actor=ben, title="Paint the banner", text="We paint a new banner on Sunday."
    )
    proposal_services.open_temperature_check(actor=facilitator, proposal=discussed)
    proposal_services.give_reading(actor=ada, proposal=discussed, reading="up")

    meeting = sitting_services.schedule_meeting(
        actor=facilitator,
        assembly=assembly,
        title="Sunday sitting",
        scheduled_for=timezone.now() + timedelta(days=2),
        location="Liberty Square",
    )
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=call)
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=discussed)

    guest = assembly_services.join_by_code(
        code=assembly.join_code, display_name="Gus", user=AnonymousUser()
    )
    call.refresh_from_db()
    from notifications import tokens

    return {
        "respond_token": tokens.respond_token(participant.pk, call.pk),
        "unsubscribe_token": tokens.unsubscribe_token(participant.pk),
        "slug": assembly.slug,
        "call": call,
        "decided": decided,
        "discussed": discussed,
        "participant": participant.user,
        "guest": guest.user,
        "facilitator": facilitator.user,
        "meeting": meeting,
    }


# name: (path, who is logged in, a text the page must show before the scan)
PAGES = {
    "home": (lambda s: "/", None, "Decide together"),
    "join": (lambda s: "/join/", None, "Join an assembly"),
    "login": (lambda s: "/login/", None, "Log in"),
    "signup": (lambda s: "/signup/", None, "Create an account"),
    "assembly": (lambda s: f"/a/{s['slug']}/", "participant", "Sunday sitting"),
    "assembly-anonymous": (lambda s: f"/a/{s['slug']}/", None, "Join this assembly"),
    "proposal-in-call": (
        lambda s: f"/a/{s['slug']}/p/{s['call'].pk}/",
        "participant",
        "State my position",
    ),
    "proposal-decided": (
        lambda s: f"/a/{s['slug']}/p/{s['decided'].pk}/",
        "participant",
        "Rule applied",
    ),
    "proposal-temperature": (
        lambda s: f"/a/{s['slug']}/p/{s['discussed'].pk}/",
        "participant",
        "Temperature check",
    ),
    "new-proposal": (lambda s: f"/a/{s['slug']}/propose/", "participant", "New proposal"),
    "diff": (
        lambda s: f"/a/{s['slug']}/p/{s['decided'].pk}/diff/",
        "participant",
        "Changes from revision 1 to revision 2",
    ),
    "roles": (lambda s: f"/a/{s['slug']}/roles/", "participant", "Members and roles"),
    "proxies": (lambda s: f"/a/{s['slug']}/proxies/", "participant", "Give your proxy"),
    "proxies-anonymous": (lambda s: f"/a/{s['slug']}/proxies/", None, "Every proxy"),
    "account": (lambda s: "/account/", "participant", "Logged in as pat"),
    "account-guest": (lambda s: "/account/", "guest", "Keep your identity"),
    "console": (lambda s: f"/a/{s['slug']}/console/", "facilitator", "Facilitator console"),
    "projector": (lambda s: f"/a/{s['slug']}/projector/", None, "Join"),
    "log": (lambda s: f"/a/{s['slug']}/log/", None, "Facilitation log"),
    "minutes": (
        lambda s: f"/a/{s['slug']}/sittings/{s['meeting'].pk}/minutes/",
        None,
        "Minutes",
    ),
    "notification-preferences": (
        lambda s: f"/a/{s['slug']}/notifications/",
        "participant",
        "What you are sent",
    ),
    "notification-preferences-guest": (
        lambda s: f"/a/{s['slug']}/notifications/",
        "guest",
        "You have no email address",
    ),
    "webhooks": (lambda s: f"/a/{s['slug']}/webhooks/", "facilitator", "Recent deliveries"),
    "one-tap-block": (
        lambda s: f"/a/{s['slug']}/p/{s['call'].pk}/respond/block/?t={s['respond_token']}",
        None,
        "A block is not a vote against",
    ),
    "unsubscribe": (
        lambda s: f"/unsubscribe/{s['unsubscribe_token']}/",
        None,
        "Stop every email",
    ),
}


def scan(page: Page) -> dict:
    return Axe().run(page, options=AXE_OPTIONS).response


def dangling_aria_references(page: Page) -> list[str]:
    """aria-describedby / aria-labelledby ids that name no element (axe only says "review")."""
    return page.evaluate(
        """() => [...document.querySelectorAll("[aria-describedby], [aria-labelledby]")]
            .flatMap(el => ["aria-describedby", "aria-labelledby"].flatMap(attr =>
                (el.getAttribute(attr) || "").split(/\\s+/).filter(Boolean)
                    .filter(id => !document.getElementById(id))
                    .map(id => `${el.tagName.toLowerCase()}#${el.id} ${attr}="${id}"`)))"""
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_axe_violations(live_server, scene, phone, login_page, name):
    path, who, shows = PAGES[name]
    if who:
        login_page(phone, scene[who])
    response = phone.goto(live_server.url + path(scene))
    assert response is not None and response.status == 200, f"{name}: HTTP {response.status}"
    expect(phone.locator("main")).to_contain_text(shows, timeout=TIMEOUT)
    results = scan(phone)
    assert not results["violations"], f"axe violations on {name} ({path(scene)}):\n" + axe_report(
        results
    )
    assert not dangling_aria_references(phone), f"{name}: {dangling_aria_references(phone)}"
    # WCAG 1.4.10 Reflow: no sideways scrolling of the page on a 360 px wide phone.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{name} scrolls sideways at {PHONE_WIDTH}px: {width}px wide"


def test_the_scan_catches_a_planted_violation(live_server, phone):
    """Guard against a scan that silently checks nothing (e.g. axe blocked by the CSP)."""
    phone.goto(f"{live_server.url}/login/")
    phone.evaluate(
        """() => {
            const main = document.querySelector("main");
            main.insertAdjacentHTML("beforeend", '<input id="planted" type="text"><p>faint</p>');
            main.lastElementChild.style.color = "#bbb";  // CSSOM: allowed by the CSP
        }"""
    )
    found = {violation["id"] for violation in scan(phone)["violations"]}
    assert {"label", "color-contrast"} <= found, found


def test_block_confirmation_and_refusal_have_no_axe_violations(
    live_server, scene, phone, login_page
):
    """The two states a position form goes through besides the plain page."""
    login_page(phone, scene["participant"])
    phone.goto(f"{live_server.url}/a/{scene['slug']}/p/{scene['call'].pk}/")
    phone.locator("label.choice-block").click()
    phone.get_by_role("button", name="State my position").click()
    expect(phone.get_by_role("alert").first).to_contain_text("A block needs a reason")
    results = scan(phone)
    assert not results["violations"], "block refused:\n" + axe_report(results)

    phone.get_by_label("Your principled objection").fill("It is unsafe.")
    phone.get_by_role("button", name="State my position").click()
    expect(phone.locator(".confirm-block")).to_be_visible(timeout=TIMEOUT)
    results = scan(phone)
    assert not results["violations"], "block confirmation:\n" + axe_report(results)


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                tag: el.tagName.toLowerCase(),
                type: el.getAttribute("type"),
                name: el.getAttribute("name"),
                value: el.value,
                cls: el.className,
                text: (el.innerText || "").trim(),
                checked: !!el.checked,
                outline: parseFloat(style.outlineWidth) || 0,
                outlineStyle: style.outlineStyle,
            };
        }"""
    )


def assert_focus_visible(state: dict) -> None:
    assert state["outline"] > 0 and state["outlineStyle"] != "none", (
        f"no visible focus outline on {state}"
    )


def test_position_form_works_with_the_keyboard_alone(live_server, scene, browser, login_page):
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-US")
    try:
        page = context.new_page()
        login_page(page, scene["participant"])
        call = scene["call"]
        page.goto(f"{live_server.url}/a/{scene['slug']}/p/{call.pk}/")
        expect(page.locator("h1")).to_have_text(call.title)

        # The first Tab lands on the skip link, which shows itself.
        page.keyboard.press("Tab")
        state = focused(page)
        assert state["cls"] == "skip-link", f"first Tab stop is {state}"
        assert_focus_visible(state)
        assert page.locator(".skip-link").bounding_box()["x"] >= 0

        # Tab on until the position radios: every stop on the way shows its focus.
        for _ in range(40):
            page.keyboard.press("Tab")
            state = focused(page)
            assert_focus_visible(state)
            if state["name"] == "kind":
                break
        else:
            pytest.fail("Tab never reached the position radios")
        assert state["type"] == "radio" and state["value"] == "agree"

        # Space selects the focused radio, arrows move within the group.
        page.keyboard.press("Space")
        assert focused(page)["checked"]
        page.keyboard.press("ArrowDown")
        state = focused(page)
        assert (state["value"], state["checked"]) == ("stand_aside", True)
        assert_focus_visible(state)

        page.keyboard.press("Tab")
        state = focused(page)
        assert (state["tag"], state["name"]) == ("textarea", "reason_stand_aside")
        assert_focus_visible(state)
        page.keyboard.type("Said with the keyboard only.")

        page.keyboard.press("Tab")
        state = focused(page)
        assert (state["tag"], state["text"]) == ("button", "State my position")
        assert_focus_visible(state)
        page.keyboard.press("Enter")

        expect(page.locator(".messages")).to_contain_text(
            "Your position is recorded", timeout=TIMEOUT
        )
        expect(page.locator(".my-position")).to_contain_text("Your position: Stand aside")
        mine = page.locator("#positions li.position-stand_aside").filter(has_text="Pat")
        expect(mine).to_contain_text("Said with the keyboard only.")
        stored = Position.objects.get(
            proposal=call, member__user=scene["participant"], is_current=True
        )
        assert (stored.kind, stored.reason) == ("stand_aside", "Said with the keyboard only.")
    finally:
        context.close()
