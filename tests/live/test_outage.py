"""With the database unreachable, every request answers 503 with a clear body, never 500."""

import json
import urllib.error
import urllib.request

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def fetch(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def test_it_answers_503_pages_and_json_while_the_database_is_down(start_server, assembly):
    # Nothing listens on port 9 of this machine: the database is simply not there.
    server = start_server(DATABASE_URL="postgres://postgres@127.0.0.1:9/multitude")
    status, headers, body = fetch(f"{server['http']}/a/{assembly.slug}/")
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert "database is unreachable" in body
    status, _headers, body = fetch(f"{server['http']}/healthz")
    assert status == 503
    assert json.loads(body)["database"] == "unavailable"


def test_it_reports_healthy_when_everything_answers(start_server):
    status, _headers, body = fetch(f"{start_server()['http']}/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "database": "ok", "redis": "ok"}
