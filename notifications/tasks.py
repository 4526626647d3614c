"""Background work on Django's Tasks framework; each task is a thin call into dispatch.py.

Tasks take ids, never objects (they are stored as JSON by the database backend).
"""

from django.tasks import task

from notifications import dispatch


@task()
def fan_out(*, event: str, assembly_id: int, proposal_id=None, meeting_id=None, reference=""):
    """Write the outbox rows and webhook deliveries of one event and queue their sending."""
    return dispatch.fan_out(
        event=event,
        assembly_id=assembly_id,
        proposal_id=proposal_id,
        meeting_id=meeting_id,
        reference=reference,
    )


@task()
def deliver_email(*, outbox_id: int):
    return dispatch.deliver_email(outbox_id)


@task()
def send_digest(*, membership_id: int):
    return dispatch.send_digest(membership_id)


@task()
def deliver_webhook(*, delivery_id: int):
    return dispatch.deliver_webhook(delivery_id)
