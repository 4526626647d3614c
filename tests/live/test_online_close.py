"""An online call closes at its set time inside a real server process, with no request
to the page and no cron job."""

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from proposals import services
from proposals.models import Decision

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of_this_test() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def server():
    if connection.vendor != "postgresql":
        pytest.skip("needs a database shared with a server process")
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_this_test(),
        "ONLINE_CLOSE_CHECK_SECONDS": "0.2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "multitude.asgi:application", "--host", "127.0.0.1",
         "--port", str(free_port()), "--lifespan", "on"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process
    process.terminate()
    process.wait(timeout=10)


def test_it_closes_an_online_call_at_its_time_with_nobody_looking(participant, server):
    proposal = services.submit_proposal(
        actor=participant,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(seconds=1.5),
    )
    services.take_position(actor=participant, proposal=proposal, kind="agree")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not Decision.objects.filter(proposal=proposal).exists():
        assert server.poll() is None, server.stdout.read().decode()
        time.sleep(0.2)
    decision = Decision.objects.get(proposal=proposal)
    assert decision.outcome == "consensus"
    assert decision.closed_by is None
    assert decision.decided_at >= proposal.closes_at
