"""Issue "A real sitting without a stumble", point 5: someone in the hall without a phone
is put on the stack by name. They speak like everyone else but are not made a member, and
they are shown as "Rosa (in the hall)" on the console, in the live snapshot, the public
log and the minutes. Driven over HTTP through the console, as a facilitator does it.
"""

import json

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.authtoken.models import Token

from assemblies.models import LogEntry, Membership, StackEntry, StackKind, StackState
from sittings import floor, live
from sittings import services as sitting_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def sitting(assembly, facilitator):
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")
    return sitting_services.start_meeting(actor=facilitator, meeting=meeting)


@pytest.fixture
def console(client, facilitator):
    client.force_login(facilitator.user)
    return client


def act(console, assembly, action, **data):
    url = reverse("sittings:console_action", args=[assembly.slug, action])
    response = console.post(url, data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def console_page(console, assembly) -> str:
    return console.get(reverse("sittings:console", args=[assembly.slug])).content.decode()


def add(console, assembly, sitting, name, kind="speak"):
    return act(console, assembly, "add-speaker", meeting=sitting.pk, display_name=name, kind=kind)


def snapshot(assembly) -> dict:
    return json.loads(live.encode(live.build_snapshot(assembly.pk, 1)))["meeting"]


def test_a_hall_speaker_is_on_the_stack_without_becoming_a_member(console, assembly, sitting):
    members, users = Membership.objects.count(), User.objects.count()
    page = add(console, assembly, sitting, "Rosa")
    assert (Membership.objects.count(), User.objects.count()) == (members, users)
    entry = StackEntry.objects.get()
    assert (entry.member, entry.hall_name, entry.state) == (None, "Rosa", StackState.WAITING)
    assert "Rosa (in the hall)" in page
    assert snapshot(assembly)["stack"] == [
        {
            "id": entry.pk,
            "member": "Rosa (in the hall)",
            "member_id": None,
            "from_hall": True,
            "kind": "speak",
            "state": "waiting",
            "priority": 0,
            "jumps_queue": False,
        }
    ]


def test_the_whole_turn_of_a_hall_speaker(console, client, assembly, sitting, participant):
    floor.raise_hand(actor=participant, meeting=sitting, kind=StackKind.SPEAK)
    add(console, assembly, sitting, "Rosa", kind=StackKind.POINT_OF_PROCESS)

    page = act(console, assembly, "call-next", meeting=sitting.pk)  # a point of process first
    speaker = snapshot(assembly)["speaker"]
    assert (speaker["member"], speaker["from_hall"], speaker["state"]) == (
        "Rosa (in the hall)",
        True,
        "speaking",
    )
    assert "Rosa (in the hall)" in page
    assert [e["member"] for e in snapshot(assembly)["stack"]] == ["Pat"]
    assert snapshot(assembly)["stack"][0]["from_hall"] is False

    act(console, assembly, "call-next", meeting=sitting.pk)  # Rosa is done, Pat speaks
    rosa = StackEntry.objects.get(hall_name="Rosa")
    assert rosa.state == StackState.DONE and rosa.done_at is not None
    assert snapshot(assembly)["speaker"]["member"] == "Pat"

    log = client.get(reverse("sittings:log", args=[assembly.slug])).content.decode()
    assert "Fran put Rosa, in the hall, on the stack (Point of process)" in log
    assert "Fran gave the floor to Rosa (in the hall) (Point of process)" in log
    minutes = client.get(
        reverse("sittings:minutes_md", args=[assembly.slug, sitting.pk])
    ).content.decode()
    assert "- Rosa (in the hall)\n" in minutes.split("## Agenda")[0]  # among those present
    assert "gave the floor to Rosa (in the hall)" in minutes


@pytest.mark.parametrize(
    ("action", "state", "sentence"),
    [
        ("skip", StackState.SKIPPED, "Fran skipped Rosa (in the hall) on the stack"),
        ("remove-entry", StackState.REMOVED, "Fran took Rosa (in the hall) off the stack"),
    ],
)
def test_a_hall_speaker_can_be_skipped_or_removed(
    console, assembly, sitting, action, state, sentence
):
    add(console, assembly, sitting, "Rosa")
    entry = StackEntry.objects.get()
    act(console, assembly, action, entry=entry.pk)
    assert StackEntry.objects.get().state == state
    assert snapshot(assembly)["stack"] == []
    assert sentence in console_page(console, assembly)


def test_a_hall_speaker_can_be_stepped_up(console, assembly, sitting, participant):
    floor.raise_hand(actor=participant, meeting=sitting, kind=StackKind.SPEAK)
    add(console, assembly, sitting, "Rosa")
    rosa = StackEntry.objects.get(hall_name="Rosa")
    page = act(console, assembly, "priority", entry=rosa.pk)
    assert "Fran moved Rosa (in the hall) up the stack" in page
    assert [e["member"] for e in snapshot(assembly)["stack"]] == ["Rosa (in the hall)", "Pat"]


def test_adding_the_same_hall_speaker_twice_keeps_one_place(console, assembly, sitting):
    add(console, assembly, sitting, "Rosa")
    add(console, assembly, sitting, "ROSA ")
    add(console, assembly, sitting, "Rosa", kind=StackKind.CLARIFYING_QUESTION)
    assert sorted(StackEntry.objects.values_list("hall_name", "kind")) == [
        ("Rosa", "clarifying_question"),
        ("Rosa", "speak"),
    ]


def test_a_hall_speaker_may_share_a_members_name_and_is_told_apart(
    console, assembly, sitting, participant
):
    floor.raise_hand(actor=participant, meeting=sitting, kind=StackKind.SPEAK)
    add(console, assembly, sitting, "Pat")
    assert [e["member"] for e in snapshot(assembly)["stack"]] == ["Pat", "Pat (in the hall)"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Rosa (facilitator)", "cannot claim a role"),
        ("Moderadora", "cannot claim a role"),
        ("Animateur", "cannot claim a role"),
        ("R\u200bosa", "Use visible letters"),
        ("\u202eRosa", "Use visible letters"),
        ("Ro\x07sa", "control characters"),
        ("   ", "Please give a name"),
    ],
)
def test_a_hall_name_passes_the_checks_of_every_name(console, assembly, sitting, name, message):
    page = add(console, assembly, sitting, name)
    assert message in page
    assert not StackEntry.objects.exists()


