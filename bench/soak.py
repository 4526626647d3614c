#!/usr/bin/env python
"""Soak: N participants connecting, taking positions and disconnecting for many minutes.

    .venv/bin/python bench/soak.py                                # 30 minutes, 500 participants
    .venv/bin/python bench/soak.py --minutes 2 --participants 100 --no-save

Starts the real app (uvicorn on PostgreSQL and Redis, as bench/live_assembly.py does) on a
throw-away database, opens a call for consensus and joins N participants through
`POST /api/v1/assemblies/<slug>/join/`. Then, for the whole run, every participant loops
(asyncio clients in two worker processes, each from its own 127.0.0.x address): connect
with its token, read the first snapshot, stay 5-60 s while taking 0-3 positions at random
moments (random kind, a reason for block and stand aside, a fresh request_id each, and
sometimes the same request_id again, on the same or on the next connection, which must be
acknowledged with the same position),
then disconnect, cleanly (close frame) or abruptly (TCP reset), wait 0-10 s and reconnect.

Every 15 s it samples the server's RSS (sum over the app processes), CPU, the server's
open connections and Redis `used_memory`. At the end it checks:

(a) every member's current position in PostgreSQL is the last kind acknowledged to it;
(b) history rows >= distinct acknowledged request ids, every acknowledged position is stored
    as acknowledged, and no (member, request_id) is stored twice;
(c) a fresh client sees the tally that PostgreSQL holds;
(d) memory is flat after warm-up: the mean RSS of the last third of the run is < 5 % above
    the middle third's (enforced from 10-minute runs; shorter ones only report it);
(e) zero errors: no connection failure, no unexpected close, no error frame.

It writes bench/results/soak_<N>_<minutes>m.json and bench/soak_memory.png (with
matplotlib) and exits 1 on FAIL.
"""

import argparse
import asyncio
import json
import random
import socket
import struct
import sys
import time
from collections import Counter
from pathlib import Path

from harness import (
    BENCH,
    ROOT,
    Servers,
    add_live_arguments,
    create_live_assembly,
    join_all,
    live_app,
    new_proposal,
    open_call,
    open_socket,
    start_workers,
    write_results,
)
from wsclient import Client, frame, tally_pattern

KINDS = ("agree", "stand_aside", "block")
EXPECTED_ERROR_CODES: frozenset[str] = frozenset()  # the call stays open: nothing is expected
ANSWER_TIMEOUT = 30.0
FIRST_SNAPSHOT_TIMEOUT = 30.0
WORKERS = 2
GROWTH_LIMIT = 0.05
ENFORCE_MEMORY_FROM_MINUTES = 10.0


# --- the client ---------------------------------------------------------------------------------


class SoakClient(Client):
    """wsclient.Client that also notices the first snapshot, every frame that is not a
    snapshot (an answer, or an unsolicited frame), and whether it was closed by us."""

    def __init__(self, *args):
        super().__init__(*args)
        loop = asyncio.get_running_loop()
        self.first = loop.create_future()
        self.gone = loop.create_future()
        self.leaving = False
        self.unsolicited: list[bytes] = []
        self.last_tally: tuple[int, int, int] | None = None

    def connection_lost(self, exc):
        super().connection_lost(exc)
        if not self.first.done():
            self.first.set_exception(ConnectionError("connection lost before the first snapshot"))
        if not self.gone.done():
            self.gone.set_result(True)

    def on_message(self, payload: bytes) -> None:
        if payload.startswith(b'{"type":"snapshot"'):
            if not self.first.done():
                self.first.set_result(True)
            if self.tally is not None:
                found = self.tally.search(payload)
                if found is not None:
                    self.last_tally = tuple(int(g) for g in found.groups())
            super().on_message(payload)
        elif payload.startswith((b'{"type":"mine"', b'{"type":"beat"')):
            return  # "your own state changed" (a page refetches it), or a heartbeat
        elif self.answer is not None and not self.answer.done():
            self.answer.set_result(payload)
        else:
            self.unsolicited.append(payload)

    def close_cleanly(self) -> None:
        self.leaving = True
        self.transport.write(frame(struct.pack("!H", 1000), opcode=8))

    def reset(self) -> None:
        """Drop the TCP connection without a close frame (RST)."""
        self.leaving = True
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


