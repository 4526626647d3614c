"""Fuzzing the live protocol (issue 13): frames of random shape, type and depth, sent to a
real server process. Every frame is answered with `ack` or `error`, and the socket stays
open: nothing a client sends drops it."""

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TYPES = ["position", "signal", "stack", "temperature", "facilitate", "nope", ""]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
frames = st.one_of(
    st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(TYPES), values)},
        optional={
            "proposal": values,
            "kind": st.one_of(st.sampled_from(["agree", "block", "stand_aside"]), values),
            "reason": values,
            "request_id": values,
            "signal": values,
            "action": values,
            "entry": values,
            "reading": values,
        },
    ).map(json.dumps),
    values.map(json.dumps),
    st.integers(min_value=1, max_value=5_000).map(lambda depth: "[" * depth + "]" * depth),
    st.text(max_size=60),
)


def answer(ws) -> dict:
    while True:
        frame = json.loads(ws.recv(timeout=10))
        if frame["type"] not in ("snapshot", "mine", "beat"):
            return frame


def test_every_frame_is_answered_and_the_socket_stays_open(
    start_server, assembly, participant, open_call
):
    server = start_server()
    token = Token.objects.get_or_create(user=participant.user)[0].key
    with connect(
        f"{server['ws']}/ws/assemblies/{assembly.slug}/",
        additional_headers={"Authorization": f"Token {token}"},
        max_size=2**22,
    ) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"

        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(frame=frames)
        def one(frame):
            ws.send(frame)
            reply = answer(ws)
            assert reply["type"] in ("ack", "error"), (frame[:80], reply)
            time.sleep(0.22)  # under the per-connection rate: the fuzz is about shapes

        one()
        ws.send(json.dumps({"type": "signal", "signal": "agree", "request_id": "last"}))
        assert answer(ws)["type"] in ("ack", "error")
