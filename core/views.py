"""Operational endpoints, and what makes the site an installable app that works offline."""

import hashlib
import json

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
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


# --- the installable app: manifest, service worker, the page shown offline -----------------

# What the service worker keeps from its installation on: the styles, scripts and icons, and
# the page it shows for an address this phone never opened (docs/offline.md).
PRECACHED_STATIC = [
    "css/multitude.css",
    "js/live.js",
    "js/offline.js",
    "vendor/htmx.min.js",
    "favicon.svg",
    "icons/icon-192.png",
]


@require_safe
def manifest(request):
    """The web app manifest: Multitude can be installed on a phone's home screen."""
    icons = [
        {"src": static(f"icons/{kind}-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        | ({"purpose": "maskable"} if kind == "maskable" else {})
        for kind in ("icon", "maskable")
        for size in (192, 512)
    ]
    body = {
        "name": "Multitude",
        "short_name": "Multitude",
        "description": _("Consensus decision-making for general assemblies."),
        "lang": get_language(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [*icons, {"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return JsonResponse(body, content_type="application/manifest+json")


@require_safe
def service_worker(request):
    """The service worker, at the root so that it may serve every page of the site.

    Rendered so that it names the static files by their hashed names; its version changes
    with them, and a new version replaces the old caches.
    """
    precache = [static(name) for name in PRECACHED_STATIC] + [reverse("offline")]
    version = hashlib.sha256("\n".join(precache).encode()).hexdigest()[:12]
    response = render(
        request,
        "pwa/sw.js",
        {
            "version": version,
            "precache": json.dumps(precache),
            "static_prefix": json.dumps(settings.STATIC_URL),
            "offline_url": json.dumps(reverse("offline")),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
def offline(request):
    """What the service worker shows for a page this phone has never opened, offline."""
    return render(request, "pwa/offline.html")
