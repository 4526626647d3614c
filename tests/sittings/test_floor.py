"""The floor of a sitting: the pure stack order, hands, hand signals and the stack keeper.

Data is built through the services; every refusal also checks that the database is left
exactly as it was.
"""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assemblies import services as assembly_services
from assemblies.models import (
    HandSignal,
    LogEntry,
    Meeting,
    MeetingState,
    Role,
    Signal,
    StackEntry,
    StackKind,
    StackState,
)
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from sittings import floor, log_text
from sittings import services as sitting_services
from sittings.floor import PRIORITY_KINDS, Waiting, order_stack
from tests.fixtures.state import db_state

T0 = datetime(2011, 9, 17, 19, 0, tzinfo=UTC)


def waiting(entry_id, member_id=None, kind=StackKind.SPEAK, priority=0, at=None):
    return Waiting(
        entry_id=entry_id,
        speaker=member_id if member_id is not None else entry_id,
        kind=str(kind),
        priority=priority,
        requested_at=at or T0 + timedelta(seconds=entry_id),
    )


def ids(entries) -> list[int]:
    return [e.entry_id for e in entries]


def refused(call, exc_type, code):
    before = db_state()
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    assert db_state() == before
    return info.value


# --- order_stack (pure) ----------------------------------------------------------------------


def test_it_calls_points_of_process_then_questions_then_responses_then_the_rest():
    entries = [
        waiting(1, kind=StackKind.SPEAK),
        waiting(2, kind=StackKind.POINT_OF_INFORMATION),
        waiting(3, kind=StackKind.DIRECT_RESPONSE),
        waiting(4, kind=StackKind.CLARIFYING_QUESTION),
        waiting(5, kind=StackKind.POINT_OF_PROCESS),
    ]
    assert ids(order_stack(entries, progressive=False, spoken=set())) == [5, 4, 3, 1, 2]


def test_it_serves_first_come_first_within_a_band():
    entries = [waiting(3, at=T0 + timedelta(seconds=9)), waiting(1), waiting(2)]
    assert ids(order_stack(entries, progressive=False, spoken=set())) == [1, 2, 3]


def test_it_breaks_a_tie_in_time_by_entry_id():
    entries = [waiting(2, at=T0), waiting(1, at=T0)]
    assert ids(order_stack(entries, progressive=False, spoken=set())) == [1, 2]


def test_it_puts_the_keepers_priority_first_within_a_band_only():
    entries = [
        waiting(1),
        waiting(2, priority=3),
        waiting(3, kind=StackKind.POINT_OF_PROCESS),
        waiting(4, kind=StackKind.POINT_OF_PROCESS, priority=1),
    ]
    assert ids(order_stack(entries, progressive=False, spoken=set())) == [4, 3, 2, 1]


def test_it_puts_people_who_have_not_spoken_first_on_a_progressive_stack():
    entries = [waiting(1, member_id=10), waiting(2, member_id=20), waiting(3, member_id=30)]
    ordered = order_stack(entries, progressive=True, spoken={10, 20})
    assert ids(ordered) == [3, 1, 2]


def test_it_ignores_who_has_spoken_when_the_stack_is_not_progressive():
    entries = [waiting(1, member_id=10), waiting(2, member_id=20)]
    assert ids(order_stack(entries, progressive=False, spoken={10})) == [1, 2]


def test_it_keeps_priority_kinds_ahead_of_the_progressive_rule():
    entries = [waiting(1, member_id=10), waiting(2, member_id=20, kind=StackKind.DIRECT_RESPONSE)]
    assert ids(order_stack(entries, progressive=True, spoken={20})) == [2, 1]


def test_it_puts_the_keepers_priority_before_the_progressive_rule():
    entries = [waiting(1, member_id=10), waiting(2, member_id=20, priority=1)]
    assert ids(order_stack(entries, progressive=True, spoken={20})) == [2, 1]


def test_it_orders_an_empty_stack():
    assert order_stack([], progressive=True, spoken={1}) == []


