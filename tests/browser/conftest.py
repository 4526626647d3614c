"""Browser fixtures: one headless Debian Chromium per session, a phone-sized context per test.

Playwright's sync API runs an event loop in the test thread, so Django's ORM would refuse
to run there (SynchronousOnlyOperation). The tests only touch the ORM between browser
steps, never concurrently, hence the opt-out below, set before Django is used.
"""

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-US",
}


def pytest_collection_modifyitems(config, items):
    """Skip every browser test, with the reason, when there is no Chromium to drive."""
    if Path(CHROMIUM).exists():
        return
    reason = (
        f"Chromium not found at {CHROMIUM}: install Debian's chromium package or set "
        "PLAYWRIGHT_CHROMIUM_EXECUTABLE"
    )
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _page(browser, **options):
    context = browser.new_context(**PHONE, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


@pytest.fixture
def phone(browser):
    """A page in a fresh phone-sized context (360x740, touch, en-US), JavaScript on."""
    context, page = _page(browser)
    yield page
    context.close()


@pytest.fixture
def no_js_phone(browser):
    """The same phone with JavaScript disabled: every form must still work."""
    context, page = _page(browser, java_script_enabled=False)
    yield page
    context.close()


@pytest.fixture
def login_page(live_server, client):
    """Log `user` into `page`'s context by copying a Django session cookie into it."""

    def log_in(page, user):
        client.force_login(user)
        session = client.cookies["sessionid"].value
        page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        return page

    return log_in
