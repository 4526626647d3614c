"""Real server processes for the live tests: uvicorn on free ports, sharing the test
database and Redis with the test process."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of_this_test() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stdout.read().decode())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"server on port {port} did not start")


@pytest.fixture
def live_prefix(settings):
    """A Redis key prefix of this test's own, shared with its server processes."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("live tests need PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    settings.REDIS_PREFIX = prefix
    return prefix


@pytest.fixture
def start_server(live_prefix, settings):
    """Start a uvicorn process; returns its base ws:// and http:// URLs."""
    processes = []

    def start(**extra_env) -> dict:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url_of_this_test(),
            "REDIS_URL": settings.REDIS_URL,
            "REDIS_PREFIX": live_prefix,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            **extra_env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "multitude.asgi:application",
             "--host", "127.0.0.1", "--port", str(port), "--lifespan", "on",
             "--ws-per-message-deflate", "false", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(process)
        wait_until_listening(port, process)
        return {
            "ws": f"ws://127.0.0.1:{port}",
            "http": f"http://127.0.0.1:{port}",
            "process": process,
        }

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
