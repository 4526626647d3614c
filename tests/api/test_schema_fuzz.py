"""Schema-driven fuzzing: schemathesis generates requests from our own OpenAPI schema
(valid and invalid ones) and checks that nothing answers 500 and that every response matches
the schema. Runs in-process over WSGI against the test database; no network."""

import os
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from assemblies import accounts
from multitude.wsgi import application

# Kept small so the suite stays fast; FUZZ_EXAMPLES=200 for a longer hunt.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "12"))


# Loaded at collection (schemathesis' lazy fixture loader does not support pytest 9 yet);
# generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture
def keep_test_transaction(db):
    """As Django's test client does: a request must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(build_world, keep_test_transaction):
    world = build_world("private")
    key = accounts.api_token_for(user=world.members["facilitator"].user).key
    ids = {
        "slug": "ga",
        "proposal_id": world.call.pk,
        "meeting_id": world.meeting.pk,
        "decision_id": world.decision.pk,
        "member_id": world.members["participant"].pk,
        "comment_id": None,
    }
    # The in-process transport does not undo compression (GZipMiddleware): ask for none.
    headers = {"Authorization": f"Token {key}", "Accept-Encoding": "identity"}
    return {"headers": headers, "ids": ids, "world": world}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_never_fails_and_matches_its_schema(case, fuzz_world):
    # Point most requests at real objects, so bodies and queries reach the services; what
    # the generator made of the path is kept for the rest (404s are part of the contract).
    params = case.path_parameters or {}
    for name in list(params):
        real = fuzz_world["ids"].get(name)
        if real is not None and zlib.crc32(repr(case.body).encode()) % 4:
            params[name] = real
    case.call_and_validate(
        headers=fuzz_world["headers"],
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )


def test_the_schema_is_openapi_3(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/proposals/{proposal_id}/close/" in document["paths"]
    assert set(document["components"]["schemas"]["Error"]["properties"]) >= {"code", "message"}


def test_the_docs_page_runs_under_the_csp(client):
    import re

    from django.contrib.staticfiles import finders

    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    html = response.content.decode()
    assert "<style" not in html  # style-src 'self' allows no inline style
    scripts = re.findall(r"<script([^>]*)>", html)
    assert len(scripts) == 3
    for attributes in scripts:
        assert 'src="' in attributes, "no inline script"
        assert f'nonce="{nonce}"' in attributes
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not src.startswith(("http:", "https:", "//")), "no CDN"
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), src
        else:
            script = client.get(src)
            assert script.status_code == 200
            assert script["Content-Type"].startswith("application/javascript")
            assert "SwaggerUIBundle" in script.content.decode()