waiting_entries = st.lists(
    st.builds(
        lambda member, kind, priority, offset: (member, kind, priority, offset),
        st.integers(1, 6),
        st.sampled_from(list(StackKind.values)),
        st.integers(-10, 10),
        st.integers(0, 600),
    ),
    max_size=25,
).map(
    lambda rows: [
        Waiting(n, member, kind, priority, T0 + timedelta(seconds=offset))
        for n, (member, kind, priority, offset) in enumerate(rows, start=1)
    ]
)


@given(
    entries=waiting_entries,
    progressive=st.booleans(),
    spoken=st.sets(st.integers(1, 6)),
)
def test_it_orders_any_stack_as_a_permutation_with_priority_kinds_first(
    entries, progressive, spoken
):
    ordered = order_stack(entries, progressive=progressive, spoken=spoken)
    assert sorted(ids(ordered)) == sorted(ids(entries))
    priority_positions = [i for i, e in enumerate(ordered) if e.kind in PRIORITY_KINDS]
    ordinary_positions = [i for i, e in enumerate(ordered) if e.kind not in PRIORITY_KINDS]
    if priority_positions and ordinary_positions:
        assert max(priority_positions) < min(ordinary_positions)
    bands = [PRIORITY_KINDS.index(e.kind) if e.kind in PRIORITY_KINDS else 3 for e in ordered]
    assert bands == sorted(bands)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def meeting(assembly, facilitator):
    return sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="GA")


@pytest.fixture
def live_meeting(meeting, facilitator):
    return sitting_services.start_meeting(actor=facilitator, meeting=meeting)


def fresh(meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


def entry_state(entry) -> str:
    return StackEntry.objects.get(pk=entry.pk).state


# --- raise_hand / lower_hand ---------------------------------------------------------------


def test_it_puts_a_raised_hand_on_the_stack(live_meeting, participant):
    entry = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    assert entry.state == StackState.WAITING
    assert entry.member == participant
    assert entry.meeting == live_meeting


def test_it_keeps_the_place_when_a_hand_is_raised_again_for_the_same_kind(
    live_meeting, participant
):
    first = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    again = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    other = floor.raise_hand(
        actor=participant, meeting=live_meeting, kind=StackKind.CLARIFYING_QUESTION
    )
    assert again.pk == first.pk
    assert other.pk != first.pk
    assert StackEntry.objects.filter(meeting=live_meeting).count() == 2


def test_it_refuses_a_hand_when_the_sitting_is_not_in_session(meeting, participant):
    refused(
        lambda: floor.raise_hand(actor=participant, meeting=meeting, kind=StackKind.SPEAK),
        Conflict,
        "meeting_not_in_session",
    )


def test_it_refuses_a_hand_without_a_sitting(assembly, participant):
    refused(
        lambda: floor.raise_hand(actor=participant, meeting=None, kind=StackKind.SPEAK),
        NotFound,
        "meeting_not_found",
    )


def test_it_refuses_a_hand_of_an_observer(live_meeting, observer):
    refused(
        lambda: floor.raise_hand(actor=observer, meeting=live_meeting, kind=StackKind.SPEAK),
        PermissionDenied,
        "observer",
    )


def test_it_refuses_a_hand_of_an_outsider(live_meeting, outsider):
    refused(
        lambda: floor.raise_hand(actor=outsider, meeting=live_meeting, kind=StackKind.SPEAK),
        NotFound,
        "meeting_not_found",
    )


def test_it_refuses_an_unknown_kind_of_hand(live_meeting, participant):
    refused(
        lambda: floor.raise_hand(actor=participant, meeting=live_meeting, kind="cartwheel"),
        DomainError,
        "invalid_kind",
    )


def test_it_lowers_a_hand_of_one_kind(live_meeting, participant):
    speak = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    ask = floor.raise_hand(
        actor=participant, meeting=live_meeting, kind=StackKind.CLARIFYING_QUESTION
    )
    assert floor.lower_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK) == 1
    assert entry_state(speak) == StackState.WITHDRAWN
    assert entry_state(ask) == StackState.WAITING


