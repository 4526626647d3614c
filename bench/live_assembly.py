#!/usr/bin/env python
"""Benchmark: a live general assembly of N participants, against the real app.

    .venv/bin/python bench/live_assembly.py --participants 500              # make bench
    .venv/bin/python bench/live_assembly.py --participants 5000 --app-processes 2
    .venv/bin/python bench/live_assembly.py -n 2000 --modes app,granian,limit --runs 3

Starts the real app (uvicorn processes on PostgreSQL and Redis), creates an assembly in a
throw-away database, joins N participants through `POST /api/v1/assemblies/<slug>/join/`,
connects N websocket clients (several worker processes, each from its own 127.0.0.x
address), opens a call for consensus and has every participant take a position at a random
moment inside a window of W seconds. It measures:

- positions acknowledged, and positions found in PostgreSQL afterwards (must be equal);
- convergence lag: from the last acknowledgement until every client has seen the final tally;
- visibility latency of each position (its ack, sent after commit, until every client has
  seen a tally that includes it): p50 / p95 / p99;
- server CPU seconds (utime + stime from /proc, summed over each server's process tree) and
  memory per connected participant ((RSS with N connected - RSS idle) / N, from
  /proc/<pid>/status), beside the load generator's own CPU seconds over the same window
  (the client worker processes' getrusage), since it shares the machine's cores.

In the same run it measures two references with the same clients and positions:
the *baseline*, the Channels tutorial pattern (bench/baseline_app.py: group_send on every
position, one channel-layer message per consumer), and the *limit*, a bare `websockets`
server that counts positions in memory and broadcasts the same payloads with the same
coalescing (bench/limit_server.py). The mode `granian` is the same app served by granian
instead of uvicorn (`app` is served by --server, uvicorn unless told). Every mode starts its
own server processes, fresh, for each run; the participants join once, through servers of
their own. With --runs K the modes are measured in turn K times (a new proposal each time),
and the report gives each figure's median (min-max). Results, with the machine and versions,
go to bench/results/live_<N>.json; `--plot` draws bench/lag_vs_n.png from every result file.

Exit status 1 if the app (under any server) lost a position (acknowledged != stored) or a
client never saw the final tally, in any run; timings are reported, not enforced.
"""

import argparse
import asyncio
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import (
    BENCH,
    GRANIAN_FLAGS,
    RESULTS,
    UVICORN_FLAGS,
    LiveRun,
    Servers,
    add_live_arguments,
    create_live_assembly,
    join_all,
    live_app,
    live_facilitator,
    machine,
    new_proposal,
    open_call,
    open_socket,
    own_cpu,
    start_workers,
    uvicorn,
    write_results,
)
from wsclient import Client, tally_pattern

# --- the database -----------------------------------------------------------------------------


def stored_positions(proposal_id: int) -> int:
    from proposals.models import Position

    return Position.objects.filter(proposal_id=proposal_id).count()


def retire(proposal_id: int) -> None:
    """Close the call and age it out of the snapshot, so the next mode starts alike."""
    from datetime import timedelta

    from django.utils import timezone

    from proposals import services
    from proposals.models import Proposal

    proposal = Proposal.objects.get(pk=proposal_id)
    services.close_call(actor=live_facilitator(), proposal=proposal)
    Proposal.objects.filter(pk=proposal_id).update(updated_at=timezone.now() - timedelta(hours=2))


# --- the client worker processes ------------------------------------------------------------