class Stats:
    def __init__(self):
        self.count = Counter()  # opened, closed_clean, closed_abrupt, sent, resent, acks, ...
        self.errors = Counter()  # by code, or by kind of failure
        self.samples: list[str] = []
        self.acks: dict[str, tuple[int, str, int]] = {}  # request_id -> (member, kind, position)
        self.last_kind: dict[int, str] = {}

    def error(self, code: str, detail: str = "") -> None:
        self.errors[code] += 1
        if len(self.samples) < 20:
            self.samples.append(f"{code}: {detail}"[:300])


# --- the worker processes -------------------------------------------------------------------


async def worker(conn, spec: dict) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    stop_at = spec["stop_at"]
    await asyncio.gather(
        *(
            participant(person, random.Random(f"{spec['seed']}-{person['member_id']}"), spec, stats)
            for person in spec["people"]
        )
    )
    conn.send(
        {
            "count": dict(stats.count),
            "errors": dict(stats.errors),
            "samples": stats.samples,
            "acks": stats.acks,
            "last_kind": stats.last_kind,
            "finished_late_s": round(max(0.0, time.time() - stop_at), 1),
        }
    )
    await loop.run_in_executor(None, conn.recv)  # "bye": keep the pipe until read


async def connect(person: dict, spec: dict, stats: Stats) -> SoakClient | None:
    client = None
    try:
        client = await asyncio.wait_for(
            open_socket(SoakClient, person["port"], person["token"], spec["source"]),
            FIRST_SNAPSHOT_TIMEOUT,
        )
        await asyncio.wait_for(client.opened, FIRST_SNAPSHOT_TIMEOUT)
        await asyncio.wait_for(client.first, FIRST_SNAPSHOT_TIMEOUT)
    except (OSError, TimeoutError, ConnectionError) as error:
        stats.error("connect_failed", f"member {person['member_id']}: {error!r}")
        if client is not None:
            client.transport.abort()
        return None
    stats.count["opened"] += 1
    return client


async def ask(client: SoakClient, message: dict, stats: Stats) -> dict | None:
    """Send one message and wait for its answer; None if the connection failed meanwhile."""
    client.answer = asyncio.get_running_loop().create_future()
    client.send_json(message)
    try:
        answer = json.loads(await asyncio.wait_for(client.answer, ANSWER_TIMEOUT))
    except (TimeoutError, ConnectionError) as error:
        stats.error("no_answer", f"{message['request_id']}: {error!r}")
        return None
    finally:
        client.answer = None
    if answer.get("request_id") != message["request_id"]:
        stats.error("wrong_answer", f"{message['request_id']}: {answer}")
    return answer


async def exchange(
    client: SoakClient, message: dict, person: dict, stats: Stats, *, repeat: bool
) -> dict | None:
    """Send one message, wait for its answer and record it; None if the answer was lost."""
    answer = await ask(client, message, stats)
    if answer is not None:
        settle(message, answer, person, stats, repeat=repeat)
    return answer


def settle(message: dict, answer: dict, person: dict, stats: Stats, *, repeat: bool) -> None:
    """Record an answer: an ack (its kind is now the member's), or an error frame."""
    rid = message["request_id"]
    if answer.get("type") == "ack":
        stats.count["acks"] += 1
        earlier = stats.acks.get(rid)
        if earlier is None:
            stats.acks[rid] = (person["member_id"], message["kind"], answer["position"])
            stats.last_kind[person["member_id"]] = message["kind"]
        elif earlier[2] != answer["position"]:
            stats.error("repeat_applied_twice", f"{rid}: {earlier[2]} then {answer['position']}")
        elif repeat:
            stats.count["repeats_acked_same"] += 1
    elif answer.get("type") == "error":
        code = answer.get("code", "?")
        stats.count[f"error_frame_{code}"] += 1
        if code not in EXPECTED_ERROR_CODES:
            stats.error(f"error_frame:{code}", f"{rid}: {answer.get('message')}")
    else:
        stats.error("unexpected_frame", str(answer)[:200])