def test_it_lowers_all_hands(live_meeting, participant):
    floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.DIRECT_RESPONSE)
    assert floor.lower_hand(actor=participant, meeting=live_meeting) == 2
    assert not StackEntry.objects.filter(state=StackState.WAITING).exists()
    assert floor.lower_hand(actor=participant, meeting=live_meeting) == 0


def test_it_lowers_only_ones_own_hand(live_meeting, participant, make_member):
    other = make_member("Quinn")
    theirs = floor.raise_hand(actor=other, meeting=live_meeting, kind=StackKind.SPEAK)
    assert floor.lower_hand(actor=participant, meeting=live_meeting) == 0
    assert entry_state(theirs) == StackState.WAITING


def test_it_refuses_to_lower_a_hand_of_an_observer(live_meeting, observer):
    refused(
        lambda: floor.lower_hand(actor=observer, meeting=live_meeting),
        PermissionDenied,
        "observer",
    )


# --- hand signals ------------------------------------------------------------------------------


def test_it_counts_hand_signals(live_meeting, participant, make_member):
    floor.show_signal(actor=participant, meeting=live_meeting, signal=Signal.AGREE)
    floor.show_signal(actor=make_member(), meeting=live_meeting, signal=Signal.AGREE)
    floor.show_signal(actor=make_member(), meeting=live_meeting, signal=Signal.WRAP_UP)
    counts = floor.signal_counts(live_meeting)
    assert counts["agree"] == 2
    assert counts["wrap_up"] == 1
    assert counts["disagree"] == 0
    assert set(counts) == set(Signal.values)


def test_it_replaces_a_members_signal_with_the_latest(live_meeting, participant):
    floor.show_signal(actor=participant, meeting=live_meeting, signal=Signal.AGREE)
    floor.show_signal(actor=participant, meeting=live_meeting, signal=Signal.DISAGREE)
    counts = floor.signal_counts(live_meeting)
    assert counts["agree"] == 0
    assert counts["disagree"] == 1
    assert HandSignal.objects.count() == 1


def test_it_lets_old_signals_fade(settings, live_meeting, participant):
    settings.HAND_SIGNAL_SECONDS = 5
    floor.show_signal(actor=participant, meeting=live_meeting, signal=Signal.AGREE)
    shown = HandSignal.objects.get().shown_at
    assert floor.signal_counts(live_meeting, now=shown + timedelta(seconds=4))["agree"] == 1
    assert floor.signal_counts(live_meeting, now=shown + timedelta(seconds=6))["agree"] == 0


def test_it_refuses_an_unknown_signal(live_meeting, participant):
    refused(
        lambda: floor.show_signal(actor=participant, meeting=live_meeting, signal="cartwheel"),
        DomainError,
        "invalid_signal",
    )


def test_it_refuses_a_signal_of_an_observer(live_meeting, observer):
    refused(
        lambda: floor.show_signal(actor=observer, meeting=live_meeting, signal=Signal.AGREE),
        PermissionDenied,
        "observer",
    )


def test_it_refuses_a_signal_when_not_in_session(meeting, participant):
    refused(
        lambda: floor.show_signal(actor=participant, meeting=meeting, signal=Signal.AGREE),
        Conflict,
        "meeting_not_in_session",
    )


# --- call_next -----------------------------------------------------------------------------


def test_it_calls_the_next_speaker_and_starts_the_timer(live_meeting, facilitator, make_member):
    first, second = make_member("Ana"), make_member("Ben")
    a = floor.raise_hand(actor=first, meeting=live_meeting, kind=StackKind.SPEAK)
    b = floor.raise_hand(actor=second, meeting=live_meeting, kind=StackKind.POINT_OF_PROCESS)

    called = floor.call_next(actor=facilitator, meeting=live_meeting)
    assert called.pk == b.pk
    assert entry_state(b) == StackState.SPEAKING
    assert StackEntry.objects.get(pk=b.pk).called_at is not None
    assert fresh(live_meeting).timer_started_at is not None

    called = floor.call_next(actor=facilitator, meeting=live_meeting)
    assert called.pk == a.pk
    done = StackEntry.objects.get(pk=b.pk)
    assert done.state == StackState.DONE and done.done_at is not None
    assert entry_state(a) == StackState.SPEAKING


