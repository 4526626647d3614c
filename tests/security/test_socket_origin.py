"""A browser socket is let in only from our own origin: scheme, host and port exactly.

Issue 13: with the session cookie, pages on http://127.0.0.1:9999, https://127.0.0.1 and
http://localhost:3000 could open /ws/assemblies/<slug>/ on a server at 127.0.0.1:<port>,
because only the host name was compared. These tests run a real uvicorn process.
"""

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session_cookie(client, participant):
    client.force_login(participant.user)
    return f"sessionid={client.cookies['sessionid'].value}"


def open_with_origin(server, assembly, cookie, origin):
    return connect(
        f"{server['ws']}/ws/assemblies/{assembly.slug}/",
        additional_headers={"Cookie": cookie},
        origin=origin,
        open_timeout=5,
    )


def assert_refused(server, assembly, cookie, origin):
    with pytest.raises(InvalidStatus) as refused:
        open_with_origin(server, assembly, cookie, origin)
    assert refused.value.response.status_code == 403, origin


def assert_let_in(server, assembly, cookie, origin):
    with open_with_origin(server, assembly, cookie, origin) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot", origin


def test_only_the_exact_origin_of_the_page_may_open_a_socket(
    start_server, assembly, session_cookie
):
    server = start_server()
    port = server["http"].rsplit(":", 1)[1]
    assert_let_in(server, assembly, session_cookie, f"http://127.0.0.1:{port}")
    for origin in [
        "http://127.0.0.1:9999",  # another port on the same host
        "https://127.0.0.1",  # another scheme (and port)
        f"https://127.0.0.1:{port}",  # another scheme only
        "http://localhost:3000",  # an allowed host name, another port
        f"http://localhost:{port}",  # an allowed host name, but not the page's host
        "http://127.0.0.1",  # no port: 80
        "http://evil.example",
        "null",  # a sandboxed frame or a file: page
    ]:
        assert_refused(server, assembly, session_cookie, origin)


def test_site_url_and_csrf_trusted_origins_are_allowed_exactly(
    start_server, assembly, session_cookie
):
    server = start_server(
        SITE_URL="https://ga.example.org",
        CSRF_TRUSTED_ORIGINS="https://proxy.example.org:8443,https://*.assemblies.example.net",
    )
    for origin in [
        "https://ga.example.org",
        "https://ga.example.org:443",
        "https://proxy.example.org:8443",
        "https://liberty.assemblies.example.net",
    ]:
        assert_let_in(server, assembly, session_cookie, origin)
    for origin in [
        "http://ga.example.org",
        "https://ga.example.org:8443",
        "https://proxy.example.org",
        "http://proxy.example.org:8443",
        "http://liberty.assemblies.example.net",
        "https://evil-assemblies.example.net",
    ]:
        assert_refused(server, assembly, session_cookie, origin)


def test_a_client_without_origin_is_let_through_to_authenticate(
    start_server, assembly, session_cookie
):
    server = start_server()
    with connect(
        f"{server['ws']}/ws/assemblies/{assembly.slug}/",
        additional_headers={"Cookie": session_cookie},
        open_timeout=5,
    ) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
