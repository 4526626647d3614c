"""What the benchmarks share; the scripts next to it import it (bench/ is their folder).

- in-process benchmarks (export_positions.py, positions_throughput.py, proposal_page.py):
  Django set up in the script's own process on a throw-away database without Redis
  (`throwaway_database`), an assembly with members (`assembly_with_members`);
- live benchmarks (live_assembly.py, soak.py): the real app under uvicorn (or granian) on a
  throw-away database and Redis prefix (`live_app`, which also tears everything down), the
  server processes and their CPU and memory from /proc, summed over each process's tree
  (`Servers`), participants joining through the API (`join_all`), client worker processes
  (`start_workers`, their own CPU with `own_cpu`) and their websockets (`open_socket`, with
  bench/wsclient.py), the machine and versions (`machine`), the results files
  (`write_results`).

Every database is `multitude_bench_<label>_<pid>` on the server of --database-url, dropped at
the end unless --keep.
"""

import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
for _path in (str(BENCH), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
CLK_TCK = os.sysconf("SC_CLK_TCK")
LIVE_SLUG = "bench-live"
DEFAULT_DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/multitude"
)
DEFAULT_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
UVICORN_FLAGS = [
    "--host", "127.0.0.1", "--lifespan", "on", "--ws-per-message-deflate", "false",
    "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--backlog", "4096",
]  # fmt: skip
# granian as close to UVICORN_FLAGS as it goes: ASGI with lifespan, HTTP/1 only, uvloop, the
# same backlog, websockets on, no access log, one worker per command (the benchmarks start
# one command per process they want). --backpressure stays at its default (backlog/workers):
# in granian 2.8.9 it did not cap open websockets (300 held open at --backpressure 2).
GRANIAN_FLAGS = [
    "--interface", "asgi", "--host", "127.0.0.1", "--http", "1", "--ws", "--loop", "uvloop",
    "--workers", "1", "--log-level", "warning", "--no-access-log", "--backlog", "4096",
]  # fmt: skip


# --- processes and /proc --------------------------------------------------------------------


def raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name; field i here is field i + 3 of proc(5)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def own_cpu() -> float:
    """This process's CPU seconds (utime + stime, every thread): a client worker's own cost."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants, parents first. Servers such as granian serve from
    worker processes they fork: their CPU and memory are the whole tree's."""
    tree, at = [pid], 0
    while at < len(tree):
        parent = tree[at]
        at += 1
        for task in Path(f"/proc/{parent}/task").glob("*"):
            with contextlib.suppress(OSError):
                tree += [int(c) for c in (task / "children").read_text().split()]
    return tree