async def participant(person: dict, rng: random.Random, spec: dict, stats: Stats) -> None:
    stop_at, proposal = spec["stop_at"], spec["proposal"]
    serial = 0
    unanswered: dict | None = None  # a position whose answer was lost: resent on reconnect
    acked: dict | None = None  # the last position acknowledged (resent now and then)

    async def pause(seconds: float) -> None:
        await asyncio.sleep(max(0.0, min(seconds, stop_at - time.time())))

    await pause(rng.uniform(0, 10))  # stagger the first connections
    while time.time() < stop_at:
        client = await connect(person, spec, stats)
        if client is None:
            await pause(rng.uniform(1, 3))
            continue
        try:
            if unanswered is not None:  # the retry the protocol is made for
                stats.count["retries_after_loss"] += 1
                if await exchange(client, unanswered, person, stats, repeat=True) is not None:
                    unanswered = None
            elif acked is not None and rng.random() < 0.2:
                # The same request on a new connection: the socket's memory of its acks is
                # gone, so the service's (member, request_id) lookup must answer it.
                stats.count["resent_after_reconnect"] += 1
                if await exchange(client, acked, person, stats, repeat=True) is None:
                    unanswered = acked
            started = time.time()
            stay = rng.uniform(5, 60)
            moments = sorted(rng.uniform(0, stay) for _ in range(rng.randint(0, 3)))
            for moment in moments:
                await pause(started + moment - time.time())
                if time.time() >= stop_at or client.closed or unanswered is not None:
                    break
                kind = rng.choice(KINDS)
                serial += 1
                message = {
                    "type": "position",
                    "proposal": proposal,
                    "kind": kind,
                    "reason": "" if kind == "agree" else f"{kind} of {person['name']} #{serial}",
                    "request_id": f"s-{person['member_id']}-{serial}",
                }
                stats.count["sent"] += 1
                answer = await exchange(client, message, person, stats, repeat=False)
                if answer is None:
                    unanswered = message
                    break
                if answer.get("type") == "ack":
                    acked = message
                if answer.get("type") == "ack" and rng.random() < 0.25:
                    stats.count["resent"] += 1
                    if await exchange(client, message, person, stats, repeat=True) is None:
                        unanswered = message
                        break
            if unanswered is None:
                await pause(started + stay - time.time())
            for payload in client.unsolicited:
                stats.error("unsolicited_frame", payload[:200].decode(errors="replace"))
            client.unsolicited.clear()
            if client.closed and not client.leaving:
                stats.error("closed_by_server", f"member {person['member_id']}")
            elif unanswered is not None or rng.random() < 0.5:
                client.reset()
                stats.count["closed_abrupt"] += 1
            else:
                client.close_cleanly()
                try:
                    await asyncio.wait_for(client.gone, 10)
                    stats.count["closed_clean"] += 1
                except TimeoutError:
                    stats.error("close_not_answered", f"member {person['member_id']}")
                    client.transport.abort()
        finally:
            if not client.closed:
                client.transport.abort()
        await pause(rng.uniform(0, 10))
    if unanswered is not None:
        stats.error("unresolved", f"{unanswered['request_id']} never answered")


# --- sampling the server ----------------------------------------------------------------------


def open_connections(ports: list[int]) -> int:
    """ESTABLISHED TCP connections on the server ports, from /proc/net/tcp."""
    wanted = {f"{port:04X}" for port in ports}
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and fields[1].rsplit(":", 1)[1] in wanted:
            count += 1
    return count


def redis_used_memory(url: str) -> int | None:
    try:
        import redis

        return int(redis.Redis.from_url(url).info("memory")["used_memory"])
    except Exception:
        return None


def sample(servers: Servers, started: float, last: dict, redis_url: str) -> dict:
    now, cpu = time.time(), servers.cpu()
    busy = (cpu - last["cpu"]) / max(1e-6, now - last["at"]) * 100
    last.update(cpu=cpu, at=now)
    return {
        "t_s": round(now - started, 1),
        "rss_kb": servers.rss_kb(),
        "cpu_percent": round(busy, 1),
        "cpu_total_s": round(cpu, 1),
        "open_connections": open_connections(servers.ports),
        "redis_used_memory": redis_used_memory(redis_url),
    }


def memory_verdict(samples: list[dict], minutes: float) -> dict:
    """Middle third against last third of the run, and the slope after warm-up."""
    duration = minutes * 60
    warm_up = 300.0 if minutes >= 15 else duration / 3
    after = [s for s in samples if s["t_s"] >= warm_up]
    middle = [s["rss_kb"] for s in samples if duration / 3 <= s["t_s"] < 2 * duration / 3]
    last = [s["rss_kb"] for s in samples if s["t_s"] >= 2 * duration / 3]
    result = {"warm_up_s": warm_up, "enforced": minutes >= ENFORCE_MEMORY_FROM_MINUTES}
    if not middle or not last or len(after) < 2:
        result.update(flat=None, note="too few samples")
        return result
    xs, ys = [s["t_s"] / 60 for s in after], [s["rss_kb"] for s in after]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    mean_middle, mean_last = sum(middle) / len(middle), sum(last) / len(last)
    growth = (mean_last - mean_middle) / mean_middle
    result.update(
        rss_warm_up_end_kb=after[0]["rss_kb"],
        rss_middle_mean_kb=round(mean_middle),
        rss_last_mean_kb=round(mean_last),
        rss_end_kb=samples[-1]["rss_kb"],
        growth_percent=round(growth * 100, 2),
        slope_kb_per_min=round(slope, 1),
        flat=growth < GROWTH_LIMIT,
    )
    return result


