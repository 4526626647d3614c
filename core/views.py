"""Operational endpoints."""

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_safe


@require_GET
@never_cache
def health(request):
    """For load balancers and operators: 200 when PostgreSQL (and Redis, if used) answer."""
    checks = {"database": _database_ok(), "redis": _redis_ok() if settings.REDIS_URL else None}
    healthy = all(value is not False for value in checks.values())
    body = {name: _word(value) for name, value in checks.items()}
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **body}, status=200 if healthy else 503
    )


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        return bool(client.ping())
    except redis.RedisError:
        return False


def _word(value: bool | None) -> str:
    return {True: "ok", False: "unavailable", None: "not configured"}[value]


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the SVG icon.

    A temporary redirect, so a new hashed name after a deployment is picked up within a day.
    """
    return HttpResponseRedirect(static("favicon.svg"))