def tree_total(pid: int, measure) -> float:
    """`measure(p)` summed over `pid`'s tree, skipping processes that exit meanwhile."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            total += measure(member)
    return total


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stdout.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"server on port {port} did not start")


class Servers:
    """Server processes, one a command (`{port}` in it is replaced by a free port), started
    and listening; their output is echoed, prefixed with their pid."""

    def __init__(self, commands: list[list[str]], env: dict):
        self.ports, self.processes = [], []
        for command in commands:
            port = free_port()
            process = subprocess.Popen(
                [arg.replace("{port}", str(port)) for arg in command],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            self.ports.append(port)
            self.processes.append(process)
        for port, process in zip(self.ports, self.processes, strict=True):
            wait_listening(port, process)
        self._drain = [
            threading.Thread(target=self._echo, args=(p,), daemon=True) for p in self.processes
        ]
        for thread in self._drain:
            thread.start()

    @staticmethod
    def _echo(process):
        for line in process.stdout:
            text = line.decode(errors="replace").rstrip()
            if text:
                print(f"  [server {process.pid}] {text}"[:300], flush=True)

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def serving_pid(self, index: int = 0) -> int:
        """The process that serves for the index-th command: the deepest of its tree (the
        command's own process for uvicorn, its worker for granian)."""
        return process_tree(self.pids()[index])[-1]

    def cpu(self) -> float:
        return sum(tree_total(pid, cpu_seconds) for pid in self.pids())

    def rss_kb(self) -> int:
        return sum(tree_total(pid, lambda p: memory_kb(p, "VmRSS")) for pid in self.pids())

    def peak_kb(self) -> int:
        return sum(tree_total(pid, lambda p: memory_kb(p, "VmHWM")) for pid in self.pids())

    def stop(self) -> None:
        """SIGTERM each command's process, SIGKILL it after 15 s; then SIGKILL whatever of
        their trees outlived them (a worker whose supervisor was killed), identified by pid
        and start time so that a reused pid is left alone."""
        started = identities(p.pid for p in self.processes if p.poll() is None)
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid, start_time in started:
            with contextlib.suppress(OSError, IndexError):
                if stat_fields(pid)[19] == start_time:
                    os.kill(pid, signal.SIGKILL)


def identities(pids) -> list[tuple[int, str]]:
    """(pid, start time) of every process in the trees of `pids` (not yet reaped, so theirs)."""
    found = []
    for pid in pids:
        for member in process_tree(pid):
            with contextlib.suppress(OSError, IndexError):
                found.append((member, stat_fields(member)[19]))
    return found


def uvicorn(app: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", app, "--port", "{port}", *UVICORN_FLAGS, *extra]


def granian(app: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "granian", *GRANIAN_FLAGS, "--port", "{port}", *extra, app]


def machine(postgres_url: str | None = None, redis_url: str | None = None) -> dict:
    """The machine (cores, memory, kernel, CPU model) and the versions of what ran: Python,
    the packages, and PostgreSQL and Redis — asked of the servers at `postgres_url` and
    `redis_url` when given (what was measured), else of the binaries on PATH."""
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(int(meminfo[1]) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        ),
        "versions": {
            "python": platform.python_version(),
            **package_versions(),
            **server_versions(postgres_url, redis_url),
        },
    }


def package_versions() -> dict:
    from importlib.metadata import version

    versions = {}
    for package in ("django", "channels", "channels-redis", "uvicorn", "granian", "redis",
                    "psycopg", "uvloop", "websockets"):  # fmt: skip
        with contextlib.suppress(Exception):
            versions[package] = version(package)
    return versions


def server_versions(postgres_url: str | None, redis_url: str | None) -> dict:
    versions = {}
    with contextlib.suppress(Exception):
        if postgres_url:
            import psycopg

            with psycopg.connect(database_url(postgres_url, "postgres")) as connection:
                row = connection.execute("SELECT version()").fetchone()
            versions["postgres"] = row[0]
        else:
            versions["postgres"] = command_output(["postgres", "--version"])
    with contextlib.suppress(Exception):
        if redis_url:
            import redis

            info = redis.Redis.from_url(redis_url, socket_timeout=5).info("server")
            versions["redis-server"] = f"Redis server v={info['redis_version']}"
        else:
            versions["redis-server"] = command_output(["redis-server", "--version"])
    return versions


def command_output(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()


# --- the database and Django ------------------------------------------------------------------


def database_url(base: str, name: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def database_name(label: str) -> str:
    return f"multitude_bench_{label}_{os.getpid()}"


def admin_sql(base: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(database_url(base, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def drop_database(base: str, name: str) -> None:
    from django.db import connections

    connections.close_all()
    admin_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(env: dict) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "multitude.settings")
    import django

    django.setup()


def local_django(url: str, **extra_env: str) -> None:
    """Django in this process on `url`: DEBUG off (it keeps every query in memory) and no
    live layer (no Redis: changes are marked locally)."""
    os.environ.pop("REDIS_URL", None)
    django_setup({"DATABASE_URL": url, "DEBUG": "0", **extra_env})


@contextlib.contextmanager
def throwaway_database(base: str, label: str, *, keep: bool = False, **extra_env: str):
    """CREATE DATABASE multitude_bench_<label>_<pid> on base's server, set Django up on it
    (`local_django`) and migrate; yields its URL; dropped afterwards unless `keep`."""
    name = database_name(label)
    admin_sql(base, f'CREATE DATABASE "{name}"')
    try:
        local_django(database_url(base, name), **extra_env)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield database_url(base, name)
    finally:
        if not keep:
            drop_database(base, name)


# --- assemblies and proposals -----------------------------------------------------------------


def create_assembly(
    slug: str, *, name: str = "Benchmark Assembly", founder: str = "", display_name: str = "Fran"
):
    """An assembly under Occupy modified consensus, founded (and facilitated) by a new user."""
    from django.contrib.auth.models import User

    from assemblies import services as assembly_services

    return assembly_services.create_assembly(
        actor=User.objects.create_user(founder or f"{slug}-founder"),
        name=name,
        slug=slug,
        display_name=display_name,
        decision_rule={"preset": "occupy_modified_consensus"},
    )


def assembly_with_members(members: int, slug: str = "bench"):
    """An assembly, its facilitator and `members` participants (inserted in bulk)."""
    from django.contrib.auth.models import User

    from assemblies.models import JoinedVia, Membership

    assembly = create_assembly(slug)
    facilitator = assembly.memberships.get()
    users = User.objects.bulk_create(
        User(username=f"{slug}-{i}", password="!") for i in range(members)
    )
    people = Membership.objects.bulk_create(
        Membership(
            assembly=assembly, user=user, display_name=f"Member {i}", joined_via=JoinedVia.CODE
        )
        for i, user in enumerate(users)
    )
    people = list(
        Membership.objects.select_related("assembly").filter(pk__in=[p.pk for p in people])
    )
    return assembly, facilitator, people


def open_proposal(facilitator, title: str):
    from proposals import services

    proposal = services.submit_proposal(actor=facilitator, title=title, text="We do the thing.")
    return services.call_for_consensus(actor=facilitator, proposal=proposal)


def create_live_assembly() -> str:
    """Migrate, then found the live benchmarks' assembly; its join code."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    assembly = create_assembly(
        LIVE_SLUG,
        name="Benchmark General Assembly",
        founder="bench-facilitator",
        display_name="Fran",  # a name: "Facilitator" claims a role
    )
    return assembly.join_code


def live_facilitator():
    from assemblies.models import Membership

    return Membership.objects.get(assembly__slug=LIVE_SLUG, role="facilitator")


def new_proposal(title: str):
    from proposals import services

    return services.submit_proposal(
        actor=live_facilitator(), title=title, text="We keep the kitchen open all night."
    )


def open_call(proposal) -> None:
    from proposals import services

    services.call_for_consensus(actor=live_facilitator(), proposal=proposal)


# --- the live app: its environment, participants and teardown ---------------------------------


def add_live_arguments(parser, *, no_save_help: str) -> None:
    """--database-url, --redis-url, --no-save and --json, read by `live_app` and
    `write_results` (the script adds --keep where it wants it in its --help)."""
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--no-save", action="store_true", help=no_save_help)
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH")


class LiveRun:
    """The environment of the app's processes, and the servers started in it."""

    def __init__(self, env: dict):
        self.env = env
        self.servers: list[Servers] = []

    def start(self, commands: list[list[str]]) -> Servers:
        servers = Servers(commands, self.env)
        self.servers.append(servers)
        return servers

    def app(self, processes: int, ws: str, server: str = "uvicorn") -> Servers:
        """The real app in `processes` processes under uvicorn (`ws`: its --ws) or granian
        (one worker each)."""
        if server == "granian":
            return self.start([granian("multitude.asgi:application")] * processes)
        return self.start([uvicorn("multitude.asgi:application", "--ws", ws)] * processes)


def delete_redis_keys(url: str, prefix: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception:
        pass


@contextlib.contextmanager
def live_app(args, label: str, prefix: str):
    """A throw-away database (`database_name(label)` on --database-url's server) and Redis
    prefix `<prefix>-<pid>` on --redis-url, with Django set up on them in this process too;
    yields a LiveRun to start servers in. At the end, client workers still alive are
    terminated, every server is stopped, and unless --keep the database is dropped and the
    prefix's keys are deleted."""
    raise_file_limit()
    name = database_name(label)
    prefix = f"{prefix}-{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(args.database_url, name),
        "REDIS_URL": args.redis_url,
        "REDIS_PREFIX": prefix,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore::UserWarning",
        # The whole crowd joins as guests within seconds, from one address: the anti-flood
        # guards of a real assembly (docs/security.md) are lifted for the load generator.
        "JOIN_GUESTS_PER_MINUTE": "1000000",
    }
    env.pop("TESTING", None)
    admin_sql(args.database_url, f'CREATE DATABASE "{name}"')
    run = LiveRun(env)
    try:
        django_setup(env)
        yield run
    finally:
        for process in multiprocessing.active_children():
            process.terminate()
        for servers in run.servers:
            servers.stop()
        if not args.keep:
            drop_database(args.database_url, name)
            delete_redis_keys(args.redis_url, prefix)


def join_all(ports: list[int], code: str, n: int, threads: int = 8) -> list[dict]:
    """N participants join through the real endpoint, a few connections in parallel."""
    local = threading.local()
    started = time.time()

    def join(i: int) -> dict:
        if not hasattr(local, "connection"):
            local.connection = HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=60)
        body = json.dumps({"code": code, "display_name": f"P{i}"})
        for attempt in range(5):
            try:
                local.connection.request(
                    "POST",
                    f"/api/v1/assemblies/{LIVE_SLUG}/join/",
                    body=body,
                    headers={"Content-Type": "application/json", "Host": "127.0.0.1"},
                )
                response = local.connection.getresponse()
                data = json.loads(response.read())
                if response.status != 201:
                    raise RuntimeError(f"join answered {response.status}: {data}")
                return {"token": data["token"], "member_id": data["member"]["id"], "name": f"P{i}"}
            except (OSError, ConnectionError):
                local.connection.close()
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("join failed repeatedly")

    with ThreadPoolExecutor(threads) as pool:
        joined = list(pool.map(join, range(n)))
    print(f"{n} participants joined through the API in {time.time() - started:.1f} s", flush=True)
    return joined


def write_results(results: dict, filename: str, args) -> None:
    """bench/results/<filename> unless --no-save, and --json's PATH when given."""
    text = json.dumps(results, indent=1) + "\n"
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / filename
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    if args.json:
        Path(args.json).write_text(text)


# --- the client worker processes and their websockets ---------------------------------------


def run_worker(worker, conn, spec: dict) -> None:
    """A client worker process: the coroutine `worker(conn, spec)`, on uvloop if installed."""
    raise_file_limit()
    try:
        import uvloop

        uvloop.run(worker(conn, spec))
    except ImportError:
        asyncio.run(worker(conn, spec))


def start_workers(worker, people: list[dict], count: int, **spec) -> tuple[list, list]:
    """`count` spawned client processes, the w-th running `worker(conn, spec)` for every
    count-th person from `people[w]` on, from its own address 127.0.0.<2 + w>; `spec` also
    holds the keyword arguments. Their pipes and their processes."""
    ctx = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for w in range(count):
        parent, child = ctx.Pipe()
        share = {"people": people[w::count], "source": f"127.0.0.{2 + w}", **spec}
        process = ctx.Process(target=run_worker, args=(worker, child, share), daemon=True)
        process.start()
        pipes.append(parent)
        processes.append(process)
    return pipes, processes


async def open_socket(factory, port: int, token: str, source: str | None = None):
    """A client (`factory`: wsclient.Client or a subclass) of the live assembly's socket on
    127.0.0.1:`port`, from the address `source` when given. It returns once TCP is up;
    `client.opened` resolves on the upgrade."""
    loop = asyncio.get_running_loop()
    _transport, client = await loop.create_connection(
        lambda: factory(f"127.0.0.1:{port}", f"/ws/assemblies/{LIVE_SLUG}/", token),
        "127.0.0.1",
        port,
        local_addr=(source, 0) if source else None,
    )
    return client
