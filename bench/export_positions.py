#!/usr/bin/env python
"""Benchmark: export 100,000 positions as CSV through the real endpoint.

    .venv/bin/python bench/export_positions.py                       # 100,000 positions
    .venv/bin/python bench/export_positions.py --positions 20000 --members 500

Creates a throw-away PostgreSQL database (dropped at the end unless --keep), fills it, then
measures GET /api/v1/assemblies/<slug>/positions.csv through Django's test Client in a fresh
process (so the figures are the export's, not the set-up's): wall time, peak RSS
(resource.getrusage) and, in a second run, the peak of Python allocations (tracemalloc).
Targets: under 10 s and under 150 MB.

Set-up only: members and positions are bulk-inserted (every proposal is in its call for
consensus, so the append-only triggers allow it), then every call is closed through the real
`close_call` service, which records each decision with all its positions and digests.
"""

import argparse
import json
import random
import subprocess
import sys
import time

from harness import DEFAULT_DATABASE_URL, assembly_with_members, local_django, throwaway_database

SLUG = "bench-export"
TARGET_SECONDS = 10.0
TARGET_MB = 150.0
# The test Client speaks plain HTTP: no redirect to HTTPS even when SECRET_KEY is set.
PLAIN_HTTP = {"SECURE_SSL_REDIRECT": "0"}


def fill(positions: int, members: int) -> None:
    from proposals import services as proposal_services
    from proposals.models import Position

    _assembly, facilitator, people = assembly_with_members(members, slug=SLUG)
    rng = random.Random(2011)
    proposals = -(-positions // members)
    made = 0
    for n in range(proposals):
        proposal = proposal_services.submit_proposal(
            actor=people[0], title=f"Proposal {n}", text=f"We do thing {n}, *carefully*."
        )
        proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
        rows = []
        for member in people[: min(members, positions - made)]:
            roll = rng.random()
            kind = "agree" if roll < 0.9 else "stand_aside" if roll < 0.97 else "block"
            reason = "" if kind == "agree" else f"Reason of {member.display_name}, with a comma"
            rows.append(
                Position(
                    proposal=proposal, member=member, kind=kind, reason=reason, revision_number=1
                )
            )
        Position.objects.bulk_create(rows, batch_size=5000)
        made += len(rows)
        proposal_services.close_call(actor=facilitator, proposal=proposal)
    print(f"set up: {made} positions on {proposals} decided proposals, {members} members")


def measure(trace: bool) -> dict:
    """Run in a fresh process: one export through the endpoint, consumed chunk by chunk."""
    import gc
    import resource
    import tracemalloc

    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get(f"/api/v1/assemblies/{SLUG}/positions.csv")
    assert response.status_code == 200 and response.streaming, response.status_code
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    peak_traced = tracemalloc.get_traced_memory()[1] if trace else None
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": round(elapsed, 2),
        "rows": lines - 1,
        "megabytes_sent": round(size / 1e6, 1),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "rss_before_mb": round(rss_before / 1024, 1),
        "peak_python_alloc_mb": round(peak_traced / 1e6, 1) if trace else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="server to use; a database named multitude_bench_export_<pid> is made on it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:  # the child process
        local_django(args.measure, **PLAIN_HTTP)
        print(json.dumps(measure(args.trace)))
        return 0

    started = time.perf_counter()
    with throwaway_database(args.database_url, "export", keep=args.keep, **PLAIN_HTTP) as url:
        fill(args.positions, args.members)
        print(f"set-up took {time.perf_counter() - started:.1f} s")
        from django.db import connections

        connections.close_all()
        results = {}
        for trace in (False, True):
            child = subprocess.run(
                [sys.executable, __file__, "--measure", url, *(["--trace"] if trace else [])],
                capture_output=True,
                text=True,
                check=True,
            )
            results["traced" if trace else "timed"] = json.loads(child.stdout.splitlines()[-1])
        timed, traced = results["timed"], results["traced"]
        print(f"timed run:  {json.dumps(timed)}")
        print(f"traced run: {json.dumps(traced)}")
        ok = (
            timed["rows"] >= args.positions
            and timed["seconds"] < TARGET_SECONDS
            and timed["peak_rss_mb"] < TARGET_MB
        )
        print(
            f"{'PASS' if ok else 'FAIL'}: {timed['rows']} positions exported in "
            f"{timed['seconds']} s (target < {TARGET_SECONDS:.0f} s), peak RSS "
            f"{timed['peak_rss_mb']} MB (target < {TARGET_MB:.0f} MB), peak Python "
            f"allocations {traced['peak_python_alloc_mb']} MB"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
