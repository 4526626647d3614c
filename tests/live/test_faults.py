"""Faults with real processes: PostgreSQL restarted, Redis stopped, an app process killed."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

from proposals.models import Position

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


# --- Redis stopped, an app process killed -----------------------------------------------------


def token_of(member) -> str:
    return Token.objects.get_or_create(user=member.user)[0].key


def tally_total(frame: dict, proposal_id: int) -> int | None:
    for proposal in frame.get("proposals", []):
        if proposal["id"] == proposal_id:
            return sum(proposal["tally"].values())
    return None


def wait_for_total(ws, proposal_id: int, total: int, timeout: float) -> float:
    """Seconds until a snapshot shows `total` positions on this socket."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            frame = json.loads(ws.recv(timeout=0.5))
        except TimeoutError:
            continue
        if frame.get("type") == "snapshot" and tally_total(frame, proposal_id) == total:
            return time.monotonic() - started
    raise AssertionError(f"no snapshot with {total} positions within {timeout}s")


def frames_until_ack_and_behind(ws, proposal_id: int, total: int, timeout: float):
    """The socket's answer to its write, and a snapshot marked "behind" showing `total`."""
    reply = behind = None
    deadline = time.monotonic() + timeout
    while (reply is None or behind is None) and time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=0.5))
        except TimeoutError:
            continue
        if frame["type"] == "snapshot":
            if frame.get("status") == "behind" and tally_total(frame, proposal_id) == total:
                behind = frame
        elif frame["type"] not in ("mine", "beat"):
            reply = frame
    assert reply is not None, "no answer to the write"
    assert behind is not None, f"no snapshot marked behind with {total} positions in {timeout}s"
    return reply, behind


@pytest.mark.django_db(transaction=True)
def test_redis_stopped_mid_burst(private_redis, start_server, assembly, open_call, make_member):
    server = start_server(REDIS_URL=private_redis.url)
    members = [make_member() for _ in range(24)]
    tokens = [token_of(m) for m in members]
    watcher_token = token_of(make_member("Watcher"))
    ws_url = f"{server['ws']}/ws/assemblies/{assembly.slug}/"
    api = f"{server['http']}/api/v1/proposals/{open_call.pk}/positions/"
    with connect(ws_url, additional_headers={"Authorization": f"Token {watcher_token}"}) as watcher:
        json.loads(watcher.recv(timeout=5))
        statuses = [fetch(api, {"kind": "agree"}, token)[0] for token in tokens[:8]]
        private_redis.stop()  # in the middle of the burst
        statuses += [fetch(api, {"kind": "agree"}, token)[0] for token in tokens[8:16]]
        # A socket write is recorded and acknowledged while Redis is away (PostgreSQL decides),
        # and the snapshots of this process say they may be behind.
        with connect(ws_url, additional_headers={"Authorization": f"Token {tokens[16]}"}) as ws:
            ws.send(json.dumps({"type": "position", "proposal": open_call.pk, "kind": "agree",
                                "request_id": "during-outage"}))  # fmt: skip
            # The acknowledgement and the "behind" snapshot may come in either order: the
            # process's own publisher can send the snapshot before the consumer sends the ack.
            reply, behind = frames_until_ack_and_behind(ws, open_call.pk, total=17, timeout=15)
            assert reply["type"] == "ack", reply
            assert tally_total(behind, open_call.pk) == 17  # this process's writes, at once
        private_redis.start()
        statuses += [fetch(api, {"kind": "agree"}, token)[0] for token in tokens[17:]]
        assert statuses == [201] * len(statuses)
        stored = Position.objects.filter(proposal=open_call, is_current=True).count()
        assert stored == len(statuses) + 1  # and the one taken over the socket
        # Live updates resume within 5 s and the client converges to the stored tally.
        assert wait_for_total(watcher, open_call.pk, stored, timeout=5.0) <= 5.0


@pytest.mark.django_db(transaction=True)
def test_a_killed_app_process_loses_no_acknowledged_position(
    start_server, assembly, open_call, make_member
):
    doomed, survivor = start_server(), start_server()
    members = [make_member() for _ in range(40)]
    tokens = {m.pk: token_of(m) for m in members}
    acked: list[str] = []
    lock = threading.Lock()

    def burst(member):
        url = f"{doomed['ws']}/ws/assemblies/{assembly.slug}/"
        try:
            with connect(
                url, additional_headers={"Authorization": f"Token {tokens[member.pk]}"}
            ) as ws:
                ws.recv(timeout=5)
                request_id = f"kill-{member.pk}"
                ws.send(json.dumps({"type": "position", "proposal": open_call.pk,
                                    "kind": "agree", "request_id": request_id}))  # fmt: skip
                while True:
                    frame = json.loads(ws.recv(timeout=10))
                    if frame["type"] == "ack":
                        with lock:
                            acked.append(request_id)
                        return
        except Exception:
            return  # the process died under this client

    threads = [threading.Thread(target=burst, args=(m,)) for m in members]
    for number, thread in enumerate(threads):
        thread.start()
        time.sleep(0.01)
        if number == len(threads) // 2:
            # Mid-burst, no goodbye: once some positions are acknowledged (however slow
            # the machine), while the rest are in flight or not yet sent.
            deadline = time.monotonic() + 15
            while not acked and time.monotonic() < deadline:
                time.sleep(0.01)
            doomed["process"].kill()
    for thread in threads:
        thread.join(timeout=15)
    assert 0 < len(acked) < len(members), "the kill should fall inside the burst"
    stored = set(Position.objects.filter(proposal=open_call).values_list("request_id", flat=True))
    assert set(acked) <= stored, "an acknowledged position is missing"
    # Its clients reconnect to the other process and resync from the first snapshot.
    watcher = f"{survivor['ws']}/ws/assemblies/{assembly.slug}/"
    with connect(
        watcher, additional_headers={"Authorization": f"Token {tokens[members[0].pk]}"}
    ) as ws:
        frame = json.loads(ws.recv(timeout=5))
        assert tally_total(frame, open_call.pk) == len(stored)
