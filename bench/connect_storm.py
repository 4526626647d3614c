"""Benchmark: a storm of sockets connecting at once, against the real app (issue 16, point 3).

When an app host is lost, its share of the assembly reconnects to the survivors within a
few seconds; what bounds how soon they are back is how fast a process accepts a socket:
the upgrade, who connects (token or session), the member's access, the first snapshot.
This measures exactly that, with nothing else going on: N participants join once through
the API, then for each run fresh app processes start and all N sockets are opened at once
(at most --concurrency in flight per client process, like a crowd whose backoff spread it
a little), each waiting for its first snapshot. A call for consensus is open, so the
snapshot is the one a sitting sends.

Figures per run: sockets with a first snapshot, refused or failed ones, seconds until the
last first snapshot, sockets per second, time-to-first-snapshot p50/p99, the app's CPU and
CPU per socket, and the load generator's own CPU. `--runs K` reports median, min and max;
`--profile` py-spies the first app process during run 1. The limit (bench/limit_server.py:
a bare websockets server sending a snapshot of the same shape, checking nothing) is
measured in the same run as the floor.

    .venv/bin/python bench/connect_storm.py -n 5000 --runs 3   # app, then the limit, 3 times
"""

import argparse
import asyncio
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

from harness import (
    BENCH,
    RESULTS,
    add_live_arguments,
    create_live_assembly,
    join_all,
    live_app,
    machine,
    new_proposal,
    open_call,
    open_socket,
    own_cpu,
    start_workers,
    write_results,
)
from wsclient import Client


class FirstSnapshot(Client):
    """Records when its first snapshot arrives."""

    def on_message(self, payload: bytes) -> None:
        if payload.startswith(b'{"type":"snapshot"') and not self.first.done():
            self.first.set_result(time.time())

    def connection_made(self, transport):
        self.first = asyncio.get_running_loop().create_future()
        super().connection_made(transport)

    def connection_lost(self, exc):
        if not self.first.done():
            self.first.set_exception(ConnectionError("closed before the first snapshot"))
        super().connection_lost(exc)


async def worker(conn, spec: dict) -> None:
    loop = asyncio.get_running_loop()
    people, gate = spec["people"], asyncio.Semaphore(spec["concurrency"])
    _go, start = await loop.run_in_executor(None, conn.recv)
    cpu_at_go = own_cpu()
    await asyncio.sleep(max(0.0, start - time.time()))
    failures: dict[str, int] = {}
    clients = []

    async def open_one(person: dict):
        async with gate:
            try:
                client = await open_socket(
                    FirstSnapshot, person["port"], person["token"], spec["source"]
                )
                clients.append(client)
                return await asyncio.wait_for(client.first, spec["timeout"])
            except (OSError, TimeoutError, ConnectionError) as error:
                text = f"{type(error).__name__}: {error}"[:120]
                failures[text] = failures.get(text, 0) + 1
                return None

    firsts = await asyncio.gather(*(open_one(p) for p in people))
    conn.send(([t - start for t in firsts if t is not None], failures, own_cpu() - cpu_at_go))
    await loop.run_in_executor(None, conn.recv)  # hold the sockets until the app's CPU is read
    for client in clients:
        # Reset, not closed: no TIME_WAIT left on the source address, whose ports the next
        # run's sockets must bind again (bind-before-connect cannot reuse them).
        if not client.closed:
            client.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        client.transport.close()


def start_servers(run, mode: str, args):
    """The app in --app-processes processes, or the limit (a bare websockets server that
    sends the same first snapshot and checks nothing; one process)."""
    if mode == "limit":
        return run.start([[sys.executable, str(BENCH / "limit_server.py"), "--port", "{port}"]])
    return run.app(args.app_processes, args.ws)


