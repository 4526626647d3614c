"""Smoke test of the slow-network benchmark (bench/slow_network.py), tiny: it completes, the
page becomes live through the throttled network, and it reports bytes by kind. Not the
timings (a benchmark's claims come from the benchmark, bench/README.md)."""

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


def test_the_slow_network_benchmark_runs(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not settings.REDIS_URL:
        pytest.skip("the benchmark needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    out = tmp_path / "results.json"
    finished = subprocess.run(
        [sys.executable, "bench/slow_network.py", "--members", "40", "--runs", "1",
         "--snapshot-members", "20", "--no-save", "--json", str(out),
         "--database-url", database_url, "--redis-url", settings.REDIS_URL],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    log = finished.stdout[-3000:] + finished.stderr[-3000:]
    assert finished.returncode == 0 and out.exists(), log
    results = json.loads(out.read_text())
    run = results["runs"][0]
    assert run["position_form_visible"], log
    assert {"html", "css", "js"} <= set(run["wire_bytes"]), log
    assert results["snapshot_sizes"][0]["members"] == 20
