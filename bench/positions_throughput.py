#!/usr/bin/env python
"""Benchmark: positions per second into PostgreSQL through the real services.

    .venv/bin/python bench/positions_throughput.py                  # 5,000 members, 8 threads

In a throw-away database, M members of one assembly each take one position on a proposal in
its call for consensus, from K threads (each with its own connection), two ways:

- `single`: one `services.take_position` per position (the HTTP/API path, and the socket
  path before batching): one transaction each;
- `batched`: `services.take_positions` with batches of B, the path the socket batcher uses
  (sittings/batching.py): one transaction per batch, the same locks and invariants.

Every position is then counted in the database. Target: >= 1,000 positions/s.
"""

import argparse
import random
import sys
import threading
import time

from harness import DEFAULT_DATABASE_URL, assembly_with_members, open_proposal, throwaway_database

TARGET = 1000


def run(proposal, people, threads: int, batch: int) -> float:
    from django.db import connection

    from proposals import services

    rng = random.Random(7)
    plan = [
        (member, "agree" if rng.random() > 0.02 else "stand_aside", f"r-{batch}-{member.pk}")
        for member in people
    ]
    shares = [plan[i::threads] for i in range(threads)]
    errors = []

    def work(share):
        try:
            if batch <= 1:
                for member, kind, request_id in share:
                    services.take_position(
                        actor=member, proposal=proposal, kind=kind, reason="why not",
                        request_id=request_id,
                    )  # fmt: skip
            else:
                for start in range(0, len(share), batch):
                    results = services.take_positions(
                        [
                            services.PositionRequest(
                                member_id=member.pk,
                                assembly_id=proposal.assembly_id,
                                proposal_id=proposal.pk,
                                kind=kind,
                                reason="why not",
                                request_id=request_id,
                            )
                            for member, kind, request_id in share[start : start + batch]
                        ]
                    )
                    errors.extend(r for r in results if isinstance(r, Exception))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(share,)) for share in shares]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} errors, e.g. {errors[0]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    with throwaway_database(args.database_url, "positions"):
        from proposals.models import Position

        _assembly, facilitator, people = assembly_with_members(args.members)
        ok = True
        for label, batch in (("single", 1), ("batched", args.batch)):
            proposal = open_proposal(facilitator, f"Throughput ({label})")
            elapsed = run(proposal, people, args.threads, batch)
            stored = Position.objects.filter(proposal=proposal).count()
            rate = stored / elapsed
            print(
                f"{label:8} {stored} positions from {args.threads} threads"
                f"{f' in batches of {batch}' if batch > 1 else ''}: {elapsed:.2f} s,"
                f" {rate:,.0f} positions/s"
            )
            ok = ok and stored == len(people)
            if label == "batched":
                ok = ok and rate >= TARGET
        print(f"{'PASS' if ok else 'FAIL'}: batched target >= {TARGET:,} positions/s")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