def test_the_progressive_stack_knows_a_hall_speaker_has_spoken(
    console, assembly, sitting, participant
):
    act(console, assembly, "progressive", meeting=sitting.pk, on="1")
    add(console, assembly, sitting, "Rosa")
    act(console, assembly, "call-next", meeting=sitting.pk)  # Rosa speaks
    act(console, assembly, "call-next", meeting=sitting.pk)  # and is done
    add(console, assembly, sitting, "rosa")  # asks again
    floor.raise_hand(actor=participant, meeting=sitting, kind=StackKind.SPEAK)  # later
    assert [e["member"] for e in snapshot(assembly)["stack"]] == ["Pat", "rosa (in the hall)"]


def test_the_console_shows_in_the_hall_in_the_readers_language(console, assembly, sitting):
    add(console, assembly, sitting, "Rosa")
    console.cookies["django_language"] = "es"
    assert "Rosa (en la sala)" in console_page(console, assembly)


def test_an_entry_is_a_members_or_a_hall_speakers_never_both_nor_neither(sitting, participant):
    for fields in ({"member": participant, "hall_name": "Rosa"}, {"hall_name": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StackEntry.objects.create(meeting=sitting, kind="speak", **fields)


def test_calling_nobody_after_a_hall_speaker_still_reads_well(console, assembly, sitting):
    add(console, assembly, sitting, "Rosa")
    act(console, assembly, "call-next", meeting=sitting.pk)
    act(console, assembly, "call-next", meeting=sitting.pk)
    texts = [
        e.action for e in LogEntry.objects.filter(meeting=sitting).order_by("created_at", "pk")
    ]
    assert texts[-2:] == ["assemblies.stack.called", "assemblies.stack.called"]
    assert snapshot(assembly)["speaker"] is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_facilitator_calls_a_hall_speaker_over_the_socket(
    start_server, assembly, facilitator, sitting
):
    from websockets.sync.client import connect

    entry = floor.add_speaker_from_the_floor(
        actor=facilitator, meeting=sitting, display_name="Rosa"
    )
    server = start_server()
    token = Token.objects.get_or_create(user=facilitator.user)[0].key
    with connect(
        f"{server['ws']}/ws/assemblies/{assembly.slug}/",
        additional_headers={"Authorization": f"Token {token}"},
        open_timeout=5,
    ) as ws:
        first = json.loads(ws.recv(timeout=5))
        assert first["meeting"]["stack"][0]["member"] == "Rosa (in the hall)"
        ws.send(json.dumps({"type": "facilitate", "action": "call_next", "request_id": "h1"}))
        frame = {}
        while not (frame.get("type") == "snapshot" and frame["meeting"]["speaker"]):
            frame = json.loads(ws.recv(timeout=5))
    speaker = frame["meeting"]["speaker"]
    assert (speaker["id"], speaker["member"], speaker["from_hall"]) == (
        entry.pk,
        "Rosa (in the hall)",
        True,
    )
