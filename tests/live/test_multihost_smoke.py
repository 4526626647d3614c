"""bench/multihost.py end to end at a tiny size: only with MULTIHOST_SMOKE=1, as root (it builds
network namespaces and a private PostgreSQL and Redis), never in CI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("MULTIHOST_SMOKE") != "1" or os.geteuid() != 0,
    reason="set MULTIHOST_SMOKE=1 and run as root",
)


@pytest.mark.parametrize("extra", [[], ["--sentinel", "--kill", "redis"], ["--kill", "app3"]])
def test_multihost_smoke(extra):
    done = subprocess.run(
        [sys.executable, "bench/multihost.py", "-n", "60", "-w", "3", "--no-save", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '"lost": 0' in done.stdout
