"""Smoke test of the live benchmark (bench/live_assembly.py) in its quick mode: real uvicorn
processes, PostgreSQL, Redis and websocket clients. It checks that nothing is lost and that
every client sees the final tally, in the app and in both references; not the timings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_quick_benchmark_loses_nothing_and_every_client_converges(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not settings.REDIS_URL:
        pytest.skip("the benchmark needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    out = tmp_path / "results.json"
    finished = subprocess.run(
        [sys.executable, "bench/live_assembly.py", "--participants", "100", "--window", "3",
         "--cap", "20", "--no-save", "--json", str(out),
         "--database-url", database_url, "--redis-url", settings.REDIS_URL],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    results = {r["mode"]: r for r in json.loads(out.read_text())["modes"]}
    assert set(results) == {"app", "baseline", "limit"}
    for mode, r in results.items():
        assert r["connected"] == 100, mode
        assert r["acknowledged"] == 100 and r["errors"] == 0 and r["timeouts"] == 0, mode
        assert r["converged_clients"] == 100 and r["lag_s"] is not None, mode
    assert results["app"]["stored"] == 100
    assert results["baseline"]["stored"] == 100
