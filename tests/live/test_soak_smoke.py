"""Smoke test of the soak (bench/soak.py) in a 30-second version: real uvicorn, PostgreSQL,
Redis and 30 churning websocket clients. It checks the verdict (nothing lost, nothing extra,
the final tally, zero errors), not the memory, which a short run only reports."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_a_short_soak_loses_nothing_and_has_no_errors(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not settings.REDIS_URL:
        pytest.skip("the soak needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    out = tmp_path / "soak.json"
    finished = subprocess.run(
        [sys.executable, "bench/soak.py", "--minutes", "0.5", "--participants", "30",
         "--no-save", "--json", str(out),
         "--database-url", database_url, "--redis-url", settings.REDIS_URL],
        cwd=ROOT, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["verdict"] == "PASS"
    assert result["connections_opened"] >= 30
    assert result["errors"] == {}
    assert result["acked_request_ids"] <= result["history_rows"]
    assert all(result["checks"].values())
