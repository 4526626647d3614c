"""Take the README's screenshots from a running demo (`make run`), in Debian's Chromium.

    .venv/bin/python tools/screenshots.py [--base http://127.0.0.1:8000] [--out docs/img]

The demo's sitting is in session with a call for consensus on the floor (see seed_demo).
Two members raise their hands first, so the console and the projector show a stack.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PARTICIPANT_PASSWORD = "demo-participant"


def logged_in(browser, base: str, username: str, password: str, **context):
    page = browser.new_context(**context).new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def live(page) -> None:
    page.wait_for_selector('[data-live-status][data-state="live"]')


def raise_hands(browser, base: str, on_floor: str) -> None:
    for username, kind in (("ana", "speak"), ("ben", "clarifying_question")):
        phone = logged_in(browser, base, username, PARTICIPANT_PASSWORD)
        phone.goto(base + on_floor)
        live(phone)
        hand = phone.locator(f'[data-stack-action="raise"][data-stack-kind="{kind}"]')
        if hand.is_visible():  # on a fresh demo; a second run finds the hands already up
            hand.click()
            phone.wait_for_timeout(300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/img", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        console = logged_in(
            browser,
            args.base,
            "facilitator",
            "demo-facilitator",
            viewport={"width": 1280, "height": 800},
        )
        console.goto(f"{args.base}/a/demo/console/")
        live(console)
        on_floor = console.locator("#current-heading a").get_attribute("href")
        raise_hands(browser, args.base, on_floor)
        console.wait_for_timeout(1500)
        console.screenshot(path=args.out / "console-laptop.png")
        projector_url = console.get_by_role("link", name="Open the projector view").get_attribute(
            "href"
        )
        projector = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        projector.goto(projector_url)
        live(projector)
        projector.screenshot(path=args.out / "projector-1080p.png")
        phone = logged_in(
            browser,
            args.base,
            "chloe",
            PARTICIPANT_PASSWORD,
            viewport={"width": 360, "height": 740},
            is_mobile=True,
        )
        phone.goto(args.base + on_floor + "#positions")
        live(phone)
        phone.screenshot(path=args.out / "proposal-phone.png")
        browser.close()


if __name__ == "__main__":
    main()
