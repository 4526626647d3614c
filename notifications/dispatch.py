"""Fan-out and delivery: who gets what, sent once, retried with backoff.

Sent once: an email is an `Outbox` row, unique per (member, event occurrence), and a
webhook POST a `Delivery` row, unique per (webhook, occurrence), so an event heard twice
writes nothing new. A delivery task locks its row with `SELECT ... FOR UPDATE SKIP LOCKED`
and marks it sent before the lock is released: two workers given the same row (or two
tasks for it) send it once; the second finds it locked or already sent and does nothing.

Retried: an SMTP or HTTP failure records the error and enqueues the same task again after
NOTIFY_RETRY_SECONDS x 2^(attempts-1), up to NOTIFY_MAX_ATTEMPTS attempts.
"""

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assemblies.models import Membership
from notifications import content, selectors
from notifications.models import Delivery, Level, Outbox, OutboxStatus, Webhook

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Multitude-Signature"
TIMESTAMP_HEADER = "X-Multitude-Timestamp"


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=settings.NOTIFY_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


def next_digest_time(now: datetime | None = None) -> datetime:
    """The next NOTIFY_DIGEST_HOUR o'clock (in TIME_ZONE) after now."""
    now = timezone.localtime(now or timezone.now())
    at = now.replace(hour=settings.NOTIFY_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def _later(task, when: datetime, **kwargs) -> None:
    """Enqueue after commit, at `when` where the backend can wait (else at once)."""

    def enqueue():
        if task.get_backend().supports_defer:
            task.using(run_after=when).enqueue(**kwargs)
        else:
            task.enqueue(**kwargs)

    transaction.on_commit(enqueue)


def fan_out(*, event, assembly_id, proposal_id=None, meeting_id=None, reference="") -> dict:
    from notifications.tasks import deliver_email, deliver_webhook, send_digest

    found = content.facts(
        event=event,
        assembly_id=assembly_id,
        proposal_id=proposal_id,
        meeting_id=meeting_id,
        reference=reference,
    )
    key = found.key
    with transaction.atomic():
        recipients = selectors.recipients_for(
            event=event, assembly_id=assembly_id, proposal=found.proposal, only=found.addressees
        )
        rows = [
            Outbox(
                membership=member,
                event=event,
                event_key=key,
                reference=reference,
                proposal=found.proposal,
                meeting=found.meeting,
                digest=level == Level.DIGEST and event not in selectors.URGENT_EVENTS,
            )
            for member, level in recipients
        ]
        Outbox.objects.bulk_create(rows, ignore_conflicts=True)
        pending = list(
            Outbox.objects.filter(event_key=key, status=OutboxStatus.PENDING).values_list(
                "pk", "membership_id", "digest"
            )
        )
        deliveries = [
            Delivery(
                webhook=webhook,
                event=event,
                event_key=key,
                payload=content.webhook_payload(found),
            )
            for webhook in Webhook.objects.filter(assembly_id=assembly_id)
            if event not in selectors.PERSONAL_EVENTS
        ]
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        delivery_ids = list(
            Delivery.objects.filter(
                event_key=key, webhook__assembly_id=assembly_id, status=OutboxStatus.PENDING
            ).values_list("pk", flat=True)
        )
        digest_at = next_digest_time()
        for outbox_id, membership_id, digest in pending:
            if digest:
                _later(send_digest, digest_at, membership_id=membership_id)
            else:
                transaction.on_commit(lambda pk=outbox_id: deliver_email.enqueue(outbox_id=pk))
        for pk in delivery_ids:
            transaction.on_commit(lambda pk=pk: deliver_webhook.enqueue(delivery_id=pk))
    return {"event": key, "emails": len(pending), "webhooks": len(delivery_ids)}


def _still_wanted(member: Membership, event: str | None) -> bool:
    """Checked again when sending: the member may have unsubscribed or left since."""
    if not member.user.email or not member.is_active or not member.user.is_active:
        return False
    level = selectors.level_of(member)
    if level == Level.NONE:
        return False
    return not (level == Level.CALLS and event is not None and event not in selectors.CALL_EVENTS)


def _locked(queryset):
    """The rows no other worker holds, locked until this transaction ends."""
    return queryset.select_for_update(skip_locked=True, of=("self",))


def _failed(row, error: Exception, task, **kwargs) -> str:
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        row.status = OutboxStatus.FAILED
    else:
        _later(task, timezone.now() + retry_delay(row.attempts), **kwargs)
    return row.status


def deliver_email(outbox_id: int) -> str:
    from notifications.tasks import deliver_email as task

    with transaction.atomic():
        row = (
            _locked(Outbox.objects.filter(pk=outbox_id, status=OutboxStatus.PENDING))
            .select_related("membership__user", "membership__assembly")
            .first()
        )
        if row is None:
            return "done elsewhere"
        member = row.membership
        if not _still_wanted(member, row.event):
            row.status = OutboxStatus.SKIPPED
            row.save(update_fields=["status"])
            return row.status
        found = content.facts(
            event=row.event,
            assembly_id=member.assembly_id,
            proposal_id=row.proposal_id,
            meeting_id=row.meeting_id,
            reference=row.reference,
        )
        message = content.render_email(found, member, selectors.language_of(member.user))
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as error:
            logger.warning("Email %s not sent (attempt %d): %s", row.pk, row.attempts + 1, error)
            _failed(row, error, task, outbox_id=row.pk)
            row.save(update_fields=["attempts", "last_error", "status"])
            return row.status
        row.status = OutboxStatus.SENT
        row.attempts += 1
        row.sent_at = timezone.now()
        row.save(update_fields=["status", "attempts", "sent_at"])
        return row.status


def send_digest(membership_id: int) -> str:
    """Every waiting digest row of this member in one email (a second task finds none)."""
    from notifications.tasks import send_digest as task

    with transaction.atomic():
        member = (
            Membership.objects.select_related("user", "assembly").filter(pk=membership_id).first()
        )
        if member is None:
            return "gone"
        rows = list(
            _locked(
                Outbox.objects.filter(
                    membership=member, digest=True, status=OutboxStatus.PENDING
                ).order_by("created_at", "pk")
            )
        )
        if not rows:
            return "done elsewhere"
        if not _still_wanted(member, None):
            Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(status=OutboxStatus.SKIPPED)
            return OutboxStatus.SKIPPED
        items = [
            content.facts(
                event=row.event,
                assembly_id=member.assembly_id,
                proposal_id=row.proposal_id,
                meeting_id=row.meeting_id,
                reference=row.reference,
            )
            for row in rows
        ]
        message = content.render_digest(items, member, selectors.language_of(member.user))
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as error:
            first = rows[0]
            status = _failed(first, error, task, membership_id=member.pk)
            Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(
                attempts=first.attempts, last_error=first.last_error, status=status
            )
            return status
        Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=OutboxStatus.SENT, sent_at=timezone.now(), attempts=rows[0].attempts + 1
        )
        return OutboxStatus.SENT


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def deliver_webhook(delivery_id: int) -> str:
    from notifications.tasks import deliver_webhook as task

    with transaction.atomic():
        row = (
            _locked(Delivery.objects.filter(pk=delivery_id, status=OutboxStatus.PENDING))
            .select_related("webhook")
            .first()
        )
        if row is None:
            return "done elsewhere"
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            row.webhook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Multitude-Webhook/1",
                "X-Multitude-Event": row.event,
                "X-Multitude-Delivery": str(row.pk),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(row.webhook.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                row.response_status = response.status
        except urllib.error.HTTPError as error:
            row.response_status = error.code
            _failed(row, error, task, delivery_id=row.pk)
        except (urllib.error.URLError, OSError) as error:
            _failed(row, error, task, delivery_id=row.pk)
        else:
            row.status = OutboxStatus.SENT
            row.attempts += 1
            row.delivered_at = timezone.now()
        row.save(
            update_fields=[
                "status",
                "attempts",
                "response_status",
                "last_error",
                "delivered_at",
            ]
        )
        return row.status
