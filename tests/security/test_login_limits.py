"""Password guessing is limited before the hasher runs, without locking the owner out.

Issue 13: 60 wrong passwords all got 200 and the right one then worked; parallel wrong
passwords made argon2 a CPU weapon; tokens could be made without end. These tests run a
real uvicorn process. The client's address is set the way a proxy on the same host reports
it (X-Forwarded-For from 127.0.0.1, which FORWARDED_ALLOW_IPS trusts), so one test process
can play many clients.
"""

import statistics
import threading
import time

import pytest
from rest_framework.authtoken.models import Token

from tests.conftest import make_user
from tests.security.live_http import Browser

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
WRONG = "wrong horse battery staple"
INVALID = "Please enter a correct username and password"
REFUSED = "Too many wrong passwords"
# Day-long windows: a test never straddles two (django-ratelimit's windows are fixed).
LIMITS = {
    "LOGIN_FAILURES_PER_ADDRESS": "5/d",
    "LOGIN_FAILURES_PER_ACCOUNT": "8/d",
    "TOKEN_CREATE_RATE": "3/d",
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
}


@pytest.fixture
def server(start_server):
    return start_server(**LIMITS)


@pytest.fixture
def lena(settings, db):
    """An account the server process can check: it knows argon2, not the tests' fast MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    return make_user("lena@example.org")


def timed_login(browser, username, password):
    page = browser.get("/login/")  # the CSRF token, outside the timing
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    started = time.perf_counter()
    response = browser.session.post(
        browser.base + "/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    return response, time.perf_counter() - started


def test_a_guesser_on_one_address_is_refused_before_any_password_is_hashed(server, lena):
    guesser = Browser(server["http"], address="203.0.113.10")
    hashed = []
    for _attempt in range(5):
        response, seconds = timed_login(guesser, lena.username, WRONG)
        assert response.status_code == 200 and INVALID in response.text
        hashed.append(seconds)

    refused = []
    for username, password in [(lena.username, PASSWORD)] * 4 + [("nobody@example.org", WRONG)]:
        response, seconds = timed_login(guesser, username, password)
        assert response.status_code == 429, response.text[:300]
        assert REFUSED in response.text
        refused.append(seconds)
    assert not guesser.logged_in
    # A refusal runs no argon2: far cheaper than a checked password (~0.1 s here).
    assert statistics.median(refused) < statistics.median(hashed) / 3, (refused, hashed)

    # The admin's login is under the same limit.
    admin = guesser.post("/admin/login/", {"username": lena.username, "password": PASSWORD})
    assert REFUSED in admin.text

    # Anyone on another address is not held back.
    owner = Browser(server["http"], address="198.51.100.20")
    assert owner.login(lena.username, PASSWORD).status_code == 302
    assert owner.logged_in


def test_guessing_one_account_from_many_addresses_is_refused_but_not_in_the_owners_browser(
    server, lena
):
    owner = Browser(server["http"], address="198.51.100.20")
    assert owner.login(lena.username, PASSWORD).status_code == 302
    owner.post("/logout/", {}, form_page="/")
    assert not owner.logged_in

    # A botnet: each address below its own budget, eight failures on the account in all.
    for n in range(8):
        bot = Browser(server["http"], address=f"203.0.113.{100 + n}")
        assert INVALID in bot.login(lena.username, WRONG).text
    # Now even the right password is refused (before hashing) from a browser never used
    # for this account, including one that logged in to another account.
    assert Browser(server["http"], "203.0.113.200").login(lena.username, PASSWORD).status_code == (
        429
    )
    make_user("mallory@example.org")
    mallory = Browser(server["http"], address="203.0.113.201")
    assert mallory.login("mallory@example.org", PASSWORD).status_code == 302
    mallory.post("/logout/", {}, form_page="/")
    assert mallory.login(lena.username, PASSWORD).status_code == 429

    # The owner's own browser still gets in, from the same address or another.
    assert owner.login(lena.username, PASSWORD).status_code == 302
    assert owner.logged_in
    owner.post("/logout/", {}, form_page="/")
    owner.session.headers["X-Forwarded-For"] = "203.0.113.100"  # a bot's address, say
    assert owner.login(lena.username, PASSWORD).status_code == 302
    owner.post("/logout/", {}, form_page="/")

    # That browser has a budget of its own, not an unlimited pass.
    for _attempt in range(5):
        assert INVALID in owner.login(lena.username, WRONG).text
    assert owner.login(lena.username, PASSWORD).status_code == 429


def test_the_browser_an_account_was_signed_up_in_is_remembered(server, lena):
    owner = Browser(server["http"], address="198.51.100.21")
    signup = owner.post("/signup/", {"email": "sam@example.org", "password": PASSWORD})
    assert signup.status_code == 302
    owner.post("/logout/", {}, form_page="/")
    for n in range(8):
        Browser(server["http"], address=f"203.0.113.{120 + n}").login("sam@example.org", WRONG)
    assert Browser(server["http"]).login("sam@example.org", PASSWORD).status_code == 429
    assert owner.login("sam@example.org", PASSWORD).status_code == 302


def test_making_api_tokens_is_limited_per_person(server, lena):
    browser = Browser(server["http"], address="198.51.100.30")
    assert browser.login(lena.username, PASSWORD).status_code == 302
    keys = []
    for _attempt in range(3):
        response = browser.post("/account/api-token/", {}, form_page="/account/")
        assert response.status_code == 200
        keys.append(Token.objects.get(user=lena).key)
        assert keys[-1] in response.text
    response = browser.post("/account/api-token/", {}, form_page="/account/")
    assert response.status_code == 429
    assert "You made many tokens recently" in response.text
    assert Token.objects.get(user=lena).key == keys[-1]  # the last one still works

    other = make_user("otto@example.org")
    browser = Browser(server["http"], address="198.51.100.30")
    assert browser.login(other.username, PASSWORD).status_code == 302
    assert browser.post("/account/api-token/", {}, form_page="/account/").status_code == 200


def test_parallel_guessing_is_refused_before_the_hasher(server, lena):
    """The attack: 16 parallel wrong-password loops made argon2 a CPU weapon (another
    request's median went from 0.023 s to 0.86 s). Past the address's budget every guess is
    refused (429) before hashing, so at most the budget is ever hashed, however many loops."""
    answers: list[int] = []
    lock = threading.Lock()

    def guess():
        guesser = Browser(server["http"], address="203.0.113.50")
        for _attempt in range(10):
            status = guesser.login(lena.username, WRONG).status_code
            with lock:
                answers.append(status)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 160
    hashed = [status for status in answers if status != 429]
    assert len(hashed) <= 20 + 16, answers  # the budget, plus the loops racing its last step
    assert answers.count(429) >= 160 - 36
