from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from notifications.models import Delivery, Outbox, Preference, Webhook


@admin.register(Preference)
class PreferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["membership", "level", "updated_at"]
    list_filter = ["level"]
    exclude = ["calendar_key"]


@admin.register(Outbox)
class OutboxAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["event_key", "membership", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "event"]


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["url", "assembly", "created_at"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["event_key", "webhook", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status"]
