"""Signed links in emails: they name a member, so they work without logging in.

An unsubscribe link never expires (an old email must still turn the mail off); a one-tap
answer link lasts NOTIFY_LINK_DAYS and names the proposal too. Each kind has its own salt,
so one kind of token cannot be used as another.
"""

from django.conf import settings
from django.core import signing

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
RESPOND_SALT = "notifications.respond"


def unsubscribe_token(membership_id: int) -> str:
    return signing.dumps({"m": membership_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def membership_from_unsubscribe(token: str) -> int | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return data.get("m") if isinstance(data, dict) else None


def respond_token(membership_id: int, proposal_id: int) -> str:
    return signing.dumps({"m": membership_id, "p": proposal_id}, salt=RESPOND_SALT)


def respond_claims(token: str) -> tuple[int, int] | None:
    """(membership id, proposal id) of a valid, unexpired answer link; None otherwise."""
    try:
        data = signing.loads(
            token, salt=RESPOND_SALT, max_age=settings.NOTIFY_LINK_DAYS * 24 * 3600
        )
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not {"m", "p"} <= data.keys():
        return None
    return data["m"], data["p"]