def plot(samples: list[dict], memory: dict, title: str) -> Path | None:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    minutes = [s["t_s"] / 60 for s in samples]
    ax.plot(minutes, [s["rss_kb"] / 1024 for s in samples], label="server RSS (MB)")
    ax.axvline(memory["warm_up_s"] / 60, color="grey", linestyle="--", label="end of warm-up")
    ax2 = ax.twinx()
    ax2.plot(
        minutes,
        [s["open_connections"] for s in samples],
        color="tab:orange",
        alpha=0.5,
        label="open connections",
    )
    ax2.set_ylabel("open connections")
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS of the app processes (MB)")
    ax.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    lines = ax.get_legend_handles_labels()
    more = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right")
    fig.tight_layout()
    path = BENCH / "soak_memory.png"
    fig.savefig(path, dpi=110)
    return path


# --- the end checks ----------------------------------------------------------------------------


async def final_tally(port: int, token: str, proposal_id: int, want: tuple, timeout: float):
    """A fresh client, until its snapshot's tally equals `want` (or the timeout)."""
    SoakClient.tally = tally_pattern(proposal_id)
    client = await open_socket(SoakClient, port, token)
    await asyncio.wait_for(client.first, FIRST_SNAPSHOT_TIMEOUT)
    deadline = time.time() + timeout
    while client.last_tally != want and time.time() < deadline:
        await asyncio.sleep(0.1)
    client.transport.close()
    return client.last_tally