def test_it_clears_the_floor_and_stops_the_timer_on_an_empty_stack(
    live_meeting, facilitator, participant
):
    entry = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.call_next(actor=facilitator, meeting=live_meeting)
    assert floor.call_next(actor=facilitator, meeting=live_meeting) is None
    assert entry_state(entry) == StackState.DONE
    assert not StackEntry.objects.filter(state=StackState.SPEAKING).exists()
    assert fresh(live_meeting).timer_started_at is None


def test_it_calls_people_who_have_not_spoken_first_on_a_progressive_stack(
    live_meeting, facilitator, make_member
):
    ana, ben = make_member("Ana"), make_member("Ben")
    floor.set_progressive_stack(actor=facilitator, meeting=live_meeting, on=True)
    floor.raise_hand(actor=ana, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.call_next(actor=facilitator, meeting=live_meeting)  # Ana speaks
    again = floor.raise_hand(actor=ana, meeting=live_meeting, kind=StackKind.SPEAK)
    newcomer = floor.raise_hand(actor=ben, meeting=live_meeting, kind=StackKind.SPEAK)

    called = floor.call_next(actor=facilitator, meeting=live_meeting)
    assert called.pk == newcomer.pk  # Ben raised his hand later but has not spoken yet
    assert entry_state(again) == StackState.WAITING


def test_it_calls_first_come_first_without_the_progressive_stack(
    live_meeting, facilitator, make_member
):
    ana, ben = make_member("Ana"), make_member("Ben")
    floor.raise_hand(actor=ana, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.call_next(actor=facilitator, meeting=live_meeting)
    again = floor.raise_hand(actor=ana, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.raise_hand(actor=ben, meeting=live_meeting, kind=StackKind.SPEAK)
    assert floor.call_next(actor=facilitator, meeting=live_meeting).pk == again.pk


def test_it_refuses_to_call_next_when_not_in_session(meeting, facilitator):
    refused(
        lambda: floor.call_next(actor=facilitator, meeting=meeting),
        Conflict,
        "meeting_not_in_session",
    )


# --- take_off_stack / raise_priority ---------------------------------------------------------


@pytest.mark.parametrize(
    "skip,state,action",
    [
        (True, StackState.SKIPPED, "assemblies.stack.skipped"),
        (False, StackState.REMOVED, "assemblies.stack.removed"),
    ],
)
def test_it_takes_someone_off_the_stack(
    live_meeting, facilitator, participant, skip, state, action
):
    entry = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.take_off_stack(actor=facilitator, entry=entry, skip=skip)
    taken = StackEntry.objects.get(pk=entry.pk)
    assert taken.state == state and taken.done_at is not None
    assert LogEntry.objects.filter(action=action, data__member="Pat").exists()
    assert floor.call_next(actor=facilitator, meeting=live_meeting) is None


def test_it_refuses_to_take_off_an_entry_no_longer_on_the_stack(
    live_meeting, facilitator, participant
):
    entry = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.lower_hand(actor=participant, meeting=live_meeting)
    refused(
        lambda: floor.take_off_stack(actor=facilitator, entry=entry, skip=True),
        Conflict,
        "entry_done",
    )


def test_it_moves_someone_up_within_their_band(live_meeting, facilitator, make_member):
    ana, ben = make_member("Ana"), make_member("Ben")
    floor.raise_hand(actor=ana, meeting=live_meeting, kind=StackKind.SPEAK)
    later = floor.raise_hand(actor=ben, meeting=live_meeting, kind=StackKind.SPEAK)
    raised = floor.raise_priority(actor=facilitator, entry=later)
    assert raised.priority == 1
    assert StackEntry.objects.get(pk=later.pk).priority == 1
    assert floor.call_next(actor=facilitator, meeting=live_meeting).pk == later.pk


def test_it_caps_the_priority(live_meeting, facilitator, participant):
    entry = floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    assert floor.raise_priority(actor=facilitator, entry=entry, by=50).priority == 10
    assert floor.raise_priority(actor=facilitator, entry=entry, by=-50).priority == -10


# --- set_progressive_stack / set_timer -----------------------------------------------------


def test_it_turns_the_progressive_stack_on_and_off(live_meeting, facilitator):
    floor.set_progressive_stack(actor=facilitator, meeting=live_meeting, on=True)
    assert fresh(live_meeting).progressive_stack is True
    floor.set_progressive_stack(actor=facilitator, meeting=live_meeting, on=False)
    assert fresh(live_meeting).progressive_stack is False


def test_it_starts_and_stops_the_timer(live_meeting, facilitator):
    floor.set_timer(actor=facilitator, meeting=live_meeting, running=True, seconds=90)
    meeting = fresh(live_meeting)
    assert meeting.timer_seconds == 90 and meeting.timer_started_at is not None
    floor.set_timer(actor=facilitator, meeting=live_meeting, running=False)
    meeting = fresh(live_meeting)
    assert meeting.timer_seconds == 90 and meeting.timer_started_at is None


@pytest.mark.parametrize("seconds", [10, 3600])
def test_it_accepts_the_bounds_of_speaking_time(live_meeting, facilitator, seconds):
    floor.set_timer(actor=facilitator, meeting=live_meeting, running=True, seconds=seconds)
    assert fresh(live_meeting).timer_seconds == seconds


@pytest.mark.parametrize("seconds", [0, 9, 3601])
def test_it_refuses_speaking_time_out_of_bounds(live_meeting, facilitator, seconds):
    refused(
        lambda: floor.set_timer(
            actor=facilitator, meeting=live_meeting, running=True, seconds=seconds
        ),
        DomainError,
        "invalid_seconds",
    )


# --- the keeper's actions: permissions and the public log ----------------------------------


def keeper_actions(meeting, entry):
    """Every stack keeper / timekeeper action, as (name, call(actor))."""
    return {
        "call_next": lambda actor: floor.call_next(actor=actor, meeting=meeting),
        "skip": lambda actor: floor.take_off_stack(actor=actor, entry=entry, skip=True),
        "remove": lambda actor: floor.take_off_stack(actor=actor, entry=entry, skip=False),
        "priority": lambda actor: floor.raise_priority(actor=actor, entry=entry),
        "progressive": lambda actor: floor.set_progressive_stack(
            actor=actor, meeting=meeting, on=True
        ),
        "timer_start": lambda actor: floor.set_timer(
            actor=actor, meeting=meeting, running=True, seconds=60
        ),
        "timer_stop": lambda actor: floor.set_timer(actor=actor, meeting=meeting, running=False),
    }


KEEPER_ACTIONS = list(keeper_actions(None, None))

LOGGED = {
    "call_next": ("assemblies.stack.called", "Fran gave the floor to Pat (To speak)"),
    "skip": ("assemblies.stack.skipped", "Fran skipped Pat on the stack"),
    "remove": ("assemblies.stack.removed", "Fran took Pat off the stack"),
    "priority": ("assemblies.stack.priority", "Fran moved Pat up the stack"),
    "progressive": ("assemblies.stack.progressive", "Fran turned the progressive stack on"),
    "timer_start": ("assemblies.timer.started", "Fran started the speaker timer (60 s)"),
    "timer_stop": ("assemblies.timer.stopped", "Fran stopped the speaker timer"),
}


@pytest.fixture
def waiting_entry(live_meeting, participant):
    return floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)


@pytest.mark.parametrize("action", KEEPER_ACTIONS)
@pytest.mark.parametrize(
    "who,error,code",
    [
        ("participant", PermissionDenied, "not_facilitator"),
        ("observer", PermissionDenied, "not_facilitator"),
        ("outsider", NotFound, "meeting_not_found"),
    ],
)
def test_it_refuses_keeper_actions_to_anyone_but_a_facilitator(
    request, live_meeting, waiting_entry, observer, outsider, action, who, error, code
):
    actor = request.getfixturevalue(who)
    call = keeper_actions(live_meeting, waiting_entry)[action]
    refused(lambda: call(actor), error, code)


@pytest.mark.parametrize("action", KEEPER_ACTIONS)
def test_it_refuses_keeper_actions_of_a_removed_facilitator(
    live_meeting, waiting_entry, facilitator, make_member, action
):
    other = make_member("Cleo")
    other = assembly_services.change_role(actor=facilitator, member=other, role=Role.FACILITATOR)
    assembly_services.remove_member(actor=facilitator, member=other)
    call = keeper_actions(live_meeting, waiting_entry)[action]
    refused(lambda: call(other), PermissionDenied, "not_a_member")


@pytest.mark.parametrize("action", KEEPER_ACTIONS)
def test_it_logs_every_keeper_action_in_words(live_meeting, waiting_entry, facilitator, action):
    code, sentence = LOGGED[action]
    before = set(LogEntry.objects.values_list("pk", flat=True))
    keeper_actions(live_meeting, waiting_entry)[action](facilitator)
    new = LogEntry.objects.exclude(pk__in=before)
    assert [e.action for e in new] == [code]
    entry = new.get()
    assert entry.actor == facilitator
    assert entry.meeting_id == live_meeting.pk
    assert log_text.describe(entry) == sentence


def test_it_logs_calling_next_on_an_empty_stack_in_words(live_meeting, facilitator):
    floor.call_next(actor=facilitator, meeting=live_meeting)
    entry = LogEntry.objects.get(action="assemblies.stack.called")
    text = log_text.describe(entry)
    assert text.startswith("Fran ")
    assert text == "Fran ended the turn: nobody was waiting to speak"


def test_it_logs_turning_the_progressive_stack_off(live_meeting, facilitator):
    floor.set_progressive_stack(actor=facilitator, meeting=live_meeting, on=False)
    entry = LogEntry.objects.get(action="assemblies.stack.progressive")
    assert log_text.describe(entry) == "Fran turned the progressive stack off"


def test_it_does_not_log_hands_or_signals(live_meeting, participant):
    before = LogEntry.objects.count()
    floor.raise_hand(actor=participant, meeting=live_meeting, kind=StackKind.SPEAK)
    floor.show_signal(actor=participant, meeting=live_meeting, signal=Signal.AGREE)
    floor.lower_hand(actor=participant, meeting=live_meeting)
    assert LogEntry.objects.count() == before


def test_it_refuses_keeper_actions_after_the_sitting_is_adjourned(
    live_meeting, waiting_entry, facilitator
):
    sitting_services.adjourn_meeting(actor=facilitator, meeting=live_meeting)
    entry = StackEntry.objects.get(pk=waiting_entry.pk)
    for call in keeper_actions(fresh(live_meeting), entry).values():
        refused(lambda call=call: call(facilitator), Conflict, "meeting_not_in_session")


def test_it_checks_the_sitting_under_the_lock_not_a_stale_copy(
    live_meeting, waiting_entry, facilitator
):
    """A sitting adjourned since the caller read it (a concurrent adjourn) stays adjourned."""
    sitting_services.adjourn_meeting(
        actor=facilitator, meeting=Meeting.objects.get(pk=live_meeting.pk)
    )
    assert live_meeting.state == MeetingState.IN_SESSION  # the caller's copy is stale
    for call in keeper_actions(live_meeting, waiting_entry).values():
        refused(lambda call=call: call(facilitator), Conflict, "meeting_not_in_session")
