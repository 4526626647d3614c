"""The one way into this app from below: `core.events.state_changed` with a `Change.event`.

The receiver runs after the writing transaction committed (publish_on_commit) and only
enqueues one task; looking up recipients, rendering and sending happen in the worker, so a
request never waits for them.
"""

import logging

from django.conf import settings

from core.events import Change

logger = logging.getLogger(__name__)


def on_change(sender, change: Change, **kwargs) -> None:
    if not change.event or getattr(settings, "NOTIFICATIONS_SUSPENDED", False):
        return  # suspended: the demo seeding its made-up history
    from notifications.tasks import fan_out

    try:
        fan_out.enqueue(
            event=change.event,
            assembly_id=change.assembly_id,
            proposal_id=change.proposal_id,
            meeting_id=change.meeting_id,
            reference=change.reference,
        )
    except Exception:
        # The write has committed; a notification lost must not turn it into an error page.
        logger.exception("Could not enqueue the notifications of %s", change.event)


def on_login(sender, request, user, **kwargs) -> None:
    from django.utils.translation import get_language_from_request

    from notifications import services

    if request is not None:
        services.remember_language(user=user, language=get_language_from_request(request))
