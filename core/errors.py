"""One error type for every business refusal, turned into a response by each edge.

A service raises `DomainError(code, message)`; the HTML edge shows the message, the API
answers `{"code", "message"}` with the class's `status`, the websocket sends an `error`
frame. The status belongs to the kind of refusal, so edges test the class, never a number.
"""

from django.utils.functional import Promise


class DomainError(Exception):
    """A refusal that the person acting can understand and fix."""

    status = 400

    def __init__(self, code: str, message: str | Promise):
        super().__init__(str(message))
        self.code = code
        self.message = str(message)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class NotFound(DomainError):
    """The object does not exist *or* the actor may not see it: the same answer for both."""

    status = 404


class PermissionDenied(DomainError):
    status = 403


class Conflict(DomainError):
    """The request is valid but the state does not allow it now (a position after close)."""

    status = 409


class TooManyRequests(DomainError):
    """Too many attempts or messages in a short time: wait, then try again."""

    status = 429


class Unavailable(DomainError):
    """A part the request needs (the database, the live layer) is away for a moment."""

    status = 503
