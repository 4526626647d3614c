#!/usr/bin/env python
"""Benchmark: the proposal page with 5,000 positions, rendered server-side.

    .venv/bin/python bench/proposal_page.py

In a throw-away database: an assembly of 5,000 members and two proposals in their call for
consensus, one with 50 positions and one with 5,000 (2% stand-asides and blocks with
reasons, the rest agree; inserted in bulk). GET of the proposal page through Django's test
Client (the full middleware and template stack, as a logged-in member): the median of 20
requests, and the number of queries (an execute wrapper) with 50 and with 5,000 positions,
which must be equal. Target: <= 50 ms.
"""

import argparse
import random
import statistics
import sys
import time

from harness import DEFAULT_DATABASE_URL, assembly_with_members, open_proposal, throwaway_database

TARGET_MS = 50.0


def fill(proposal, people, rng) -> None:
    from proposals.models import Position

    rows = []
    for member in people:
        roll = rng.random()
        kind = "block" if roll < 0.005 else "stand_aside" if roll < 0.02 else "agree"
        rows.append(
            Position(
                proposal=proposal,
                member=member,
                kind=kind,
                reason="" if kind == "agree" else f"Reason of {member.display_name}",
                revision_number=proposal.revision_number,
            )
        )
    Position.objects.bulk_create(rows, batch_size=5000)


def measure(client, url: str, repeat: int) -> tuple[float, int]:
    from django.db import connection

    # Counted with an execute wrapper: outside a test, each request's end closes the
    # connection (CONN_MAX_AGE=0) and its start resets the query log.
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(timings), len(queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    with throwaway_database(args.database_url, "page"):
        from django.test import Client

        _assembly, facilitator, people = assembly_with_members(args.positions)
        rng = random.Random(5)
        small = open_proposal(facilitator, "Fifty positions")
        fill(small, people[:50], rng)
        large = open_proposal(facilitator, "Five thousand positions")
        fill(large, people[: args.positions], rng)
        client = Client(HTTP_HOST="localhost")
        client.force_login(people[0].user)
        small_ms, small_queries = measure(client, small.get_absolute_url(), args.repeat)
        large_ms, large_queries = measure(client, large.get_absolute_url(), args.repeat)
        print(f"50 positions:    median {small_ms:.1f} ms, {small_queries} queries")
        print(f"{args.positions} positions:  median {large_ms:.1f} ms, {large_queries} queries")
        ok = large_ms <= TARGET_MS and large_queries == small_queries
        print(
            f"{'PASS' if ok else 'FAIL'}: {large_ms:.1f} ms (target <= {TARGET_MS:.0f} ms), "
            f"queries {small_queries} -> {large_queries} (must not grow)"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