async def worker(conn, spec: dict) -> None:
    loop = asyncio.get_running_loop()

    async def recv():
        return await loop.run_in_executor(None, conn.recv)

    people = spec["people"]
    clients: list[Client | None] = [None] * len(people)
    failures: dict[str, int] = {}  # why sockets failed to open, for the report
    gate = asyncio.Semaphore(64)

    async def open_one(i: int) -> None:
        person = people[i]
        async with gate:
            for attempt in range(8):
                try:
                    client = await open_socket(
                        Client, person["port"], person["token"], spec["source"]
                    )
                    await asyncio.wait_for(client.opened, 60)
                    clients[i] = client
                    return
                except (OSError, TimeoutError, ConnectionError) as error:
                    text = f"{type(error).__name__}: {error}"[:200]
                    failures[text] = failures.get(text, 0) + 1
                    await asyncio.sleep(0.25 * (attempt + 1))

    await asyncio.gather(*(open_one(i) for i in range(len(people))))
    conn.send(("connected", sum(c is not None for c in clients), failures))

    _go, start, proposal_id = await recv()
    cpu_at_go = own_cpu()  # the load generator's cost is counted over the server's window
    Client.tally = tally_pattern(proposal_id)

    async def act(i: int):
        client, person = clients[i], people[i]
        if client is None:
            return None
        await asyncio.sleep(max(0.0, start + person["offset"] - time.time()))
        client.answer = loop.create_future()
        message = {
            "type": "position",
            "proposal": proposal_id,
            "kind": person["kind"],
            "reason": person["reason"],
            "request_id": f"b-{proposal_id}-{person['member_id']}",
            "member": person["name"],  # for the limit server, which has no database
            "member_id": person["member_id"],
        }
        client.send_json(message)
        try:
            answer = await asyncio.wait_for(client.answer, spec["answer_timeout"])
        except (TimeoutError, ConnectionError):
            return ("timeout", None, "")
        kind = "ack" if answer.startswith(b'{"type":"ack"') else "error"
        return (kind, time.time(), "" if kind == "ack" else answer[:200].decode())

    outcomes = await asyncio.gather(*(act(i) for i in range(len(people))))
    acks = sorted(o[1] for o in outcomes if o and o[0] == "ack")
    errors = [o[2] for o in outcomes if o and o[0] == "error"]
    timeouts = sum(1 for o in outcomes if o and o[0] == "timeout")
    conn.send(("acked", acks, errors[:5], len(errors), timeouts))

    _final, total, deadline = await recv()
    live = [c for c in clients if c is not None]
    while time.time() < deadline and any(c.best < total for c in live):
        await asyncio.sleep(0.05)
    seen_by_all, converged = when_seen(live, total)
    conn.send(
        (
            "done",
            seen_by_all,
            converged,
            sum(c.snapshots for c in live),
            sum(c.closed for c in live),
            own_cpu() - cpu_at_go,
        )
    )
    for client in live:
        client.transport.close()


def when_seen(clients, total: int) -> tuple[list[float], list[float]]:
    """For each rank r (the r-th acknowledged position overall), when the last of these
    clients first saw a tally of at least r; and when each client saw the final tally."""
    inf = float("inf")
    try:
        import numpy as np
    except ImportError:  # the CI smoke test runs without the bench extra
        np = None
    if np is None:
        seen_by_all = [0.0] * (total + 1)
        converged = []
        for client in clients:
            reached = -1
            for step_total, at in zip(client.totals, client.times, strict=True):
                for r in range(reached + 1, min(step_total, total) + 1):
                    if at > seen_by_all[r]:
                        seen_by_all[r] = at
                reached = max(reached, step_total)
            for r in range(reached + 1, total + 1):
                seen_by_all[r] = inf
            converged.append(
                next(
                    (at for t, at in zip(client.totals, client.times, strict=True) if t >= total),
                    inf,
                )
            )
        return seen_by_all, converged
    seen_by_all = np.zeros(total + 1)
    converged = []
    ranks = np.arange(total + 1)
    for client in clients:
        totals, times = np.array(client.totals, dtype=np.int64), np.array(client.times)
        if len(times) == 0:
            seen = np.full(total + 1, np.inf)
        else:
            at = np.searchsorted(totals, ranks, side="left")
            seen = np.where(at < len(times), times[np.minimum(at, len(times) - 1)], np.inf)
        np.maximum(seen_by_all, seen, out=seen_by_all)
        converged.append(float(seen[total]))
    return seen_by_all.tolist(), converged


def plan_people(joined: list[dict], window: float, dissent: float, seed: int) -> list[dict]:
    rng = random.Random(seed)
    people = []
    for person in joined:
        roll = rng.random()
        kind = "block" if roll < dissent / 4 else "stand_aside" if roll < dissent else "agree"
        people.append(
            {
                **person,
                "kind": kind,
                "reason": "" if kind == "agree" else f"Reason of {person['name']}",
                "offset": rng.uniform(0, window),
            }
        )
    return people


