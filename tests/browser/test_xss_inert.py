"""In a real browser, the poisoned pages run none of the payloads (no dialog ever opens)."""

import pytest

from tests.security.test_xss import page_urls, poisoned  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_no_payload_runs_in_chromium(browser, live_server, client, assembly, facilitator, poisoned):  # noqa: F811
    client.force_login(facilitator.user)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    for url in page_urls(assembly, poisoned["proposal"], poisoned["meeting"]):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
    context.close()
    assert dialogs == []
    assert errors == []
