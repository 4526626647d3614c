"""Real concurrency on PostgreSQL: threads with their own connections, released together.

Each worker opens its connection first, waits at a barrier, runs one service call and
closes its connection. The services' row locks (see proposals/services/_common.py) must make every
outcome either applied and recorded, or refused with a domain error: never lost.
"""

import threading
import time
from collections import Counter

import pytest
from django.db import connection

from core.errors import Conflict, DomainError
from proposals import chain
from proposals import services as proposal_services
from proposals.models import Decision, Position
from proposals.services import positions as positions_module

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks need PostgreSQL"),
]

KINDS = [("agree", ""), ("stand_aside", "I will not stop it."), ("block", "Principled no.")]


def run_together(calls, timeout=60):
    """Run each zero-argument callable in its own thread, all released at once.

    Returns one ("ok", value) or ("error", exception) per call, in the order given.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=timeout)
            results[index] = ("ok", call())
        except Exception as error:  # collected and asserted on by the test
            results[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker hung (deadlock?)"
    return results


def start(call):
    """Run `call` in a thread with its own connection; returns (thread, result list)."""
    result = []

    def worker():
        try:
            result.append(("ok", call()))
        except Exception as error:  # collected and asserted on by the test
            result.append(("error", error))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    return thread, result


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _errors(results):
    return [value for status, value in results if status == "error"]


def _new_call(facilitator, title):
    proposal = proposal_services.submit_proposal(
        actor=facilitator, title=title, text="We share the kitchen rota with the library."
    )
    return proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)


def test_it_keeps_one_current_position_when_a_member_restates_it_at_once(open_call, make_member):
    member = make_member("Quick")

    def state(n):
        kind, reason = KINDS[n % 3]
        return lambda: proposal_services.take_position(
            actor=member, proposal=open_call, kind=kind, reason=f"{reason} ({n})".strip()
        )

    results = run_together([state(n) for n in range(20)])

    assert _errors(results) == []
    rows = Position.objects.filter(proposal=open_call, member=member)
    assert rows.count() == 20
    current = rows.filter(is_current=True)
    assert current.count() == 1
    # The statements queue on the member's row: the last one written is the current one.
    assert current.get().pk == rows.order_by("-pk").first().pk
    assert {position.pk for _status, position in results} == set(rows.values_list("pk", flat=True))


def test_it_records_one_decision_when_two_facilitators_close_at_once(
    open_call, facilitator, participant, make_member
):
    second_facilitator = make_member("Sam", role="facilitator")
    proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")

    results = run_together(
        [
            lambda: proposal_services.close_call(actor=facilitator, proposal=open_call),
            lambda: proposal_services.close_call(actor=second_facilitator, proposal=open_call),
        ]
    )

    assert sorted(status for status, _value in results) == ["error", "ok"]
    (error,) = _errors(results)
    assert isinstance(error, Conflict)
    assert error.code == "call_not_open"
    assert Decision.objects.filter(proposal=open_call).count() == 1
    assert Decision.objects.get().counts == {"agree": 1, "stand_aside": 0, "block": 0}


def test_it_numbers_decisions_closed_at_once_one_after_the_other(
    assembly, facilitator, participant
):
    calls = [_new_call(facilitator, "Kitchen rota"), _new_call(facilitator, "Library hours")]
    for proposal in calls:
        proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")

    results = run_together(
        [
            lambda proposal=proposal: proposal_services.close_call(
                actor=facilitator, proposal=proposal
            )
            for proposal in calls
        ]
    )

    assert _errors(results) == []
    first, second = Decision.objects.filter(assembly=assembly).order_by("sequence")
    assert (first.sequence, second.sequence) == (1, 2)
    assert second.previous_digest == first.digest
    assert chain.verify_assembly(assembly) is None


@pytest.mark.parametrize("close_delay,stagger", [(0.0, 0.0), (0.1, 0.01), (0.15, 0.01)])
def test_it_records_every_position_that_beat_the_close_and_refuses_the_rest(
    assembly, facilitator, make_member, close_delay, stagger
):
    members = [make_member() for _ in range(30)]
    proposal = _new_call(facilitator, "Night watch")
    kind_of = {member.pk: KINDS[n % 3] for n, member in enumerate(members)}

    def position_of(n, member):
        kind, reason = kind_of[member.pk]

        def take():
            time.sleep(n * stagger)
            return proposal_services.take_position(
                actor=member, proposal=proposal, kind=kind, reason=reason
            )

        return take

    def close():
        time.sleep(close_delay)
        return proposal_services.close_call(actor=facilitator, proposal=proposal)

    results = run_together([close, *(position_of(n, member) for n, member in enumerate(members))])

    status, decision = results[0]
    assert status == "ok", decision
    taken = [value for status, value in results[1:] if status == "ok"]
    refused = _errors(results[1:])
    assert len(taken) + len(refused) == 30
    assert all(isinstance(error, DomainError) for error in refused), refused
    assert {(type(error), error.code) for error in refused} <= {(Conflict, "call_not_open")}

    decision.refresh_from_db()
    recorded = {p["member_id"]: (p["kind"], p["reason"]) for p in decision.record["positions"]}
    assert recorded == {position.member_id: kind_of[position.member_id] for position in taken}
    expected_counts = {"agree": 0, "stand_aside": 0, "block": 0}
    expected_counts.update(Counter(position.kind for position in taken))
    assert decision.counts == expected_counts
    assert sum(decision.counts.values()) == len(taken)
    assert Position.objects.filter(proposal=proposal).count() == len(taken)
    assert chain.verify_assembly(assembly) is None


def test_it_waits_for_a_position_in_flight_before_closing(
    monkeypatch, open_call, facilitator, make_member
):
    """A position whose transaction is still open when the close starts is recorded."""
    slow, later, latest = make_member("Slow"), make_member("Later"), make_member("Latest")
    inside, release = threading.Event(), threading.Event()
    publish = positions_module.publish

    def publish_slowly(proposal, kind, member_ids=()):
        if kind == "position" and not release.is_set() and not inside.is_set():
            inside.set()
            release.wait(20)
        publish(proposal, kind, member_ids)

    monkeypatch.setattr(positions_module, "publish", publish_slowly)

    def take(member, kind, reason=""):
        return lambda: proposal_services.take_position(
            actor=member, proposal=open_call, kind=kind, reason=reason
        )

    slow_thread, slow_result = start(take(slow, "block", "Too loud."))
    assert inside.wait(10)
    close_thread, close_result = start(
        lambda: proposal_services.close_call(actor=facilitator, proposal=open_call)
    )
    wait_until(lambda: _lock_waiters() == 1)  # the close queues behind the open position
    assert close_result == []
    later_thread, later_result = start(take(later, "stand_aside"))
    wait_until(lambda: later_result or _lock_waiters() == 2)
    release.set()
    for thread in (slow_thread, close_thread, later_thread):
        thread.join(30)
    latest_thread, latest_result = start(take(latest, "agree"))
    latest_thread.join(30)

    assert [status for status, _value in slow_result] == ["ok"]
    [(status, decision)] = close_result
    assert status == "ok", decision
    recorded = {p["member_id"]: p["kind"] for p in decision.record["positions"]}
    assert recorded.pop(slow.pk) == "block"
    [(status, value)] = later_result
    if status == "ok":  # it slipped in while the close waited: then it is recorded
        assert recorded.pop(later.pk) == "stand_aside"
    else:
        assert (type(value), value.code) == (Conflict, "call_not_open")
    assert recorded == {}
    [(status, error)] = latest_result
    assert status == "error"
    assert (type(error), error.code) == (Conflict, "call_not_open")
    assert sum(decision.counts.values()) == len(decision.record["positions"])
