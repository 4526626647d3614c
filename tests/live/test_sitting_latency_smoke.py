"""Smoke test of the sitting benchmark (bench/sitting_latency.py) in its quick mode: real
uvicorn processes, PostgreSQL, Redis and Debian's Chromium. It checks that the run completes
and that every timed change appeared in every observing browser; not the timings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_quick_sitting_benchmark_sees_every_action_everywhere(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not settings.REDIS_URL:
        pytest.skip("the benchmark needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    out = tmp_path / "results.json"
    finished = subprocess.run(
        [sys.executable, "bench/sitting_latency.py", "--quick", "--timeout", "5",
         "--no-save", "--json", str(out),
         "--database-url", database_url, "--redis-url", settings.REDIS_URL],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    log = finished.stdout[-3000:] + finished.stderr[-3000:]
    assert out.exists(), log
    results = json.loads(out.read_text())
    assert {s["action"] for s in results["samples"]} == {
        "position", "speaker", "signal", "floor", "question"
    }, log  # fmt: skip
    missing = sorted({(s["action"], s["observer"], s["status"]) for s in results["samples"]
                      if s["status"] != "seen"})  # fmt: skip
    assert not missing, log
    assert finished.returncode == 0, log
