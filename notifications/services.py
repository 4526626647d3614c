"""Every write of this app: a member's choices, the calendar secret, the assembly's webhooks.

A member's own choices (emails, language, calendar secret) are private and write no public
log line; adding or removing a webhook is a facilitator's act and is logged.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from assemblies.access import require_active_member, require_assembly_facilitator
from assemblies.models import Assembly, Membership
from assemblies.services import record_action
from core.errors import DomainError, NotFound
from core.events import publish_on_commit
from core.text import has_control
from notifications.models import Level, Preference, Recipient, Webhook, new_calendar_key

MAX_WEBHOOK_URL = 500
MAX_WEBHOOKS = 10


@transaction.atomic
def set_preference(
    *, actor: Membership, level: str | None = None, language: str | None = None
) -> Preference:
    """The member's emails for this assembly and the language of everything sent to them."""
    require_active_member(actor)
    if level is not None and level not in Level.values:
        raise DomainError(
            "invalid_level", _("Choose every event, a daily digest, calls only or nothing.")
        )
    if language is not None and language not in dict(settings.LANGUAGES):
        raise DomainError("invalid_language", _("Choose one of the site's languages."))
    preference, _created = Preference.objects.select_for_update().get_or_create(membership=actor)
    if level is not None and level != preference.level:
        preference.level = level
        preference.save(update_fields=["level", "updated_at"])
    if language is not None:
        Recipient.objects.update_or_create(user_id=actor.user_id, defaults={"language": language})
    return preference


def remember_language(*, user, language: str) -> None:
    """The language a person reads the site in, for their emails, unless they chose one."""
    if language in dict(settings.LANGUAGES):
        Recipient.objects.get_or_create(user=user, defaults={"language": language})


@transaction.atomic
def unsubscribe(*, actor: Membership) -> Preference:
    """The one-click unsubscribe: no more email from this assembly (the others keep theirs)."""
    preference, _created = Preference.objects.select_for_update().get_or_create(membership=actor)
    if preference.level != Level.NONE:
        preference.level = Level.NONE
        preference.save(update_fields=["level", "updated_at"])
    return preference


@transaction.atomic
def regenerate_calendar_key(*, actor: Membership) -> Preference:
    """A new secret calendar URL; the old one stops working at once."""
    require_active_member(actor)
    preference, _created = Preference.objects.select_for_update().get_or_create(membership=actor)
    preference.calendar_key = new_calendar_key()
    preference.save(update_fields=["calendar_key", "updated_at"])
    return preference


def clean_webhook_url(url: str) -> str:
    """An absolute http(s) URL with a host: anything else is refused, never guessed at."""
    url = (url or "").strip()
    if not url:
        raise DomainError("url_required", _("Give the webhook's URL."))
    if len(url) > MAX_WEBHOOK_URL:
        raise DomainError("url_too_long", _("At most 500 characters."))
    if has_control(url, keep_line_breaks=False) or any(c.isspace() for c in url):
        raise DomainError("url_invalid", _("A URL has no spaces or control characters."))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise DomainError("url_invalid", _("That is not a URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise DomainError("url_scheme", _("Only http:// and https:// URLs can receive webhooks."))
    if not parts.hostname:
        raise DomainError("url_invalid", _("The URL needs a host name."))
    if parts.username or parts.password:
        raise DomainError(
            "url_credentials", _("Put no password in the URL: the signature authenticates.")
        )
    return url


@transaction.atomic
def add_webhook(*, actor: Membership, assembly: Assembly, url: str) -> Webhook:
    require_assembly_facilitator(actor)
    if actor.assembly_id != assembly.pk:
        raise NotFound("assembly_not_found", _("There is no such assembly."))
    url = clean_webhook_url(url)
    Assembly.objects.select_for_update().filter(pk=assembly.pk).first()
    if Webhook.objects.filter(assembly=assembly).count() >= MAX_WEBHOOKS:
        raise DomainError(
            "too_many_webhooks", _("An assembly has at most 10 webhooks: remove one first.")
        )
    webhook = Webhook.objects.create(assembly=assembly, url=url, created_by=actor)
    record_action(
        assembly=assembly,
        actor=actor,
        action="notifications.webhook.added",
        host=urlsplit(url).hostname,
        webhook_id=webhook.pk,
    )
    publish_on_commit(assembly_id=assembly.pk, kind="webhooks")
    return webhook


@transaction.atomic
def remove_webhook(*, actor: Membership, webhook: Webhook) -> None:
    require_assembly_facilitator(actor)
    if actor.assembly_id != webhook.assembly_id:
        raise NotFound("webhook_not_found", _("There is no such webhook."))
    host = urlsplit(webhook.url).hostname
    webhook_id = webhook.pk
    webhook.delete()
    record_action(
        assembly=actor.assembly,
        actor=actor,
        action="notifications.webhook.removed",
        host=host,
        webhook_id=webhook_id,
    )
    publish_on_commit(assembly_id=actor.assembly_id, kind="webhooks")
