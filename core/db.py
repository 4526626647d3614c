"""Database access from the live layer's worker threads, on connections they keep.

Under ASGI, Django's persistent connections stay off (`CONN_MAX_AGE=0`): a request's thread
lives only as long as the request, so every request connects afresh. The live layer is
different: its calls (a socket's authentication, a batch of positions, a snapshot) run on
the event loop's small, long-lived pool of worker threads, many times a second. Opening a
PostgreSQL connection for each would cost more than the work itself, so `run_on_kept_connection`
keeps each worker thread's connection (a handful per process), checks it after an error
as Django's health checks do, and replaces it when it is broken.
"""

import functools
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.db import connections

# A connection used within this many seconds is not checked again before its next use: in
# a storm of sockets, a `SELECT 1` before every query would double the round trips.
IDLE_BEFORE_CHECK = 1.0


def _check_kept_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if connection.in_atomic_block:
            continue
        if connection.get_autocommit() != connection.settings_dict["AUTOCOMMIT"]:
            connection.close()
        elif connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()
        elif time.monotonic() - getattr(connection, "kept_last_used", 0.0) > IDLE_BEFORE_CHECK:
            # Like CONN_HEALTH_CHECKS: verified before its first use, if it was idle.
            connection.health_check_done = False


def _note_kept_connections_used() -> None:
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        connection.kept_last_used = now


def run_on_kept_connection[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Wraps a sync function for `sync_to_async(thread_sensitive=False)`."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        _check_kept_connections()
        try:
            return function(*args, **kwargs)
        finally:
            _note_kept_connections_used()

    return run


def kept_connection_to_async(function):
    """`sync_to_async` on the loop's worker threads, each keeping its database connection."""
    return sync_to_async(run_on_kept_connection(function), thread_sensitive=False)