def storm(run, mode: str, people: list[dict], args, index: int) -> dict:
    servers = start_servers(run, mode, args)
    for i, person in enumerate(people):
        person["port"] = servers.ports[i % len(servers.ports)]
    pipes, processes = start_workers(
        worker, people, args.workers, concurrency=args.concurrency, timeout=args.timeout
    )
    time.sleep(2.0)  # the client processes are up and waiting
    spy = profile(servers, args) if args.profile and index == 1 and mode == "app" else None
    cpu_before, start = servers.cpu(), time.time() + 0.5
    for pipe in pipes:
        pipe.send(("go", start))
    times, failures, client_cpu = [], {}, 0.0
    for pipe in pipes:
        got, reasons, cpu = pipe.recv()
        times += got
        client_cpu += cpu
        for text, count in reasons.items():
            failures[text] = failures.get(text, 0) + count
    server_cpu = servers.cpu() - cpu_before
    rss_kb = servers.rss_kb()
    for pipe in pipes:
        pipe.send(("close",))
    for process in processes:
        process.join(timeout=30)
    if spy is not None:
        spy.wait(timeout=120)
    servers.stop()
    times.sort()
    last = times[-1] if times else None
    return {
        "mode": mode,
        "run": index,
        "sockets": len(people),
        "first_snapshots": len(times),
        "failed": sum(failures.values()),
        "failures": failures,
        "all_in_s": round(last, 3) if last else None,
        "per_second": round(len(times) / last, 1) if last else None,
        "p50_s": round(times[len(times) // 2], 3) if times else None,
        "p99_s": round(times[min(len(times) - 1, int(0.99 * len(times)))], 3) if times else None,
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_ms_per_socket": round(1000 * server_cpu / max(1, len(times)), 3),
        "load_generator_cpu_s": round(client_cpu, 2),
        "server_rss_mb": round(rss_kb / 1024, 1),
    }


def profile(servers, args) -> subprocess.Popen:
    output = RESULTS / f"profile_connect_{args.participants}.txt"
    RESULTS.mkdir(exist_ok=True)
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record",
         "--pid", str(servers.serving_pid()), "--rate", "200", "--nonblocking",
         "--duration", str(args.profile_seconds), "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def spread(records: list[dict], key: str) -> dict | None:
    values = [r[key] for r in records if r[key] is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def report(results: dict) -> str:
    modes = list(results["summary"])
    rows = [
        "| figure | " + " | ".join(modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for key, label in [
        ("first_snapshots", "sockets with a first snapshot"),
        ("failed", "failed"),
        ("all_in_s", "all in (s)"),
        ("per_second", "sockets per second"),
        ("p50_s", "time to first snapshot p50 (s)"),
        ("p99_s", "p99 (s)"),
        ("server_cpu_s", "server CPU (s)"),
        ("server_cpu_ms_per_socket", "server CPU per socket (ms)"),
        ("load_generator_cpu_s", "load-generator CPU (s)"),
        ("server_rss_mb", "server RSS after (MB)"),
    ]:
        cells = []
        for mode in modes:
            found = results["summary"][mode][key]
            cells.append(f"{found['median']} ({found['min']} to {found['max']})" if found else "—")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", "-n", type=int, default=5000)
    parser.add_argument("--app-processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument(
        "--concurrency", type=int, default=500, help="sockets in flight per client process"
    )
    parser.add_argument("--modes", default="app,limit", help="app, limit (comma-separated)")
    parser.add_argument("--runs", type=int, default=1, help="measure every mode this many times")
    parser.add_argument("--timeout", type=float, default=120.0, help="per socket (s)")
    parser.add_argument(
        "--ws", default="core.ws_server:PreparedFrameProtocol", help="uvicorn --ws of the app"
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the first app process")
    parser.add_argument("--profile-seconds", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    add_live_arguments(parser, no_save_help="do not write bench/results/")
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    started = time.time()
    with live_app(args, "storm", "bench") as run:
        code = create_live_assembly()
        joining = run.app(args.app_processes, args.ws)
        joined = join_all(joining.ports, code, args.participants)
        joining.stop()
        open_call(new_proposal("Connect storm"))
        records = []
        for index in range(1, args.runs + 1):
            for mode in args.modes.split(","):
                records.append(storm(run, mode, [dict(p) for p in joined], args, index))
                print(records[-1], flush=True)
    keys = [k for k in records[0] if isinstance(records[0][k], (int, float)) and k != "run"]
    modes = args.modes.split(",")
    results = {
        "benchmark": "connect_storm",
        "command": " ".join(sys.argv),
        "participants": args.participants,
        "app_processes": args.app_processes,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "ws": args.ws,
        "machine": machine(args.database_url, args.redis_url),
        "runs": records,
        "summary": {
            mode: {key: spread([r for r in records if r["mode"] == mode], key) for key in keys}
            for mode in modes
        },
        "total_seconds": round(time.time() - started, 1),
    }
    print(report(results))
    write_results(results, f"connect_storm_{args.participants}.json", args)
    return 0 if all(r["failed"] == 0 for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
