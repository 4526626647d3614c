"""Turning domain errors into HTML responses, the one handler of the page edge."""

from functools import wraps

from django import forms
from django.http import QueryDict
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


# --- Post/Redirect/Get for refusals -----------------------------------------------------------
# A form that posts to its own action URL (not the page's) is answered, on refusal too, with
# a redirect back to the page: reloading it then never posts again nor lands on a POST-only
# address (405). What the person wrote and why it was refused wait in the session for
# exactly one page view.

STASH_KEY = "multitude:refused_form"


def stash_form(
    request, name: str, form: forms.Form, error: DomainError | None = None, **flags
) -> None:
    """Keep `form`'s data (and the service's refusal, if any) for the next page view."""
    data = {key: form.data.getlist(key) for key in form.data if key != "csrfmiddlewaretoken"}
    request.session[STASH_KEY] = {
        "form": name,
        "data": data,
        "error": [error.code, error.message] if error else None,
        "flags": flags,
    }


def take_stashed_form(request) -> dict | None:
    """The form kept by `stash_form`, once: {"form", "data" (a QueryDict), "error", "flags"}."""
    stashed = request.session.pop(STASH_KEY, None)
    if not isinstance(stashed, dict) or not isinstance(stashed.get("data"), dict):
        return None
    data = QueryDict(mutable=True)
    for key, values in stashed["data"].items():
        data.setlist(key, [str(value) for value in values])
    stashed["data"] = data
    return stashed
