#!/usr/bin/env python3
"""Fail fast, with one readable line, when the test suite's services are not there.

Checks that this Python is >= 3.12 and that the PostgreSQL server of DATABASE_URL and the
Redis server of REDIS_URL accept a connection (a plain TCP connect, 2 s timeout each).
Exits 0 when all is well, 2 otherwise. Standard library only; runs on any Python 3.
A sqlite:// DATABASE_URL or an empty REDIS_URL means "no server", and is not checked.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/multitude python scripts/check_services.py
"""

import glob
import os
import socket
import sys
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/multitude"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
TIMEOUT = 2.0

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}
REDIS_SCHEMES = {"redis", "rediss"}
REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def postgres_start_hint():
    versions = sorted(
        (os.path.basename(p) for p in glob.glob("/etc/postgresql/*")),
        key=lambda v: [int(x) if x.isdigit() else 0 for x in v.split(".")],
    )
    version = versions[-1] if versions else "$(ls /etc/postgresql)"
    return f"pg_ctlcluster --skip-systemctl-redirect {version} main start"


def host_port(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reachable(host, port):
    """True if a TCP (or, for a path, Unix-socket) connection can be opened."""
    try:
        if host.startswith("/"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(TIMEOUT)
                sock.connect(host)
        else:
            with socket.create_connection((host, port), timeout=TIMEOUT):
                pass
    except OSError:
        return False
    return True


def postgres_target(url):
    """(label, host, port) to try for a PostgreSQL URL, or None when there is no server."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        return None
    query = parse_qs(parts.query)
    host = unquote(parts.hostname or "") or query.get("host", [""])[0] or "/var/run/postgresql"
    port = parts.port or int(query.get("port", ["5432"])[0])
    if host.startswith("/"):  # a socket directory, as libpq takes it
        return host, os.path.join(host, f".s.PGSQL.{port}"), port
    return host_port(host, port), host, port


def redis_target(url):
    """(label, host, port) to try for a Redis URL, or None when there is no server."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path, parts.path, 0
    if parts.scheme not in REDIS_SCHEMES:
        return None
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 6379
    return host_port(host, port), host, port


def main():
    problems = []
    if sys.version_info < (3, 12):  # noqa: UP036 - the point: this may run on an old Python
        problems.append(
            f"Python {sys.version.split()[0]} at {sys.executable} is too old: Multitude needs "
            ">= 3.12. Recreate the venv: make clean venv PYTHON=/path/to/python3.12"
        )

    checks = [
        ("PostgreSQL", "DATABASE_URL", DEFAULT_DATABASE_URL, postgres_target, postgres_start_hint),
        ("Redis", "REDIS_URL", DEFAULT_REDIS_URL, redis_target, lambda: REDIS_START),
    ]
    seen = []
    for name, var, default, target_of, start_hint in checks:
        url = os.environ.get(var, default).strip()
        try:
            target = target_of(url) if url else None
        except ValueError as exc:  # e.g. a port that is not a number
            problems.append(f"{var} is not a valid URL ({exc}): {url!r}")
            continue
        if target is None:
            seen.append(f"{name} not used ({var}={url or 'empty'})")
            continue
        label, host, port = target
        if reachable(host, port):
            seen.append(f"{name} at {label}")
        else:
            problems.append(
                f"{name} is not reachable at {label} ({var}). "
                f"Start it: {start_hint()} — or set {var}."
            )

    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return 2
    print("Services OK: " + "; ".join(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
