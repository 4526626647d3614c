"""The live layer tells a passing Redis hiccup from Redis being away (core.broadcast)."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from core import broadcast
from core.broadcast import _Breaker, with_retries


def run(coroutine):
    """Run in a thread of its own: the browser tests leave an event loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def breaker(monkeypatch):
    monkeypatch.setattr(_Breaker, "OPEN_AFTER_SECONDS", 0.2)
    monkeypatch.setattr(_Breaker, "PROBE_EVERY", 0.1)
    return _Breaker()


def test_one_failure_does_not_open_it(breaker):
    breaker.failed()
    assert not breaker.open


def test_failures_separated_by_successes_never_open_it(breaker):
    for _ in range(10):
        breaker.failed()
        breaker.failed()
        breaker.succeeded()
        time.sleep(0.03)
    assert not breaker.open


def test_quick_failures_in_a_row_do_not_open_it_before_the_time_has_passed(breaker):
    for _ in range(10):
        breaker.failed()
    assert not breaker.open  # ten timeouts within a moment: still a hiccup


def test_sustained_failure_opens_it_and_success_closes_it(breaker):
    for _ in range(3):
        breaker.failed()
    time.sleep(0.25)
    breaker.failed()
    assert breaker.open
    breaker.succeeded()
    assert not breaker.open


def test_while_open_a_probe_is_tried_once_it_is_due(breaker, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    breaker.open, breaker.opened_at = True, time.monotonic()
    pings = []

    class Dead:
        async def ping(self):
            pings.append(1)
            raise redis.ConnectionError("refused")

    monkeypatch.setattr(broadcast.dirty, "_redis_async", lambda: Dead())
    assert run(breaker.available()) is False
    assert pings == []  # not due yet: nothing waits on Redis
    time.sleep(0.12)
    assert run(breaker.available()) is False
    assert pings == [1]


def test_a_transient_error_is_retried_within_its_deadline():
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise redis.TimeoutError("busy")
        return "sent"

    assert run(with_retries(flaky, deadline=1.0)) == "sent"
    assert len(calls) == 3


def test_a_lasting_error_is_raised_once_the_deadline_passes():
    async def dead():
        raise redis.ConnectionError("away")

    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        run(with_retries(dead, deadline=0.2))
    assert time.monotonic() - started < 0.5