# --- one measured run -------------------------------------------------------------------------


def run_mode(
    name: str,
    servers: Servers,
    people: list[dict],
    *,
    workers: int,
    window: float,
    cap: float,
    proposal=None,
    on_connected=None,
    profile: bool = False,
) -> dict:
    ports = servers.ports
    for i, person in enumerate(people):
        person["port"] = ports[i % len(ports)]
    rss_idle = servers.rss_kb()
    started = time.time()
    pipes, processes = start_workers(worker, people, workers, answer_timeout=max(60.0, cap))
    connected, failures = 0, {}
    for pipe in pipes:
        _tag, count, reasons = pipe.recv()
        connected += count
        for text, times in reasons.items():
            failures[text] = failures.get(text, 0) + times
    connect_seconds = time.time() - started
    time.sleep(1.0)  # let the first snapshots settle
    rss_connected = servers.rss_kb()
    proposal_id = proposal.pk if proposal is not None else 1
    if on_connected:
        on_connected()
    time.sleep(0.5)
    cpu_before = servers.cpu()
    start = time.time() + 0.5
    spy = None
    if profile:  # py-spy (pip install py-spy) on the first serving process, raw stacks
        output = RESULTS / f"profile_{len(people)}_{name}.txt"
        RESULTS.mkdir(exist_ok=True)
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record",
             "--pid", str(servers.serving_pid()), "--rate", "200", "--nonblocking",
             "--duration", str(int(window + 3)), "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    for pipe in pipes:
        pipe.send(("go", start, proposal_id))
    acked, errors, error_count, timeouts = [], [], 0, 0
    for pipe in pipes:
        _tag, acks, sample, n_errors, n_timeouts = pipe.recv()
        acked += acks
        errors += sample
        error_count += n_errors
        timeouts += n_timeouts
    acked.sort()
    total = len(acked)
    deadline = time.time() + cap
    for pipe in pipes:
        pipe.send(("final", total, deadline))
    seen_by_all, converged, snapshots, dropped, client_cpu = None, [], 0, 0, 0.0
    for pipe in pipes:
        _tag, seen, conv, n_snapshots, n_closed, worker_cpu = pipe.recv()
        seen_by_all = (
            seen
            if seen_by_all is None
            else [max(a, b) for a, b in zip(seen_by_all, seen, strict=False)]
        )
        converged += conv
        snapshots += n_snapshots
        dropped += n_closed
        client_cpu += worker_cpu
    cpu = servers.cpu() - cpu_before
    if spy is not None:
        spy.wait(timeout=60)
    for process in processes:
        process.join(timeout=30)
    last_ack = acked[-1] if acked else start
    finite = [c for c in converged if c != float("inf")]
    all_converged = len(finite) == len(converged) and connected == len(people)
    lag = (max(finite) - last_ack) if all_converged else None
    latencies = sorted(
        max(0.0, seen_by_all[r] - acked[r - 1])
        for r in range(1, total + 1)
        if seen_by_all[r] != float("inf")
    )

    def pct(p: float):
        if not latencies or len(latencies) < total:
            return None
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 3)

    stored = stored_positions(proposal_id) if proposal is not None else None
    result = {
        "mode": name,
        "participants": len(people),
        "connected": connected,
        "connect_failures": dict(sorted(failures.items(), key=lambda f: -f[1])[:5]),
        "connect_seconds": round(connect_seconds, 1),
        "window": window,
        "server_processes": len(ports),
        "acknowledged": total,
        "errors": error_count,
        "error_sample": errors[:3],
        "timeouts": timeouts,
        "stored": stored,
        "converged_clients": len(finite),
        "lag_s": round(lag, 3) if lag is not None else None,
        "did_not_converge_in_s": None if all_converged else cap,
        "latency_p50_s": pct(50),
        "latency_p95_s": pct(95),
        "latency_p99_s": pct(99),
        "server_cpu_s": round(cpu, 2),
        "load_generator_cpu_s": round(client_cpu, 2),
        "rss_idle_mb": round(rss_idle / 1024, 1),
        "rss_connected_mb": round(rss_connected / 1024, 1),
        "peak_rss_mb": round(servers.peak_kb() / 1024, 1),
        "kb_per_participant": round((rss_connected - rss_idle) / max(1, connected), 1),
        "snapshots_received": snapshots,
        "sockets_closed_early": dropped,
    }
    print(f"  {name}: {json.dumps(result)}", flush=True)
    return result


