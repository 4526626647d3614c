"""What members asked to hear, and what was sent to them and to the assembly's webhooks."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_calendar_key() -> str:
    return secrets.token_urlsafe(24)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Level(models.TextChoices):
    ALL = "all", _("Every event, as it happens")
    DIGEST = "digest", _("A daily digest")
    CALLS = "calls", _("Only calls for consensus and decisions")
    NONE = "none", _("Nothing")


class Preference(models.Model):
    """One member's choice for one assembly; no row means the default (every event)."""

    membership = models.OneToOneField(
        "assemblies.Membership", on_delete=models.CASCADE, related_name="notification_preference"
    )
    level = models.CharField(_("emails"), max_length=8, choices=Level.choices, default=Level.ALL)
    # The secret of this member's calendar feed URL (private assemblies need it).
    calendar_key = models.CharField(max_length=48, unique=True, default=new_calendar_key)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["all", "digest", "calls", "none"]),
                name="preference_level_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership}: {self.level}"


class Recipient(models.Model):
    """A person's language for what is sent to them (the pages follow the language switch)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_recipient"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("email language")
        verbose_name_plural = _("email languages")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Given up")
    SKIPPED = "skipped", _("Not sent")


class Outbox(models.Model):
    """One email to one member about one event: the unique constraint is "sent once".

    Rows are written by the fan-out (a task) and sent by `deliver` tasks, which lock their
    row with SKIP LOCKED: two workers never send the same row, and a row sent is marked in
    the transaction that held the lock.
    """

    membership = models.ForeignKey(
        "assemblies.Membership", on_delete=models.CASCADE, related_name="outbox"
    )
    event = models.CharField(max_length=40)
    # The event's occurrence: "proposal:12", "proposal:12:24h", "meeting:3:2026-05-01T18:00".
    event_key = models.CharField(max_length=120)
    reference = models.CharField(max_length=60, blank=True)
    proposal = models.ForeignKey(
        "proposals.Proposal", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    meeting = models.ForeignKey(
        "assemblies.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Digest rows wait for their day's digest instead of going out alone.
    digest = models.BooleanField(default=False)
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "event_key"], name="outbox_once_per_member_and_event"
            )
        ]
        indexes = [models.Index(fields=["membership", "digest", "status"])]

    def __str__(self) -> str:
        return f"{self.event_key} → {self.membership_id} ({self.status})"


class Webhook(models.Model):
    """A chat bridge: calls and decisions POSTed as signed JSON to a URL the assembly chose."""

    assembly = models.ForeignKey(
        "assemblies.Assembly", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    created_by = models.ForeignKey(
        "assemblies.Membership", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """One POST of one event to one webhook, with its attempts (unique: sent once)."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_key = models.CharField(max_length=120)
    payload = models.JSONField()
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event_key"], name="delivery_once_per_webhook_and_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_key} → {self.webhook_id} ({self.status})"