def database_state(proposal_id: int) -> dict:
    from django.db.models import Count

    from proposals.models import Position

    rows = Position.objects.filter(proposal_id=proposal_id)
    current = dict(rows.filter(is_current=True).values_list("member_id", "kind"))
    duplicates = (
        rows.exclude(request_id="")
        .values("member_id", "request_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "current": current,
        "history_rows": rows.count(),
        "by_id": {pk: (m, k) for pk, m, k in rows.values_list("pk", "member_id", "kind")},
        "duplicate_request_ids": duplicates,
    }


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--participants", "-n", type=int, default=500)
    parser.add_argument("--processes", type=int, default=1, help="app (uvicorn) processes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample-every", type=float, default=15.0, help="seconds")
    add_live_arguments(parser, no_save_help="no results file, no plot")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    n, minutes = args.participants, args.minutes
    every = min(args.sample_every, max(1.0, minutes * 60 / 30))
    with live_app(args, "soak", "bench-soak") as run:
        code = create_live_assembly()
        servers = run.app(args.processes, "core.ws_server:PreparedFrameProtocol")
        joined = join_all(servers.ports, code, n)
        proposal = new_proposal("Soak")
        open_call(proposal)
        for i, person in enumerate(joined):
            person["port"] = servers.ports[i % len(servers.ports)]

        started = time.time()
        stop_at = started + minutes * 60
        pipes, processes = start_workers(
            worker, joined, WORKERS, stop_at=stop_at, proposal=proposal.pk, seed=args.seed
        )
        print(
            f"soak: {n} participants, {minutes:g} min, {args.processes} app process(es), "
            f"sampling every {every:g} s",
            flush=True,
        )
        last = {"cpu": servers.cpu(), "at": started}
        samples = [sample(servers, started, last, args.redis_url)]
        while time.time() < stop_at:
            time.sleep(
                max(
                    0.0,
                    min(every, stop_at - time.time(), started + len(samples) * every - time.time()),
                )
            )
            samples.append(s := sample(servers, started, last, args.redis_url))
            redis_mb = (s["redis_used_memory"] or 0) / 1e6
            print(
                f"  t={s['t_s']:7.1f}s rss={s['rss_kb'] / 1024:6.1f} MB"
                f" cpu={s['cpu_percent']:5.1f}% open={s['open_connections']:4d}"
                f" redis={redis_mb:.1f} MB",
                flush=True,
            )

        # --- wind down: clients finish their exchange in flight and leave -------------------
        reports = [pipe.recv() for pipe in pipes]
        for pipe in pipes:
            pipe.send("bye")
        for process in processes:
            process.join(timeout=30)
        count, errors, error_samples = Counter(), Counter(), []
        acks: dict[str, tuple[int, str, int]] = {}
        last_kind: dict[int, str] = {}
        for report in reports:
            count.update(report["count"])
            errors.update(report["errors"])
            error_samples += report["samples"]
            acks.update(report["acks"])
            last_kind.update(report["last_kind"])
        time.sleep(1.0)
        samples.append(sample(servers, started, last, args.redis_url))

        state = database_state(proposal.pk)
        member_ids = [p["member_id"] for p in joined]
        mismatched = [
            (m, last_kind.get(m), state["current"].get(m))
            for m in member_ids
            if last_kind.get(m) != state["current"].get(m)
        ]
        wrongly_stored = [
            (rid, member, kind, pk)
            for rid, (member, kind, pk) in acks.items()
            if state["by_id"].get(pk) != (member, kind)
        ]
        db_tally = tuple(sum(1 for kind in state["current"].values() if kind == k) for k in KINDS)
        seen_tally = asyncio.run(
            final_tally(servers.ports[0], joined[0]["token"], proposal.pk, db_tally, 30.0)
        )
        memory = memory_verdict(samples, minutes)
        checks = {
            "a_current_equals_last_ack": not mismatched,
            "b_history_covers_acks": state["history_rows"] >= len(acks)
            and not wrongly_stored
            and state["duplicate_request_ids"] == 0,
            "c_final_client_sees_db_tally": seen_tally == db_tally,
            "d_memory_flat": memory["flat"] if memory["enforced"] else True,
            "e_zero_errors": not errors,
        }
        passed = all(checks.values())
        results = {
            "participants": n,
            "minutes": minutes,
            "app_processes": args.processes,
            "client_workers": WORKERS,
            "seed": args.seed,
            "connections_opened": count["opened"],
            "connections_closed_clean": count["closed_clean"],
            "connections_closed_abrupt": count["closed_abrupt"],
            "positions_sent": count["sent"],
            "repeats_sent": count["resent"],
            "repeats_sent_after_reconnect": count["resent_after_reconnect"],
            "retries_after_loss": count["retries_after_loss"],
            "acks": count["acks"],
            "acked_request_ids": len(acks),
            "repeats_acked_with_same_position": count["repeats_acked_same"],
            "history_rows": state["history_rows"],
            "duplicate_request_id_rows": state["duplicate_request_ids"],
            "members_with_a_position": len(state["current"]),
            "mismatched_members": mismatched[:20],
            "wrongly_stored_acks": wrongly_stored[:20],
            "db_tally": dict(zip(KINDS, db_tally, strict=True)),
            "final_client_tally": dict(zip(KINDS, seen_tally, strict=True)) if seen_tally else None,
            "errors": dict(errors),
            "error_samples": error_samples[:20],
            "error_frames_by_code": {
                k.removeprefix("error_frame_"): v
                for k, v in count.items()
                if k.startswith("error_frame_")
            },
            "clients_finished_late_s": max(r["finished_late_s"] for r in reports),
            "memory": memory,
            "peak_rss_mb": round(servers.peak_kb() / 1024, 1),
            "checks": checks,
            "verdict": "PASS" if passed else "FAIL",
            "samples": samples,
        }
        summary = {k: v for k, v in results.items() if k != "samples"}
        print(json.dumps(summary, indent=1))
        print()
        for key, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {key}")
        if not memory["enforced"]:
            print(
                f"  (memory: {memory.get('growth_percent')} % growth, "
                f"{memory.get('slope_kb_per_min')} KB/min: reported, not enforced under "
                f"{ENFORCE_MEMORY_FROM_MINUTES:g} minutes)"
            )
        print(
            f"{results['verdict']}: {n} participants, {minutes:g} min, "
            f"{count['opened']} connections, {count['acks']} acks "
            f"({len(acks)} request ids), {state['history_rows']} stored, "
            f"{sum(errors.values())} errors, RSS growth {memory.get('growth_percent')} %, "
            f"slope {memory.get('slope_kb_per_min')} KB/min"
        )
        write_results(results, f"soak_{n}_{minutes:g}m.json", args)
        if not args.no_save:
            image = plot(samples, memory, f"Soak: {n} participants, {minutes:g} min, churn")
            if image:
                print(f"wrote {image.relative_to(ROOT)}")
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