# --- the modes ----------------------------------------------------------------------------------

APP_SERVERS = ("uvicorn", "granian")
# The app under uvicorn's own sans-I/O protocol: every snapshot through each socket's ASGI
# `send`, as before core.ws_server's one frame for many sockets (the `app` mode's --ws).
PER_SOCKET_SEND = "uvicorn-sansio"
MODES = ("app", *APP_SERVERS, PER_SOCKET_SEND, "baseline", "limit")


def app_server(mode: str, args) -> str | None:
    """The server of the real app in `mode`: --server for `app`, the named one for
    `uvicorn` and `granian`; None for the references."""
    if mode == "app":
        return args.server
    if mode == PER_SOCKET_SEND:
        return "uvicorn"
    return mode if mode in APP_SERVERS else None


def server_name(mode: str, args) -> str:
    """What serves `mode`: the app's server, uvicorn for the baseline, websockets for the limit."""
    return app_server(mode, args) or {"baseline": "uvicorn", "limit": "websockets"}[mode]


def start_mode(run: LiveRun, mode: str, args, processes: int) -> Servers:
    server = app_server(mode, args)
    if server:
        return run.app(
            processes, "websockets-sansio" if mode == PER_SOCKET_SEND else args.ws, server
        )
    if mode == "baseline":
        extra = ("--app-dir", str(BENCH), "--ws", args.ws, "--lifespan", "off")
        return run.start([uvicorn("baseline_app:application", *extra)] * processes)
    return run.start([[sys.executable, str(BENCH / "limit_server.py"), "--port", "{port}"]])


def measure(run: LiveRun, mode: str, index: int, people: list[dict], args, shape: dict) -> dict:
    """One run of one mode, on server processes started for it and stopped after."""
    print(f"{mode}, run {index} of {args.runs}: N={len(people)}, W={args.window} s", flush=True)
    servers = start_mode(run, mode, args, shape["app_processes"])
    proposal = new_proposal(f"Benchmark ({mode}, run {index})") if mode != "limit" else None
    result = run_mode(
        mode,
        servers,
        [dict(p) for p in people],
        workers=shape["client_workers"],
        window=args.window,
        cap=args.cap,
        proposal=proposal,
        on_connected=(lambda p=proposal: open_call(p)) if proposal else None,
        profile=args.profile and index == 1 and app_server(mode, args) is not None,
    )
    if proposal is not None:
        retire(proposal.pk)  # closed and aged out of the snapshot: the next run starts alike
    servers.stop()
    return {"run": index, "server": server_name(mode, args), **result}


def failed(records: list[dict], n: int, args) -> list[str]:
    """The runs of the real app that lost a position, missed an ack or never converged."""
    return [
        f"{r['mode']} run {r['run']}: {r['acknowledged']} acked, {r['stored']} stored, "
        f"{r['converged_clients']}/{n} converged"
        + (f", connect failures {r['connect_failures']}" if r["connect_failures"] else "")
        for r in records
        if app_server(r["mode"], args)
        and (r["acknowledged"] != r["stored"] or r["lag_s"] is None or r["acknowledged"] != n)
    ]


# --- summary and report -------------------------------------------------------------------------

# (key in a run's record, its column in the report, unit)
SUMMARY = (
    ("acknowledged", "acked", ""),
    ("stored", "stored", ""),
    ("errors", "refused", ""),
    ("lag_s", "lag", " s"),
    ("latency_p50_s", "p50", " s"),
    ("latency_p95_s", "p95", " s"),
    ("latency_p99_s", "p99", " s"),
    ("server_cpu_s", "server CPU", " s"),
    ("load_generator_cpu_s", "load-gen CPU", " s"),
    ("kb_per_participant", "KB/participant", ""),
)


