"""Turning domain errors into HTML responses, the one handler of the page edge."""

from functools import wraps

from django import forms
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


def form_error(
    form: forms.Form, error: DomainError, fields_by_code: dict[str, str], default: str | None
) -> None:
    """Show a service's refusal on the form field it concerns (or the whole form)."""
    form.add_error(
        fields_by_code.get(error.code, default),
        forms.ValidationError(error.message, code=error.code),
    )
