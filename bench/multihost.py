#!/usr/bin/env python
"""Benchmark: a live assembly across hosts — Linux network namespaces, 20 ms between hosts.

    sudo .venv/bin/python bench/multihost.py -n 2000                      # three app hosts
    sudo .venv/bin/python bench/multihost.py -n 10000 --runs 3
    sudo .venv/bin/python bench/multihost.py -n 2000 --kill app3          # lose an app host
    sudo .venv/bin/python bench/multihost.py -n 2000 --sentinel --kill redis  # lose Redis
    sudo .venv/bin/python bench/multihost.py --cleanup                    # a lab left behind

One command builds the lab (bench/netns.py: a namespace per host on a bridge, 10.77.0.0/24,
`tc netem` delaying every host's packets by --delay ms, so 2x that round trip), starts
PostgreSQL (a private cluster: initdb in a temporary directory, run as `postgres`), Redis
(with --sentinel: a primary, a replica and three Sentinels) and one uvicorn process of the
real app (multitude.asgi:application, as bench/live_assembly.py starts it) on each of three
app hosts, and drives N participants from two load-generator hosts. Everything is torn down
at the end, on failure and on Ctrl-C (or SIGTERM); `--cleanup` removes a lab left over by a
run that was killed with SIGKILL.

Setup (migrate, the assembly, N participants joining through `POST .../join/`) runs before
the delay is switched on; sockets connect, and everything measured happens, with it on.
Each run: N sockets spread round-robin over the three app hosts, a call for consensus on a
new proposal, every participant takes a position at a random moment of a W-second window.
The client (ReconnectingClient) reconnects with exponential backoff and full jitter when its
socket is lost, to the next app host, resyncs from the first snapshot the server sends, and
resends an unanswered position with the same request id.

--kill app3: the app host's uvicorn process is SIGKILLed at --kill-at of the window.
--kill app3 --silent: app3 is cut off the network instead (its interface down): no FIN, no
reset, its sockets just go quiet, as in a partition or a host that hangs. The clients, like
the browser's, give a connection up after three heartbeats (--heartbeat, the apps'
LIVE_HEARTBEAT_SECONDS, 10 s by default) without a frame, not even a `beat`.
--kill redis (needs --sentinel): the Redis primary's redis-server is SIGKILLed; Sentinel
promotes the replica. "resume" is from the kill until every client has seen a tally that
includes a position acknowledged after the kill.

Measured per run (bench/results/multihost_<N>[_<kill>].json, raw): acknowledged, refused
(error answers), positions stored in PostgreSQL and whether every acknowledged member is
among them (`lost` must be 0), clients converged on the final tally and the lag, visibility
p50/p95/p99, reconnections, CPU of each host (processes alive at the end), the load
generator's own CPU, and the machine and versions. Exit 1 when something acknowledged was
lost, a client never converged, or a position was refused.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import (
    LIVE_SLUG,
    RESULTS,
    ROOT,
    UVICORN_FLAGS,
    cpu_seconds,
    create_live_assembly,
    machine,
    memory_kb,
    new_proposal,
    open_call,
    own_cpu,
    raise_file_limit,
)
from live_assembly import plan_people, retire, when_seen
from netns import Lab, cleanup, netem_command
from wsclient import SEQ, Client, tally_pattern

PREFIX = "mt16"
APP_HOSTS = ("app1", "app2", "app3")
LOAD_HOSTS = ("lg1", "lg2")
APP_PORT = 8000
SERVICE = "multitude"  # the Sentinel master name

# --- the lab --------------------------------------------------------------------------------


def lab_hosts(sentinel: bool) -> dict[str, int]:
    hosts = {"lg1": 2, "lg2": 3, "app1": 11, "app2": 12, "app3": 13, "pg": 20, "redis1": 30}
    if sentinel:
        hosts["redis2"] = 31
    return hosts


def wait_port(ip: str, port: int, process: subprocess.Popen, what: str, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection((ip, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{what} did not listen on {ip}:{port}")


def start_postgres(lab: Lab, tmp: Path) -> subprocess.Popen:
    data = tmp / "pg"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            "initdb",
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            f"listen_addresses = '{lab.ip('pg')},127.0.0.1'\nport = 5432\n"
            f"unix_socket_directories = '{data}'\nmax_connections = 300\n"
            "shared_buffers = 256MB\nsynchronous_commit = on\nfsync = on\n"
        )
    with open(data / "pg_hba.conf", "a") as hba:
        hba.write("host all all 10.77.0.0/24 trust\n")
    return lab.popen("pg", ["postgres", "-D", str(data)], user="postgres", log=tmp / "pg.log")


def redis_server(lab: Lab, host: str, tmp: Path, replica_of: str | None = None):
    """A Redis server on `host` (no persistence), a replica of `replica_of` if given."""
    argv = ["redis-server", "--bind", lab.ip(host), "--port", "6379", "--save", "",
            "--appendonly", "no", "--protected-mode", "no", "--dir", str(tmp)]  # fmt: skip
    if replica_of:
        argv += ["--replicaof", lab.ip(replica_of), "6379"]
    return lab.popen(host, argv, log=tmp / f"{host}.log")


def start_redis(lab: Lab, tmp: Path, sentinel: bool) -> dict:
    redis = {"primary": redis_server(lab, "redis1", tmp)}
    redis["servers"] = {"redis1": redis["primary"]}
    if not sentinel:
        return redis
    redis["replica"] = redis["servers"]["redis2"] = redis_server(lab, "redis2", tmp, "redis1")
    redis["sentinels"] = []
    for host in ("redis1", "redis2", "pg"):
        conf = tmp / f"sentinel-{host}.conf"
        conf.write_text(
            f"port 26379\nbind {lab.ip(host)}\nprotected-mode no\ndir {tmp}\n"
            f"sentinel monitor {SERVICE} {lab.ip('redis1')} 6379 2\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        redis["sentinels"].append(
            lab.popen(
                host, ["redis-server", str(conf), "--sentinel"], log=tmp / f"sentinel-{host}.log"
            )
        )
    return redis


def app_env(lab: Lab, sentinel: bool) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@{lab.ip('pg')}:5432/multitude",
        "REDIS_URL": f"redis://{lab.ip('redis1')}:6379/0",
        "REDIS_PREFIX": "bench",
        "ALLOWED_HOSTS": ",".join(lab.ip(h) for h in APP_HOSTS),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore::UserWarning",
        "JOIN_GUESTS_PER_MINUTE": "1000000",  # the crowd joins from two addresses
    }
    if sentinel:
        env["REDIS_URL"] = f"redis://{SERVICE}/0"
        env["REDIS_SENTINELS"] = ",".join(f"{lab.ip(h)}:26379" for h in ("redis1", "redis2", "pg"))
        env["REDIS_SENTINEL_MASTER"] = SERVICE
    env.pop("TESTING", None)
    return env


def start_app(lab: Lab, host: str, env: dict, ws: str, tmp: Path) -> subprocess.Popen:
    flags = list(UVICORN_FLAGS)
    flags[flags.index("--host") + 1] = lab.ip(host)
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "multitude.asgi:application",
        "--port",
        str(APP_PORT),
        *flags,
        "--ws",
        ws,
    ]
    return lab.popen(host, argv, env=env, cwd=ROOT, log=tmp / f"{host}.log")


def join_all(lab: Lab, code: str, n: int, threads: int = 16) -> list[dict]:
    """N participants join through the real endpoint (round-robin over the app hosts)."""
    from concurrent.futures import ThreadPoolExecutor
    from http.client import HTTPConnection

    local = threading.local()
    started = time.time()

    def join(i: int) -> dict:
        host = lab.ip(APP_HOSTS[i % len(APP_HOSTS)])
        connections = local.__dict__.setdefault("connections", {})
        body = json.dumps({"code": code, "display_name": f"P{i}"})
        for attempt in range(5):
            try:
                if host not in connections:
                    connections[host] = HTTPConnection(host, APP_PORT, timeout=60)
                connections[host].request(
                    "POST",
                    f"/api/v1/assemblies/{LIVE_SLUG}/join/",
                    body=body,
                    headers={"Content-Type": "application/json", "Host": host},
                )
                response = connections[host].getresponse()
                raw = response.read()
                if response.status != 201:
                    raise RuntimeError(f"join answered {response.status}: {raw[:300]!r}")
                data = json.loads(raw)
                return {"token": data["token"], "member_id": data["member"]["id"], "name": f"P{i}"}
            except (OSError, ConnectionError):
                connections.pop(host).close()
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("join failed repeatedly")

    with ThreadPoolExecutor(threads) as pool:
        joined = list(pool.map(join, range(n)))
    print(f"{n} participants joined through the API in {time.time() - started:.1f} s", flush=True)
    return joined


# --- the client: reconnects with backoff and jitter -----------------------------------------

BACKOFF_BASE, BACKOFF_CAP, RECONNECT_ATTEMPTS = 0.25, 4.0, 30


class Link(Client):
    """One connection of a ReconnectingClient; what it reads is kept by its owner."""

    def __init__(self, owner, host: str, token: str):
        super().__init__(f"{host}:{APP_PORT}", f"/ws/assemblies/{LIVE_SLUG}/", token)
        self.owner = owner
        self.heard_at = time.time()

    def data_received(self, data: bytes) -> None:
        self.heard_at = time.time()  # anything, a `beat` at least (see watch_for_silence)
        super().data_received(data)

    def on_message(self, payload: bytes) -> None:
        owner = self.owner
        if payload.startswith(b'{"type":"snapshot"'):
            owner.snapshots += 1
            owner.last_snapshot_at = time.time()
            seq = int(SEQ.search(payload, 0, 64).group(1))
            if seq < self.last_seq:
                owner.stale += 1
                return
            self.last_seq = seq  # per connection: a new connection resyncs from its first
            if self.tally is None:
                return
            found = self.tally.search(payload)
            if found is None:
                return
            total = int(found.group(1)) + int(found.group(2)) + int(found.group(3))
            if total > owner.best:
                owner.best = total
                owner.totals.append(total)
                owner.times.append(owner.last_snapshot_at)
        elif payload.startswith((b'{"type":"mine"', b'{"type":"beat"')):
            return
        elif self.answer is not None and not self.answer.done():
            self.answer.set_result(payload)

    def connection_lost(self, exc):
        super().connection_lost(exc)
        self.owner.lost(self)


class ReconnectingClient:
    def __init__(self, person: dict, hosts: list[str], source: str):
        self.person, self.hosts, self.source = person, hosts, source
        self.home = person["host_index"]
        self.link: Link | None = None
        self.up = asyncio.Event()
        self.best, self.totals, self.times = -1, [], []
        self.snapshots = self.stale = self.reconnects = self.retries = 0
        self.last_snapshot_at = 0.0
        self.lost_at: list[float] = []
        self.back_at: list[float] = []  # first snapshot on the new connection
        self.stopping = False
        self.silent = 0  # connections given up after three heartbeats of silence

    async def connect(self, host_index: int, deadline: float) -> bool:
        loop = asyncio.get_running_loop()
        host = self.hosts[host_index % len(self.hosts)]
        try:
            _t, link = await asyncio.wait_for(
                loop.create_connection(
                    lambda: Link(self, host, self.person["token"]),
                    host,
                    APP_PORT,
                    local_addr=(self.source, 0),
                ),
                max(0.1, deadline - time.time()),
            )
            await asyncio.wait_for(link.opened, max(0.1, deadline - time.time()))
        except (OSError, TimeoutError, ConnectionError):
            return False
        self.link, self.home = link, host_index % len(self.hosts)
        self.up.set()
        return True

    def lost(self, link: Link) -> None:
        if link is not self.link or self.stopping:
            return
        self.link = None
        self.up.clear()
        self.lost_at.append(time.time())
        asyncio.get_running_loop().create_task(self.reconnect())

    async def reconnect(self) -> None:
        deadline = time.time() + 120
        for attempt in range(RECONNECT_ATTEMPTS):
            # full jitter: a random wait up to an exponentially growing cap
            await asyncio.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
            if self.stopping or time.time() > deadline:
                return
            before = self.snapshots
            # another host at random (what a load balancer would do), the lost one last
            others = [i for i in range(len(self.hosts)) if i != self.home]
            choice = random.choice(others) if attempt < 2 * len(others) else self.home
            if await self.connect(choice, deadline):
                self.reconnects += 1
                while self.snapshots == before and self.link and time.time() < deadline:
                    await asyncio.sleep(0.02)
                self.back_at.append(self.last_snapshot_at)
                return

    async def take_position(self, message: dict, timeout: float):
        """Send; on a lost connection wait for the next one and resend (same request id)."""
        deadline = time.time() + timeout
        for _attempt in range(6):
            try:
                await asyncio.wait_for(self.up.wait(), max(0.1, deadline - time.time()))
            except TimeoutError:
                return ("timeout", None, "")
            link = self.link
            if link is None:
                continue
            link.answer = asyncio.get_running_loop().create_future()
            link.send_json(message)
            try:
                answer = await asyncio.wait_for(link.answer, max(0.1, deadline - time.time()))
            except ConnectionError:
                self.retries += 1
                continue
            except TimeoutError:
                return ("timeout", None, "")
            kind = "ack" if answer.startswith(b'{"type":"ack"') else "error"
            return (kind, time.time(), "" if kind == "ack" else answer[:200].decode())
        return ("timeout", None, "")


async def watch_for_silence(clients: list[ReconnectingClient], heartbeat: float) -> None:
    """As the browser client does: a connection that brought nothing, not even a `beat`, for
    three heartbeats is given up (reset) and the client reconnects elsewhere."""
    limit = 3 * heartbeat + 2
    while True:
        await asyncio.sleep(1.0)
        now = time.time()
        for client in clients:
            link = client.link
            if link is not None and not client.stopping and now - link.heard_at > limit:
                client.silent += 1
                link.transport.abort()  # connection_lost -> lost() -> reconnect()


def worker_main(conn, spec: dict) -> None:
    raise_file_limit()
    with open(f"/run/netns/{spec['netns']}") as handle:
        os.setns(handle.fileno(), os.CLONE_NEWNET)
    try:
        import uvloop

        uvloop.run(worker(conn, spec))
    except ImportError:
        asyncio.run(worker(conn, spec))


async def worker(conn, spec: dict) -> None:
    loop = asyncio.get_running_loop()

    async def recv():
        return await loop.run_in_executor(None, conn.recv)

    hosts = spec["hosts"]
    clients = [ReconnectingClient(p, hosts, spec["source"]) for p in spec["people"]]
    gate = asyncio.Semaphore(64)

    async def open_one(client: ReconnectingClient) -> None:
        async with gate:
            deadline = time.time() + 180
            for attempt in range(8):
                if await client.connect(client.home + (attempt // 2), deadline):
                    return
                await asyncio.sleep(random.uniform(0, BACKOFF_BASE * 2**attempt))

    started = time.time()
    await asyncio.gather(*(open_one(c) for c in clients))
    watchdog = loop.create_task(watch_for_silence(clients, spec["heartbeat"]))
    conn.send(("connected", sum(c.link is not None for c in clients), time.time() - started))

    _go, start, proposal_id = await recv()
    Client.tally = tally_pattern(proposal_id)
    cpu_at_go = own_cpu()

    async def act(client: ReconnectingClient):
        person = client.person
        await asyncio.sleep(max(0.0, start + person["offset"] - time.time()))
        message = {
            "type": "position",
            "proposal": proposal_id,
            "kind": person["kind"],
            "reason": person["reason"],
            "request_id": f"m-{proposal_id}-{person['member_id']}",
        }
        return await client.take_position(message, spec["answer_timeout"])

    outcomes = await asyncio.gather(*(act(c) for c in clients))
    acks = sorted(o[1] for o in outcomes if o[0] == "ack")
    acked_members = [
        c.person["member_id"] for c, o in zip(clients, outcomes, strict=True) if o[0] == "ack"
    ]
    errors = [o[2] for o in outcomes if o[0] == "error"]
    timeouts = sum(1 for o in outcomes if o[0] == "timeout")
    conn.send(("acked", acks, acked_members, errors[:5], len(errors), timeouts))

    _final, total, deadline = await recv()
    while time.time() < deadline and any(c.best < total for c in clients):
        await asyncio.sleep(0.05)
    seen_by_all, converged = when_seen(clients, total)
    conn.send(
        (
            "done",
            seen_by_all,
            converged,
            {
                "snapshots": sum(c.snapshots for c in clients),
                "stale_snapshots": sum(c.stale for c in clients),
                "reconnects": sum(c.reconnects for c in clients),
                "given_up_for_silence": sum(c.silent for c in clients),
                "resent_positions": sum(c.retries for c in clients),
                "lost_at": [t for c in clients for t in c.lost_at],
                "back_at": [t for c in clients for t in c.back_at],
                "connected_at_end": sum(c.link is not None for c in clients),
                "cpu_s": round(own_cpu() - cpu_at_go, 2),
                "cpu_total_s": round(own_cpu(), 2),
            },
        )
    )
    watchdog.cancel()
    for client in clients:
        client.stopping = True
        if client.link is not None:
            client.link.transport.close()


def start_workers(lab: Lab, people: list[dict], count: int, **spec):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    hosts = [lab.ip(h) for h in APP_HOSTS]
    for w in range(count):
        load_host = LOAD_HOSTS[w % len(LOAD_HOSTS)]
        parent, child = ctx.Pipe()
        share = {
            "people": people[w::count],
            "source": lab.ip(load_host),
            "netns": lab.ns(load_host),
            "hosts": hosts,
            **spec,
        }
        process = ctx.Process(target=worker_main, args=(child, share), daemon=True)
        process.start()
        pipes.append(parent)
        processes.append(process)
    return pipes, processes


# --- one run ------------------------------------------------------------------------------------


def stored_members(proposal_id: int) -> set[int]:
    from proposals.models import Position

    return set(
        Position.objects.filter(proposal_id=proposal_id, is_current=True).values_list(
            "member_id", flat=True
        )
    )


def pct(values: list[float], p: float):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 3)


def run_once(lab, apps, redis, people, args, index: int) -> dict:
    n = len(people)
    proposal = new_proposal(f"Multihost run {index}")
    pipes, processes = start_workers(
        lab,
        [dict(p) for p in people],
        args.workers,
        answer_timeout=max(90.0, args.cap),
        heartbeat=args.heartbeat,
    )
    connected, connect_s = 0, 0.0
    for pipe in pipes:
        _tag, count, seconds = pipe.recv()
        connected += count
        connect_s = max(connect_s, seconds)
    print(f"  run {index}: {connected}/{n} connected in {connect_s:.1f} s", flush=True)
    time.sleep(1.0)
    rss = {host: memory_kb(apps[host].pid, "VmRSS") for host in APP_HOSTS}
    open_call(proposal)
    time.sleep(0.5)
    # long-lived processes only: PostgreSQL's backends and the client workers come and go
    cpu_hosts = [h for h in lab.hosts if h.startswith(("app", "redis"))]
    cpu_before = {h: lab.cpu_of_host(h) for h in cpu_hosts}
    app_cpu_before = {h: cpu_seconds(apps[h].pid) for h in APP_HOSTS}
    start = time.time() + 0.5
    killed = {}
    timer = None
    if args.kill:
        at = start + args.kill_at * args.window
        # the Redis primary is whichever the Sentinels name now (a run may follow a failover)
        target = args.kill if args.kill in apps else master_host(lab)
        killed["host"] = target

        def kill():
            victim = apps[target] if target in apps else redis["servers"][target]
            app_cpu_before.pop(target, None)
            if args.silent:
                # Cut off without a word: no FIN, no reset; its sockets just go quiet.
                lab_link(lab, target, "down")
            else:
                with contextlib.suppress(ProcessLookupError):
                    victim.send_signal(signal.SIGKILL)
            killed["at"] = time.time()
            how = "cut off" if args.silent else "killed"
            print(f"  run {index}: {how} {target} (pid {victim.pid})", flush=True)

        timer = threading.Timer(max(0.0, at - time.time()), kill)
        timer.start()
    for pipe in pipes:
        pipe.send(("go", start, proposal.pk))
    acked, acked_members, errors, error_count, timeouts = [], [], [], 0, 0
    for pipe in pipes:
        _tag, acks, members, sample, n_errors, n_timeouts = pipe.recv()
        acked += acks
        acked_members += members
        errors += sample
        error_count += n_errors
        timeouts += n_timeouts
    if timer:
        timer.join()
    acked.sort()
    total = len(acked)
    # every client is still connected: each app process should listen on the primary now
    redis_after = redis_state(lab) if args.sentinel else None
    deadline = time.time() + args.cap
    for pipe in pipes:
        pipe.send(("final", total, deadline))
    seen_by_all, converged, extra = None, [], []
    for pipe in pipes:
        _tag, seen, conv, more = pipe.recv()
        seen_by_all = (
            seen
            if seen_by_all is None
            else [max(a, b) for a, b in zip(seen_by_all, seen, strict=False)]
        )
        converged += conv
        extra.append(more)
    cpu = {h: round(lab.cpu_of_host(h) - cpu_before[h], 2) for h in cpu_hosts if h != args.kill}
    app_cpu = {
        h: round(cpu_seconds(apps[h].pid) - app_cpu_before[h], 2)
        for h in app_cpu_before
        if apps[h].poll() is None
    }
    for process in processes:
        process.join(timeout=30)
    stored = stored_members(proposal.pk)
    retire(proposal.pk)  # closed and aged out of the snapshot: the next run starts alike
    lost = len(set(acked_members) - stored)
    finite = [c for c in converged if c != float("inf")]
    all_converged = len(finite) == len(converged) == n
    last_ack = acked[-1] if acked else start
    latencies = [
        max(0.0, seen_by_all[r] - acked[r - 1])
        for r in range(1, total + 1)
        if seen_by_all[r] != float("inf")
    ]
    result = {
        "run": index,
        "participants": n,
        "connected": connected,
        "connect_seconds": round(connect_s, 1),
        "window": args.window,
        "acknowledged": total,
        "refused": error_count,
        "error_sample": errors[:3],
        "timeouts": timeouts,
        "stored": len(stored),
        "lost": lost,
        "converged_clients": len(finite),
        "lag_s": round(max(finite) - last_ack, 3) if all_converged else None,
        "latency_p50_s": pct(latencies, 50),
        "latency_p95_s": pct(latencies, 95),
        "latency_p99_s": pct(latencies, 99),
        "latency_max_s": pct(latencies, 100),
        "unseen_ranks": total - len(latencies),
        "app_cpu_s": app_cpu,
        "host_cpu_s": cpu,
        "load_generator_cpu_s": round(sum(e["cpu_s"] for e in extra), 2),
        "load_generator_cpu_total_s": round(sum(e["cpu_total_s"] for e in extra), 2),
        "app_rss_connected_mb": {h: round(kb / 1024, 1) for h, kb in rss.items()},
        "snapshots_received": sum(e["snapshots"] for e in extra),
        "stale_snapshots_dropped": sum(e["stale_snapshots"] for e in extra),
        "reconnects": sum(e["reconnects"] for e in extra),
        "given_up_for_silence": sum(e["given_up_for_silence"] for e in extra),
        "resent_positions": sum(e["resent_positions"] for e in extra),
        "connected_at_end": sum(e["connected_at_end"] for e in extra),
    }
    if killed:
        t = killed["at"]
        result["killed"] = args.kill
        result["how"] = "network cut silently" if args.silent else "SIGKILL"
        result["killed_host"] = killed["host"]
        result["killed_at_s"] = round(t - start, 2)
        back = [b - t for e in extra for b in e["back_at"] if b >= t]
        result["reconnected_clients"] = len(back)
        result["back_after_kill_p50_s"] = pct(back, 50)
        result["back_after_kill_max_s"] = pct(back, 100)
        after = [r for r in range(1, total + 1) if acked[r - 1] > t]
        if after:
            first = min(seen_by_all[r] for r in after)
            result["resume_s"] = round(first - t, 3) if first != float("inf") else None
            # the longest a position acknowledged after the kill waited to be seen by all
            result["worst_visibility_after_kill_s"] = round(
                max(seen_by_all[r] - acked[r - 1] for r in after), 3
            )
    if args.sentinel:
        result["redis_after"] = redis_after
        if killed and args.kill == "redis":
            switched = switch_master_times(args.tmp)
            after = [t - killed["at"] for t in switched if t > killed["at"] - 1]
            # when the Sentinels announced the new primary, from the kill (their log)
            result["switch_master_after_kill_s"] = round(min(after), 3) if after else None
    print(f"  run {index}: {json.dumps(result)}", flush=True)
    return result


def lab_link(lab: Lab, host: str, state: str) -> None:
    subprocess.run(["ip", "-n", lab.ns(host), "link", "set", "eth0", state], check=True)


def master_host(lab: Lab) -> str:
    from redis.sentinel import Sentinel

    sentinel = Sentinel([(lab.ip(h), 26379) for h in ("redis1", "redis2", "pg")], socket_timeout=2)
    ip, _port = sentinel.discover_master(SERVICE)
    return next(h for h in lab.hosts if lab.ip(h) == ip)


def restore(lab: Lab, apps: dict, redis: dict, host: str, env: dict, args, tmp: Path) -> None:
    """Bring the host killed by the last run back: the app restarted; Redis as a replica of the
    current primary, once the Sentinels list it as a healthy replica (so the next run's
    failover has somewhere to go)."""
    if host in apps:
        if args.silent:  # connected again, and restarted to drop the sockets it still holds
            lab_link(lab, host, "up")
            with contextlib.suppress(ProcessLookupError):
                apps[host].send_signal(signal.SIGKILL)
            apps[host].wait(timeout=30)
        apps[host] = start_app(lab, host, env, args.ws, tmp)
        wait_port(lab.ip(host), APP_PORT, apps[host], f"app on {host}")
        return
    from redis.sentinel import Sentinel

    primary = master_host(lab)
    redis["servers"][host] = redis_server(lab, host, tmp, replica_of=primary)
    sentinel = Sentinel([(lab.ip(h), 26379) for h in ("redis1", "redis2", "pg")], socket_timeout=2)
    deadline = time.time() + 60
    while time.time() < deadline:
        if (lab.ip(host), 6379) in sentinel.discover_slaves(SERVICE):
            time.sleep(2)  # let the replica finish its first sync
            return
        time.sleep(0.5)
    raise TimeoutError(f"the Sentinels do not list {host} as a replica")


def switch_master_times(tmp: Path) -> list[float]:
    """The times of every '+switch-master' line in the Sentinels' logs (UTC, epoch seconds)."""
    from datetime import UTC, datetime

    times = []
    for log in tmp.glob("sentinel-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "+switch-master" in line:
                stamp = " ".join(line.split()[1:5])  # "06 Dec 2026 20:50:08.027"
                with contextlib.suppress(ValueError):
                    at = datetime.strptime(stamp, "%d %b %Y %H:%M:%S.%f").replace(tzinfo=UTC)
                    times.append(at.timestamp())
    return times


def redis_state(lab: Lab) -> dict:
    """Which Redis the Sentinels name as master now, and who listens to the live groups there
    (one subscriber per app process means the fan-out runs through it again)."""
    import redis as redis_py
    from redis.sentinel import Sentinel

    state = {}
    try:
        sentinel = Sentinel(
            [(lab.ip(h), 26379) for h in ("redis1", "redis2", "pg")], socket_timeout=2
        )
        host, port = sentinel.discover_master(SERVICE)
        state["master"] = f"{host}:{port}"
        client = redis_py.Redis(host=host, port=port, socket_timeout=2)
        channels = [c.decode() for c in client.pubsub_channels("*live.assembly*")]
        state["live_group_subscribers"] = dict(client.pubsub_numsub(*channels)) if channels else {}
        state["live_group_subscribers"] = {
            (k.decode() if isinstance(k, bytes) else k): v
            for k, v in state["live_group_subscribers"].items()
        }
    except Exception as error:  # reported, not fatal: the figures above stand
        state["error"] = repr(error)[:200]
    return state


def summary(runs: list[dict]) -> dict:
    out = {}
    for key in (
        "acknowledged",
        "refused",
        "lost",
        "lag_s",
        "latency_p50_s",
        "latency_p95_s",
        "latency_p99_s",
        "load_generator_cpu_s",
        "resume_s",
        "connect_seconds",
    ):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            out[key] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
                "runs": len(values),
            }
    out["app_cpu_s_sum"] = {
        "median": statistics.median(sum(r["app_cpu_s"].values()) for r in runs),
        "runs": len(runs),
    }
    return out


