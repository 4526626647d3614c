"""The live socket end to end: real uvicorn processes, real Redis, real websocket clients."""

import contextlib
import json
import time

import pytest
from rest_framework.authtoken.models import Token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from proposals.models import Position
from sittings import services as sitting_services

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


PUSHED = ("snapshot", "mine", "beat")  # frames the server sends unasked


def token_for(member) -> str:
    return Token.objects.get_or_create(user=member.user)[0].key


def open_socket(server, slug, member=None, **kwargs):
    headers = {"Authorization": f"Token {token_for(member)}"} if member else {}
    return connect(
        f"{server['ws']}/ws/assemblies/{slug}/",
        additional_headers=headers,
        open_timeout=5,
        **kwargs,
    )


def receive(ws, timeout=5.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def receive_until(ws, predicate, timeout=5.0) -> dict:
    """Frames until one satisfies predicate; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "expected frame did not arrive in time"
        frame = receive(ws, remaining)
        if predicate(frame):
            return frame


def send(ws, **message) -> None:
    ws.send(json.dumps(message))


def proposal_in(frame: dict, proposal_id: int) -> dict:
    return next(p for p in frame["proposals"] if p["id"] == proposal_id)


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def meeting(assembly, facilitator, open_call):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    sitting_services.add_to_agenda(actor=facilitator, meeting=meeting, proposal=open_call)
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    return sitting_services.set_current_proposal(
        actor=facilitator, meeting=meeting, proposal=open_call
    )


def test_it_sends_a_snapshot_first(server, assembly, participant, open_call, meeting):
    with open_socket(server, assembly.slug, participant) as ws:
        frame = receive(ws)
    assert frame["type"] == "snapshot"
    assert isinstance(frame["seq"], int)
    assert frame["meeting"]["current_proposal"] == open_call.pk
    state = proposal_in(frame, open_call.pk)
    assert state["phase"] == "call"
    assert state["tally"] == {"agree": 0, "stand_aside": 0, "block": 0}
    assert {"id", "title", "revision", "blocks", "stand_asides", "temperature"} <= set(state)


def test_it_refuses_a_non_member_of_a_private_assembly_with_4403(
    server, other_assembly, participant
):
    with (
        open_socket(server, other_assembly.slug, participant) as ws,
        pytest.raises(Exception) as closed,
    ):
        ws.recv(timeout=5)
    assert ws.close_code == 4403, closed.value


def test_it_lets_a_member_of_the_private_assembly_in(server, other_assembly, outsider):
    with open_socket(server, other_assembly.slug, outsider) as ws:
        assert receive(ws)["type"] == "snapshot"


def test_it_refuses_a_cross_origin_socket(server, assembly):
    with pytest.raises(InvalidStatus) as refused:
        open_socket(server, assembly.slug, origin="http://evil.example")
    assert refused.value.response.status_code == 403


def test_it_acks_a_position_after_commit_and_applies_a_retry_once(
    server, assembly, participant, open_call
):
    with open_socket(server, assembly.slug, participant) as ws:
        receive(ws)
        for _attempt in range(2):
            send(ws, type="position", proposal=open_call.pk, kind="agree", request_id="req-1")
            ack = receive_until(ws, lambda f: f["type"] not in PUSHED)
            assert ack == {"type": "ack", "request_id": "req-1", "position": ack["position"]}
            assert Position.objects.filter(member=participant, is_current=True).exists()
    assert Position.objects.filter(member=participant).count() == 1


@pytest.mark.parametrize(
    "frame,code",
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        (json.dumps({"type": "position", "proposal": "3", "kind": "agree"}), "invalid_field"),
        (json.dumps({"type": "position", "proposal": 1, "kind": 7}), "invalid_field"),
        (json.dumps({"type": "dance"}), "unknown_type"),
        (json.dumps({"type": "signal", "signal": "cartwheel"}), "invalid_signal"),
        ("x" * 1_000_000, "too_large"),
    ],
)
def test_it_answers_bad_frames_with_an_error_and_stays_open(
    server, assembly, participant, open_call, meeting, frame, code
):
    with open_socket(server, assembly.slug, participant, max_size=None) as ws:
        receive(ws)
        ws.send(frame)
        error = receive_until(ws, lambda f: f["type"] == "error")
        assert error["code"] == code and error["message"]
        send(ws, type="position", proposal=open_call.pk, kind="agree", request_id="after")
        assert receive_until(ws, lambda f: f["type"] == "ack")["request_id"] == "after"


def test_it_refuses_an_observer_to_act(server, assembly, observer, open_call):
    with open_socket(server, assembly.slug, observer) as ws:
        receive(ws)
        send(ws, type="position", proposal=open_call.pk, kind="agree", request_id="o1")
        error = receive_until(ws, lambda f: f["type"] == "error")
    assert error["code"] == "observer" and error["request_id"] == "o1"
    assert not Position.objects.exists()


def test_it_refuses_a_block_without_reason(server, assembly, participant, open_call):
    with open_socket(server, assembly.slug, participant) as ws:
        receive(ws)
        send(ws, type="position", proposal=open_call.pk, kind="block", request_id="b1")
        error = receive_until(ws, lambda f: f["type"] == "error")
    assert error["code"] == "reason_required"
    assert not Position.objects.exists()


def test_it_authenticates_with_the_session_cookie(server, client, assembly, participant, open_call):
    client.force_login(participant.user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with connect(
        f"{server['ws']}/ws/assemblies/{assembly.slug}/", additional_headers={"Cookie": cookie}
    ) as ws:
        receive(ws)
        send(ws, type="position", proposal=open_call.pk, kind="agree", request_id="c1")
        assert receive_until(ws, lambda f: f["type"] not in PUSHED)["type"] == "ack"


def test_a_position_on_one_process_reaches_a_client_on_another_within_a_second(
    start_server, assembly, participant, facilitator, open_call
):
    first, second = start_server(), start_server()
    with (
        open_socket(first, assembly.slug, participant) as actor,
        open_socket(second, assembly.slug, facilitator) as watcher,
    ):
        receive(actor), receive(watcher)
        send(actor, type="position", proposal=open_call.pk, kind="stand_aside", reason="Away.")
        receive_until(actor, lambda f: f["type"] == "ack")
        acked = time.monotonic()
        frame = receive_until(
            watcher, lambda f: proposal_in(f, open_call.pk)["tally"]["stand_aside"] == 1
        )
        assert time.monotonic() - acked < 1.0
    assert proposal_in(frame, open_call.pk)["stand_asides"] == [
        {"member": "Pat", "member_id": participant.pk, "reason": "Away.", "revision": 1}
    ]


def test_a_position_taken_over_http_reaches_the_sockets(
    server, client, assembly, participant, open_call
):
    with open_socket(server, assembly.slug, participant) as ws:
        receive(ws)
        client.force_login(participant.user)
        url = f"/a/{assembly.slug}/p/{open_call.pk}/position/"
        assert client.post(url, {"kind": "agree"}).status_code == 302
        frame = receive_until(
            ws,
            lambda f: f["type"] == "snapshot" and proposal_in(f, open_call.pk)["tally"]["agree"],
        )
    assert frame["seq"] > 0


def test_hand_signals_are_aggregated_and_fade(start_server, assembly, make_member, meeting):
    server = start_server(HAND_SIGNAL_SECONDS="1.5")
    members = [make_member() for _ in range(3)]
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(open_socket(server, assembly.slug, m)) for m in members]
        for ws in sockets:
            receive(ws)
            send(ws, type="signal", signal="agree")
        watcher = sockets[0]
        receive_until(watcher, lambda f: f.get("meeting") and f["meeting"]["signals"]["agree"] == 3)
        faded = receive_until(
            watcher, lambda f: f.get("meeting") and f["meeting"]["signals"]["agree"] == 0, timeout=6
        )
        assert faded["meeting"]["signals"]["agree"] == 0


def test_the_stack_puts_points_of_process_first(server, assembly, make_member, meeting):
    speaker, process = make_member("Speaker"), make_member("Process")
    with (
        open_socket(server, assembly.slug, speaker) as a,
        open_socket(server, assembly.slug, process) as b,
    ):
        receive(a), receive(b)
        send(a, type="stack", action="raise", kind="speak", request_id="s1")
        receive_until(a, lambda f: f["type"] == "ack")
        send(b, type="stack", action="raise", kind="point_of_process", request_id="p1")
        receive_until(b, lambda f: f["type"] == "ack")
        frame = receive_until(a, lambda f: f.get("meeting") and len(f["meeting"]["stack"]) == 2)
        assert [e["member"] for e in frame["meeting"]["stack"]] == ["Process", "Speaker"]
        send(a, type="stack", action="lower", request_id="s2")
        receive_until(a, lambda f: f["type"] == "ack")
        frame = receive_until(a, lambda f: f.get("meeting") and len(f["meeting"]["stack"]) == 1)
        assert frame["meeting"]["stack"][0]["member"] == "Process"


def stack_rows() -> list[dict]:
    from assemblies.models import StackEntry

    return list(StackEntry.objects.order_by("pk").values())


def test_it_refuses_a_facilitation_frame_of_a_participant(server, assembly, participant, meeting):
    from sittings import floor

    floor.raise_hand(actor=participant, meeting=meeting, kind="speak")
    before = stack_rows()
    with open_socket(server, assembly.slug, participant) as ws:
        receive(ws)
        send(ws, type="facilitate", action="call_next", request_id="f1")
        error = receive_until(ws, lambda f: f["type"] == "error")
    assert error["code"] == "not_facilitator" and error["request_id"] == "f1"
    assert error["message"]
    assert stack_rows() == before
    assert not any(row["state"] == "speaking" for row in before)


def test_it_lets_the_facilitator_call_the_next_speaker_over_the_socket(
    server, assembly, facilitator, participant, meeting
):
    from assemblies.models import Meeting, StackEntry
    from sittings import floor

    entry = floor.raise_hand(actor=participant, meeting=meeting, kind="speak")
    with open_socket(server, assembly.slug, facilitator) as ws:
        first = receive(ws)
        assert first["meeting"]["speaker"] is None
        send(ws, type="facilitate", action="call_next", request_id="f2")
        ack = receive_until(ws, lambda f: f["type"] in ("ack", "error"))
        assert ack == {"type": "ack", "request_id": "f2", "speaker": entry.pk}
        frame = receive_until(
            ws, lambda f: f["type"] == "snapshot" and f["meeting"]["speaker"] is not None
        )
    speaker = frame["meeting"]["speaker"]
    assert speaker["id"] == entry.pk and speaker["member"] == "Pat"
    assert speaker["state"] == "speaking"
    assert frame["meeting"]["stack"] == []
    assert frame["meeting"]["timer"]["started_at"] is not None
    assert StackEntry.objects.get(pk=entry.pk).state == "speaking"
    assert Meeting.objects.get(pk=meeting.pk).timer_started_at is not None


def test_a_flooding_client_gets_errors_then_is_disconnected_and_others_are_unaffected(
    server, assembly, participant, make_member, open_call
):
    bystander = make_member("Bystander")
    with (
        open_socket(server, assembly.slug, participant) as flood,
        open_socket(server, assembly.slug, bystander) as calm,
    ):
        receive(flood), receive(calm)
        for number in range(300):
            try:
                send(flood, type="signal", signal="agree", request_id=f"f{number}")
            except Exception:
                break  # closed by the server
        codes = []
        with contextlib.suppress(Exception):
            while True:
                frame = receive(flood, timeout=5)
                if frame["type"] == "error":
                    codes.append(frame["code"])
        assert "rate_limited" in codes
        assert flood.close_code == 4429
        send(calm, type="position", proposal=open_call.pk, kind="agree", request_id="calm")
        assert receive_until(calm, lambda f: f["type"] not in PUSHED)["type"] == "ack"


def test_a_members_other_sockets_are_told_when_her_position_changes(
    start_server, client, assembly, participant, make_member, open_call
):
    """ "Your position" follows across tabs and devices: on another process too, and only
    the member's own sockets hear of it."""
    first, second = start_server(), start_server()
    other = make_member("Quinn")
    with (
        open_socket(first, assembly.slug, participant) as own_tab,
        open_socket(second, assembly.slug, participant) as own_phone,
        open_socket(second, assembly.slug, other) as someone_else,
    ):
        for ws in (own_tab, own_phone, someone_else):
            receive(ws)
        client.force_login(participant.user)
        url = f"/a/{assembly.slug}/p/{open_call.pk}/position/"
        assert client.post(url, {"kind": "agree"}).status_code == 302
        for ws in (own_tab, own_phone):
            assert receive_until(ws, lambda f: f["type"] == "mine")["seq"] > 0
        frame = receive_until(
            someone_else, lambda f: f["type"] == "snapshot" and f["proposals"][0]["tally"]["agree"]
        )
        assert frame["type"] == "snapshot"
        with pytest.raises(TimeoutError):
            receive_until(someone_else, lambda f: f["type"] == "mine", timeout=1.5)
