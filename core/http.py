"""Turning domain errors into HTML responses, the one handler of the page edge."""

from functools import wraps

from django.shortcuts import render

from core.errors import DomainError


def domain_errors_as_pages(view):
    """Render a refusal as a page with its message and status (404 reveals nothing more)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return render(request, "error.html", {"error": error}, status=error.status)

    return wrapper
