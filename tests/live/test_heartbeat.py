"""The heartbeat (issue 16, point 3): a host gone silent is noticed by its clients.

A host that dies without closing its sockets, or a network cut that sends no reset, leaves
a client's socket "open" for minutes with nothing arriving. Every socket therefore gets a
`beat` frame every LIVE_HEARTBEAT_SECONDS, and each snapshot says how often; the page takes
three silent heartbeats as a lost connection and reconnects (tests/browser/test_live_sitting).
"""

import itertools
import json
import time

import pytest
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HEARTBEAT = 0.3


def test_an_idle_socket_hears_a_beat_every_heartbeat_and_the_snapshot_says_how_often(
    start_server, assembly, participant
):
    server = start_server(LIVE_HEARTBEAT_SECONDS=str(HEARTBEAT))
    token = Token.objects.get_or_create(user=participant.user)[0].key
    with connect(
        f"{server['ws']}/ws/assemblies/{assembly.slug}/",
        additional_headers={"Authorization": f"Token {token}"},
    ) as ws:
        first = json.loads(ws.recv(timeout=5))
        assert first["type"] == "snapshot"
        assert first["heartbeat"] == HEARTBEAT
        started, beats = time.monotonic(), []
        while time.monotonic() - started < 2.0:
            frame = json.loads(ws.recv(timeout=2))
            assert frame == {"type": "beat"}  # nothing else changed: only beats
            beats.append(time.monotonic())
    gaps = [later - earlier for earlier, later in itertools.pairwise(beats)]
    assert len(beats) >= 4
    assert max(gaps) < 3 * HEARTBEAT  # never three heartbeats of silence
