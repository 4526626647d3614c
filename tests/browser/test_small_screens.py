"""On a 360 px phone, in English, Spanish and French, no main page scrolls sideways — not even
with people's longest unbroken words in titles, names, reasons and comments — and <html lang>
follows a change of language made in the page."""

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from assemblies import services as assembly_services
from proposals import services as proposal_services
from sittings import services as sitting_services

pytestmark = pytest.mark.browser

TIMEOUT = 5_000
PHONE_WIDTH = 360
MIN_TARGET = 44
LANGUAGES = ["en", "es", "fr"]
LONG = "Supercalifragilisticexpialidocious" * 2  # 68 letters and no break


@pytest.fixture
def scene(assembly, facilitator, participant, make_member):
    """Long unbroken words wherever people write: the assembly's and a sitting's name, a
    member's name, proposal titles, a comment, a reason; a decision, minutes and a log."""
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, name=f"Assembly {LONG}")
    longname = make_member(f"Maximiliana{LONG}"[:80])
    decided = proposal_services.submit_proposal(
        actor=longname, title=f"Decided {LONG}", text=f"We agree on {LONG}."
    )
    proposal_services.call_for_consensus(actor=facilitator, proposal=decided)
    proposal_services.take_position(actor=participant, proposal=decided, kind="agree")
    proposal_services.take_position(
        actor=longname, proposal=decided, kind="stand_aside", reason=f"Because {LONG}"
    )
    proposal_services.close_call(actor=facilitator, proposal=decided)

    call = proposal_services.submit_proposal(
        actor=participant, title=f"Open {LONG}", text=f"Text with {LONG} in it."
    )
    proposal_services.add_comment(
        actor=longname, proposal=call, kind="concern", text=f"My concern is {LONG}."
    )
    proposal_services.call_for_consensus(actor=facilitator, proposal=call)
    proposal_services.take_position(
        actor=longname, proposal=call, kind="block", reason=f"I block because {LONG}"
    )

    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title=f"Sitting {LONG}", location=LONG
    )
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=decided)
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=call)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    return {
        "slug": assembly.slug,
        "call": call,
        "decided": decided,
        "meeting": meeting,
        "participant": participant.user,
    }


# name: (path, logged in as the participant?)
PAGES = {
    "home": (lambda s: "/", False),
    "join": (lambda s: "/join/", False),
    "assembly": (lambda s: f"/a/{s['slug']}/", True),
    "proposal-in-call": (lambda s: f"/a/{s['slug']}/p/{s['call'].pk}/", True),
    "proposal-decided": (lambda s: f"/a/{s['slug']}/p/{s['decided'].pk}/", True),
    "minutes": (lambda s: f"/a/{s['slug']}/sittings/{s['meeting'].pk}/minutes/", False),
    "log": (lambda s: f"/a/{s['slug']}/log/", False),
    "account": (lambda s: "/account/", True),
}


def in_language(page: Page, live_server, lang: str) -> Page:
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}]
    )
    return page


def overflow(page: Page) -> dict:
    """The page's width, and the elements showing past the viewport's right edge (not those
    an ancestor on screen clips or scrolls, such as a visually hidden table head)."""
    return page.evaluate(
        """() => {
          const edge = window.innerWidth + 0.5;
          const contained = (el) => {
            for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
              const style = getComputedStyle(up);
              if ((style.overflowX !== "visible" || style.clip !== "auto")
                  && up.getBoundingClientRect().right <= edge) return true;
            }
            return false;
          };
          return {
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            past: [...document.querySelectorAll("body *")]
                .filter(el => el.getBoundingClientRect().right > edge)
                .filter(el => !el.closest(".skip-link, [hidden]") && !contained(el))
                .slice(0, 5)
                .map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
                    + " " + Math.round(el.getBoundingClientRect().right) + "px"),
          };
        }"""
    )


def small_fields(page: Page) -> list[str]:
    """Visible selects, text inputs and text areas under 44 px tall."""
    return page.evaluate(
        """(min) => [...document.querySelectorAll(
                "select, textarea, input:not([type=hidden], [type=checkbox], [type=radio])")]
            .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < min)
            .map(el => `${el.tagName.toLowerCase()}#${el.id}: `
                + `${el.getBoundingClientRect().height}px`)""",
        MIN_TARGET,
    )


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_no_page_scrolls_sideways_on_a_phone(live_server, scene, phone, login_page, name, lang):
    path, logged_in = PAGES[name]
    if logged_in:
        login_page(phone, scene["participant"])
    in_language(phone, live_server, lang)
    response = phone.goto(live_server.url + path(scene))
    assert response is not None and response.status == 200, f"{name}: HTTP {response.status}"
    assert phone.locator("html").get_attribute("lang") == lang
    found = overflow(phone)
    assert found["innerWidth"] == PHONE_WIDTH
    assert found["scrollWidth"] <= found["innerWidth"], (
        f"{name} in {lang} is {found['scrollWidth']}px wide at {PHONE_WIDTH}px: {found['past']}"
    )
    assert not found["past"], f"{name} in {lang}: {found['past']}"
    assert not small_fields(phone), f"{name} in {lang}: {small_fields(phone)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_cell_of_the_decisions_table_is_on_screen(
    live_server, scene, phone, login_page, lang
):
    login_page(phone, scene["participant"])
    in_language(phone, live_server, lang)
    phone.goto(f"{live_server.url}/a/{scene['slug']}/")
    cells = phone.locator("section[aria-labelledby=decisions] td")
    assert cells.count() == 5
    for index in range(cells.count()):
        box = cells.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    # Each stacked cell shows what it is.
    date_cell = cells.nth(4)
    label = date_cell.evaluate("el => getComputedStyle(el, '::before').content")
    assert label not in ("", "none", "normal"), label


def test_html_lang_follows_a_change_of_language(live_server, scene, phone):
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.goto(f"{live_server.url}/a/{scene['slug']}/")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    # Move through the site as people do (htmx swaps the body), then change the language.
    phone.locator("main").get_by_role("link", name="Facilitation log").click()
    expect(phone.locator("h1")).to_have_text("Facilitation log", timeout=TIMEOUT)

    for lang, heading in [("fr", "Journal de facilitation"), ("es", "Registro de facilitación")]:
        phone.locator("#language").select_option(lang)
        phone.locator(".language-picker button").click()
        expect(phone.locator("h1")).to_have_text(heading, timeout=TIMEOUT)
        expect(phone.locator("html")).to_have_attribute("lang", lang, timeout=TIMEOUT)
        found = overflow(phone)
        assert found["scrollWidth"] <= PHONE_WIDTH, found
    assert not errors, errors
