"""Answer 503, not 500, while the database is unreachable; recover by itself afterwards."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


class DatabaseOutageMiddleware:
    """A restart or failover of PostgreSQL is an outage, not a bug: say so clearly.

    Connections are checked before reuse (CONN_HEALTH_CHECKS), so the first request after
    the database returns opens a fresh one: nothing needs restarting.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("Database unavailable for %s: %s", request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "code": "service_unavailable",
                    "message": "The database is unreachable for a moment; nothing was saved. "
                    "Retry shortly.",
                },
                status=503,
            )
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
