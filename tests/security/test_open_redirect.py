"""Every `next` the app honours stays on the site: no open redirect to a phishing page.

Issue 13: `/signup/?next=https://evil.example/phish` sent the new account there. The views
that take a `next` are signup, login, logout and the language switch (joining takes none).
Each is driven over HTTP against a real uvicorn process.
"""

from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import make_user
from tests.security.live_http import Browser

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
EVIL = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "https:evil.example/phish",
    "http://127.0.0.1.evil.example/",
    "javascript:alert(1)",
]


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def argon2(settings):
    """Users the server process can log in: it knows argon2, not the tests' fast MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def assert_stays_on_site(response, server):
    assert response.status_code == 302, response.text[:500]
    target = urlsplit(response.headers["Location"])
    assert target.scheme in ("", "http"), response.headers["Location"]
    assert target.netloc in ("", urlsplit(server["http"]).netloc), response.headers["Location"]
    assert not target.path.startswith(("//", "/\\")), response.headers["Location"]
    return response.headers["Location"]


def test_signup_does_not_redirect_off_site(server):
    for n, evil in enumerate(EVIL):
        browser = Browser(server["http"])
        path = f"/signup/?next={quote(evil, safe='')}"
        response = browser.post(path, {"email": f"new{n}@example.org", "password": PASSWORD})
        assert assert_stays_on_site(response, server) == "/", evil
        assert browser.logged_in


def test_signup_still_goes_to_a_next_on_the_site(server, assembly):
    browser = Browser(server["http"])
    path = f"/signup/?next={quote(assembly.get_absolute_url())}"
    response = browser.post(path, {"email": "new@example.org", "password": PASSWORD})
    assert assert_stays_on_site(response, server) == assembly.get_absolute_url()


def test_login_does_not_redirect_off_site_and_keeps_a_next_on_it(server, argon2):
    make_user("lena@example.org")
    for evil in EVIL:
        browser = Browser(server["http"])
        form = f"/login/?next={quote(evil, safe='')}"
        data = {"username": "lena@example.org", "password": PASSWORD, "next": evil}
        assert assert_stays_on_site(browser.post(form, data), server) == "/", evil
    browser = Browser(server["http"])
    data = {"username": "lena@example.org", "password": PASSWORD, "next": "/account/"}
    assert assert_stays_on_site(browser.post("/login/", data), server) == "/account/"


def test_logout_does_not_redirect_off_site(server, argon2):
    make_user("lena@example.org")
    for evil in EVIL:
        browser = Browser(server["http"])
        browser.login("lena@example.org", PASSWORD)
        response = browser.post("/logout/", {"next": evil}, form_page="/")
        assert_stays_on_site(response, server)
        assert not browser.logged_in


def test_the_language_switch_does_not_redirect_off_site(server):
    for evil in EVIL:
        browser = Browser(server["http"])
        response = browser.post(
            "/i18n/setlang/",
            {"language": "fr", "next": evil},
            form_page="/",
            headers={"Referer": evil},
        )
        assert_stays_on_site(response, server)
        assert browser.session.cookies.get("django_language") == "fr"
