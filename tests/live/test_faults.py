"""Faults with real processes: PostgreSQL restarted, Redis stopped, an app process killed."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str, data: dict | None = None, token: str = ""):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def manage(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return result.stdout


def test_postgresql_restart_gives_503_then_recovers_by_itself(private_postgres, start_server):
    manage(private_postgres.url, "migrate", "--noinput", "-v0")
    manage(private_postgres.url, "seed_demo", "--quiet")
    server = start_server(DATABASE_URL=private_postgres.url, REDIS_URL="")
    page = f"{server['http']}/a/demo/"
    api = f"{server['http']}/api/v1/assemblies/demo/"
    assert fetch(page)[0] == 200
    private_postgres.stop()
    for url in (page, api, f"{server['http']}/healthz"):
        status, body = fetch(url)
        assert status == 503, (url, status, body[:300])
    assert "service_unavailable" in fetch(api)[1]
    private_postgres.start()
    deadline = time.monotonic() + 15
    while fetch(page)[0] != 200:
        assert time.monotonic() < deadline, "did not recover by itself"
        time.sleep(0.5)
    assert fetch(api)[0] == 200