def report() -> str:
    """A Markdown table of every bench/results/multihost_*.json: median (min to max) of its runs."""

    def cell(runs, key, unit=" s"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if not values:
            return "—"
        med = statistics.median(values)
        if len(values) == 1:
            return f"{med}{unit}"
        return f"{med}{unit} ({min(values)} to {max(values)})"

    rows = [
        "| file | N | runs | acked, per run | stored, per run | lost | refused | no answer "
        "| lag | visibility p50 | p99 | resume after the kill | app CPU (3 hosts) "
        "| load-generator CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path in sorted(RESULTS.glob("multihost_*.json")):
        data = json.loads(path.read_text())
        runs = data["runs"]
        counts = " | ".join(
            [", ".join(str(r[k]) for r in runs) for k in ("acknowledged", "stored")]
            + [str(sum(r[k] for r in runs)) for k in ("lost", "refused", "timeouts")]
        )
        for r in runs:
            r["app_cpu_total_s"] = round(sum(r["app_cpu_s"].values()), 2)
        rows.append(
            f"| {path.stem} | {data['participants']} | {len(runs)} | {counts}"
            f" | {cell(runs, 'lag_s')} | {cell(runs, 'latency_p50_s')}"
            f" | {cell(runs, 'latency_p99_s')} | {cell(runs, 'resume_s')}"
            f" | {cell(runs, 'app_cpu_total_s')} | {cell(runs, 'load_generator_cpu_s')} |"
        )
    return "\n".join(rows)


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", "-n", type=int, default=2000)
    parser.add_argument("--window", "-w", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="client processes (default 2-4)")
    parser.add_argument("--delay", type=float, default=20.0, help="one-way ms between hosts")
    parser.add_argument("--cap", type=float, default=60.0, help="max wait for convergence (s)")
    parser.add_argument("--kill", choices=[*APP_HOSTS, "redis"], help="kill it mid-call")
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of the window")
    parser.add_argument(
        "--silent",
        action="store_true",
        help="cut the --kill app host off the network without a word instead of SIGKILL",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=10.0,
        help="LIVE_HEARTBEAT_SECONDS of the apps; clients give up after three silent ones",
    )
    parser.add_argument("--sentinel", action="store_true", help="Redis primary+replica+Sentinel")
    parser.add_argument("--dissent", type=float, default=0.02)
    parser.add_argument("--ws", default="core.ws_server:PreparedFrameProtocol")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory")
    parser.add_argument("--cleanup", action="store_true", help="only remove a leftover lab")
    parser.add_argument("--report", action="store_true", help="only print the results table")
    args = parser.parse_args()
    if args.report:
        print(report())
        return 0
    if args.cleanup:
        cleanup(PREFIX)
        return 0
    if args.kill == "redis" and not args.sentinel:
        parser.error("--kill redis needs --sentinel")
    if args.silent and args.kill not in APP_HOSTS:
        parser.error("--silent needs --kill app1|app2|app3")
    n = args.participants
    args.workers = args.workers or (2 if n <= 4000 else 4)

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    raise_file_limit()
    started = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="mt16-"))
    tmp.chmod(0o755)
    args.tmp = tmp
    root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    lab = None
    code = 1
    try:
        lab = Lab(PREFIX, lab_hosts(args.sentinel), delay_ms=0)
        pg = start_postgres(lab, tmp)
        redis = start_redis(lab, tmp, args.sentinel)
        lab.enter("lg1")  # this process drives the run from the first load-generator host
        wait_port(lab.ip("pg"), 5432, pg, "PostgreSQL")
        wait_port(lab.ip("redis1"), 6379, redis["primary"], "Redis")
        env = app_env(lab, args.sentinel)
        env["LIVE_HEARTBEAT_SECONDS"] = str(args.heartbeat)
        subprocess.run(
            ["psql", "-h", lab.ip("pg"), "-U", "postgres", "-qc", "CREATE DATABASE multitude"],
            check=True,
            capture_output=True,
        )
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multitude.settings")
        import django

        django.setup()
        join_code = create_live_assembly()
        apps = {host: start_app(lab, host, env, args.ws, tmp) for host in APP_HOSTS}
        for host, process in apps.items():
            wait_port(lab.ip(host), APP_PORT, process, f"app on {host}")
        joined = join_all(lab, join_code, n)
        people = plan_people(joined, args.window, args.dissent, seed=n)
        for i, person in enumerate(people):
            person["host_index"] = i % len(APP_HOSTS)
        # from now on every host's packets wait --delay ms, if the kernel has netem
        netem = None
        for host in lab.hosts if args.delay else ():
            done = subprocess.run(
                netem_command(lab.ns(host), args.delay),
                capture_output=True,
                text=True,
            )
            if done.returncode:
                netem = f"unavailable: {done.stderr.strip()} (is CONFIG_NET_SCH_NETEM set?)"
                print(f"WARNING: no delay between hosts, tc netem {netem}", flush=True)
                break
            netem = f"delay {args.delay}ms on every host's eth0"
        t0 = time.monotonic()
        with socket.create_connection((lab.ip("app1"), APP_PORT), timeout=5):
            rtt_ms = round((time.monotonic() - t0) * 1000, 1)
        print(f"lab up: TCP connect lg1 -> app1 {rtt_ms} ms", flush=True)
        runs = []
        for index in range(1, args.runs + 1):
            runs.append(run_once(lab, apps, redis, people, args, index))
            if args.kill and index < args.runs:
                restore(lab, apps, redis, runs[-1]["killed_host"], env, args, tmp)
        results = {
            "benchmark": "multihost",
            "command": " ".join(sys.argv),
            "participants": n,
            "window": args.window,
            "delay_ms_one_way": args.delay if netem and netem.startswith("delay") else 0,
            "netem": netem,
            "tcp_connect_ms": rtt_ms,
            "topology": {h: lab.ip(h) for h in lab.hosts},
            "app_processes_per_host": 1,
            "client_workers": args.workers,
            "sentinel": args.sentinel,
            "kill": args.kill,
            "silent": args.silent,
            "heartbeat_s": args.heartbeat,
            "machine": machine(),
            "runs": runs,
            "summary": summary(runs),
            "total_seconds": round(time.time() - started, 1),
        }
        print(json.dumps(results["summary"], indent=1))
        if not args.no_save:
            RESULTS.mkdir(exist_ok=True)
            verb = "cut" if args.silent else "kill"
            name = f"multihost_{n}" + (f"_{verb}_{args.kill}" if args.kill else "")
            name += "_sentinel" if args.sentinel and args.kill != "redis" else ""
            path = RESULTS / f"{name}.json"
            path.write_text(json.dumps(results, indent=1) + "\n")
            print(f"wrote {path.relative_to(ROOT)}")
        bad = [
            r
            for r in runs
            if r["lost"] or r["refused"] or r["lag_s"] is None or r["acknowledged"] != n
        ]
        code = 1 if bad else 0
        if bad:
            print("FAIL: a position was lost, refused or never acknowledged, or no convergence")
    finally:
        os.setns(root_ns, os.CLONE_NEWNET)
        if lab is not None:
            lab.close()
        if args.keep_logs:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
