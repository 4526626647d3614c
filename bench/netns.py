"""Test hosts in Linux network namespaces, for bench/multihost.py (root only).

A `Lab` is a set of namespaces `<prefix>-<host>`, each with one interface `eth0` on
10.77.0.0/24, plugged into a bridge that lives in its own namespace `<prefix>-sw` (the
switch). Every host's `eth0` delays what it sends with `tc netem` (20 ms by default), so any
packet between two hosts takes that long one way (40 ms round trip); loopback inside a
host is not delayed. Nothing is added to the root namespace: no address, no route, no
interface, so no traffic can leave the lab.

Processes are started in a host with `Lab.popen(host, argv, user=...)`: the child enters
the namespace (setns) and then drops to `user`, so the pid is the program itself (its CPU
and memory can be read from /proc). `Lab.close()` kills every process still in the lab's
namespaces (only those: they were started here), then deletes the namespaces; it is
idempotent and `cleanup(prefix)` does the same for a lab left over by a killed run.
"""

import contextlib
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

SUBNET = "10.77.0"
NETNS_DIR = Path("/run/netns")


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=30)


def netem_command(ns: str, delay_ms: float) -> list[str]:
    """Delay every packet leaving the namespace's eth0 by `delay_ms` (needs sch_netem)."""
    return ["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", "netem",
            "delay", f"{delay_ms}ms", "limit", "1000000"]  # fmt: skip


def namespaces(prefix: str) -> list[str]:
    out = sh("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix + "-")]


def pids_in(ns: str) -> list[int]:
    out = sh("ip", "netns", "pids", ns, check=False).stdout
    return [int(p) for p in out.split()]


def cleanup(prefix: str) -> None:
    """Kill what runs in the lab's namespaces, then delete them."""
    found = namespaces(prefix)
    for ns in found:
        for pid in pids_in(ns):
            if pid == os.getpid():
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(set(pids_in(ns)) - {os.getpid()} for ns in found):
        time.sleep(0.1)
    for ns in found:
        sh("ip", "netns", "del", ns, check=False)


class Lab:
    def __init__(self, prefix: str, hosts: dict[str, int], delay_ms: float = 20.0):
        """hosts: name -> last octet of its address (10.77.0.<octet>)."""
        if os.geteuid() != 0:
            raise SystemExit("bench/multihost.py needs root (ip netns, tc)")
        self.prefix, self.hosts, self.delay_ms = prefix, dict(hosts), delay_ms
        self.processes: list[subprocess.Popen] = []
        cleanup(prefix)  # a lab left over by a run that was killed
        self.switch = f"{prefix}-sw"
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def ip(self, host: str) -> str:
        return f"{SUBNET}.{self.hosts[host]}"

    def _build(self) -> None:
        sw = self.switch
        sh("ip", "netns", "add", sw)
        sh("ip", "-n", sw, "link", "set", "lo", "up")
        sh("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", sw, "link", "set", "br0", "up")
        for host in self.hosts:
            ns, port = self.ns(host), f"p-{host}"[:15]
            sh("ip", "netns", "add", ns)
            sh(
                "ip",
                "-n",
                sw,
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            sh("ip", "-n", sw, "link", "set", port, "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", f"{self.ip(host)}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            if self.delay_ms:
                sh(*netem_command(ns, self.delay_ms))
            for key, value in (
                ("net.core.somaxconn", "8192"),
                ("net.ipv4.tcp_max_syn_backlog", "8192"),
                ("net.ipv4.ip_local_port_range", "10000 65000"),
                ("net.ipv4.tcp_tw_reuse", "1"),
            ):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"{key}={value}", check=False)

    def enter(self, host: str) -> None:
        """Move the calling thread (the whole process if it has one thread) into `host`."""
        with open(NETNS_DIR / self.ns(host)) as handle:
            os.setns(handle.fileno(), os.CLONE_NEWNET)

    def popen(
        self,
        host: str,
        argv: list[str],
        *,
        user: str | None = None,
        env=None,
        cwd=None,
        log: Path | None = None,
    ) -> subprocess.Popen:
        path = str(NETNS_DIR / self.ns(host))
        account = pwd.getpwnam(user) if user else None

        def inside():
            with open(path) as handle:
                os.setns(handle.fileno(), os.CLONE_NEWNET)
            os.setsid()
            if account:
                os.setgroups([])
                os.setgid(account.pw_gid)
                os.setuid(account.pw_uid)

        output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            preexec_fn=inside,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        process.host = host
        self.processes.append(process)
        return process

    def ping(self, source: str, target: str) -> float | None:
        """Round trip in ms from one host to another (one ping)."""
        out = sh(
            "ip",
            "netns",
            "exec",
            self.ns(source),
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            self.ip(target),
            check=False,
        ).stdout
        for part in out.split():
            if part.startswith("time="):
                return float(part[5:])
        return None

    def cpu_of_host(self, host: str) -> float:
        """CPU seconds of the processes alive in `host` now."""
        from harness import cpu_seconds

        total = 0.0
        for pid in pids_in(self.ns(host)):
            with contextlib.suppress(OSError, IndexError):
                total += cpu_seconds(pid)
        return total

    def close(self) -> None:
        # the last started first: the app servers before Redis and PostgreSQL
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
        cleanup(self.prefix)