def spread(values: list) -> dict | None:
    """Median, min and max of the runs that have the figure (a lag only where it converged)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": round(statistics.median(values), 3),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def summarise(records: list[dict], modes: list[str]) -> dict:
    out = {}
    for mode in modes:
        runs = [r for r in records if r["mode"] == mode]
        out[mode] = {key: spread([r[key] for r in runs]) for key, _column, _unit in SUMMARY}
        out[mode]["runs"] = len(runs)
        out[mode]["runs_not_converged"] = sum(r["lag_s"] is None for r in runs)
        out[mode]["runs_load_generator_above_server"] = sum(
            r["load_generator_cpu_s"] > r["server_cpu_s"] for r in runs
        )
    return out


DASH = "\u2013"  # an en dash between min and max


def number(value: float) -> str:
    """3 decimals at most; whole numbers (a median of counts) without any."""
    value = round(value, 3)
    return str(int(value)) if float(value).is_integer() else str(value)


def cell(figure: dict | None, unit: str) -> str:
    if figure is None:
        return "—"
    median = number(figure["median"])
    if figure["min"] == figure["max"]:
        return f"{median}{unit}"
    return f"{median}{unit} ({number(figure['min'])}{DASH}{number(figure['max'])})"


def report(results: dict) -> str:
    columns = [column for _key, column, _unit in SUMMARY]
    rows = [
        "| mode | server | procs | runs | " + " | ".join(columns) + " |",
        "|---" * (4 + len(columns)) + "|",
    ]
    for mode, summary in results["summary"].items():
        cells = [cell(summary[key], unit) for key, _column, unit in SUMMARY]
        if summary["runs_not_converged"]:
            missed = summary["runs_not_converged"]
            cells[3] += f"; did not converge in {missed} of {summary['runs']}"
        first = next(r for r in results["modes"] if r["mode"] == mode)
        rows.append(
            f"| {mode} | {first['server']} | {first['server_processes']}"
            f" | {summary['runs']} | " + " | ".join(cells) + " |"
        )
    rows.append(
        f"\nmedian (min{DASH}max) over the runs; lag and percentiles over the runs in which"
        " every client saw the final tally"
    )
    rows += [f"{key}: {text}" for key, text in results["ratios"].items()]
    rows += results["notes"]
    return "\n".join(rows)


def ratios(summary: dict) -> dict:
    """Each other mode's median lag and server CPU against the app's."""
    out = {}
    app = summary.get("app")
    if not app:
        return out
    for other, ref in summary.items():
        if other == "app":
            continue
        app_lag, ref_lag = app["lag_s"], ref["lag_s"]
        if app_lag and ref_lag and app_lag["median"] and ref_lag["median"]:
            out[f"lag {other}/app"] = f"{ref_lag['median'] / app_lag['median']:.2f}x" + (
                " (of the runs that converged)"
                if app["runs_not_converged"] or ref["runs_not_converged"]
                else ""
            )
        elif app_lag and app_lag["median"] and ref_lag is None:
            out[f"lag {other}/app"] = f"({other} did not converge)"
        app_cpu, ref_cpu = app["server_cpu_s"], ref["server_cpu_s"]
        if app_cpu and ref_cpu and app_cpu["median"]:
            out[f"server CPU {other}/app"] = f"{ref_cpu['median'] / app_cpu['median']:.2f}x"
    return out


def notes(summary: dict) -> list[str]:
    """Where the load generator, on the same cores, cost more CPU than the server measured."""
    out = []
    for mode, s in summary.items():
        if s["runs_load_generator_above_server"]:
            out.append(
                f"{mode}: the load generator used more CPU than the server in"
                f" {s['runs_load_generator_above_server']} of {s['runs']} runs (median"
                f" {s['load_generator_cpu_s']['median']} s against"
                f" {s['server_cpu_s']['median']} s); it runs on the same cores, so this"
                " mode's timings measure the load generator as much as the server."
            )
    return out


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(RESULTS.glob("live_*.json")):
        data = json.loads(path.read_text())
        by_mode: dict[str, list] = {}
        for r in data["modes"]:
            by_mode.setdefault(r["mode"], []).append(r)
        for mode, runs in by_mode.items():
            if all(r["lag_s"] is not None for r in runs):  # the median of converged files only
                lag = statistics.median(r["lag_s"] for r in runs)
                series.setdefault(mode, []).append((runs[0]["participants"], lag))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for mode, points in sorted(series.items()):
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=mode)
    ax.set_xlabel("participants connected (N), positions in a 10 s window")
    ax.set_ylabel("convergence lag (s)")
    ax.set_title("Last acknowledgement → every client has the final tally")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(BENCH / "lag_vs_n.png", dpi=110)
    print(f"wrote {BENCH / 'lag_vs_n.png'}")


# --- main -----------------------------------------------------------------------------------------


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", "-n", type=int, default=500)
    parser.add_argument("--window", "-w", type=float, default=10.0)
    parser.add_argument(
        "--app-processes", type=int, default=0, help="default: 1 up to 2,000, else 2"
    )
    parser.add_argument("--workers", type=int, default=0, help="client processes (default 2-4)")
    parser.add_argument(
        "--modes",
        default="app,baseline,limit",
        help="comma-separated, measured in this order: app (the app under --server), uvicorn,"
        " uvicorn-sansio (the app without the prepared-frame protocol),"
        " granian (the app under that server), baseline, limit",
    )
    parser.add_argument(
        "--server", choices=APP_SERVERS, default="uvicorn", help="the server of the app mode"
    )
    parser.add_argument("--runs", type=int, default=1, help="measure every mode this many times")
    parser.add_argument("--cap", type=float, default=30.0, help="max wait for convergence (s)")
    parser.add_argument("--dissent", type=float, default=0.02, help="share of non-agree")
    parser.add_argument(
        "--ws", default="core.ws_server:PreparedFrameProtocol", help="uvicorn --ws of the app"
    )
    add_live_arguments(parser, no_save_help="do not write bench/results/")
    parser.add_argument("--plot", action="store_true", help="only draw bench/lag_vs_n.png")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", action="store_true", help="py-spy the first app process")
    args = parser.parse_args()
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(args.modes) - set(MODES))
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}: choose among {', '.join(MODES)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    servers = {args.server} | {app_server(m, args) for m in args.modes} - {None}
    if "granian" in servers and importlib.util.find_spec("granian") is None:
        parser.error("granian is not installed: pip install -e '.[bench]'")
    return args


def main() -> int:
    args = parse_arguments()
    if args.plot:
        plot()
        return 0

    n = args.participants
    shape = {
        "app_processes": args.app_processes or (1 if n <= 2000 else 2),
        "client_workers": args.workers or min(4, max(2, n // 2500)),
    }
    started = time.time()
    with live_app(args, "live", "bench") as run:
        code = create_live_assembly()
        joining = run.app(shape["app_processes"], args.ws, args.server)
        joined = join_all(joining.ports, code, n)
        joining.stop()  # every mode's servers start alike, fresh, after the joins
        people = plan_people(joined, args.window, args.dissent, seed=n)
        records = [
            measure(run, mode, index, people, args, shape)
            for index in range(1, args.runs + 1)
            for mode in args.modes
        ]
    summary = summarise(records, args.modes)
    results = {
        "benchmark": "live_assembly",
        "command": " ".join(sys.argv),
        "participants": n,
        "window": args.window,
        **shape,
        "server": args.server,
        "ws": args.ws,
        "server_flags": {"uvicorn": UVICORN_FLAGS, "granian": GRANIAN_FLAGS},
        "runs": args.runs,
        "machine": machine(args.database_url, args.redis_url),
        "modes": records,  # every run of every mode, in the order measured
        "summary": summary,
        "ratios": ratios(summary),
        "notes": notes(summary),
        "total_seconds": round(time.time() - started, 1),
    }
    print()
    print(report(results))
    print(f"\n(total {results['total_seconds']} s)")
    write_results(results, f"live_{n}.json", args)
    failures = failed(records, n, args)
    for line in failures:
        print(f"FAIL: {line}")
    if failures:
        print("FAIL: the app lost positions or a client never saw the final tally")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
