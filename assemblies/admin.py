"""Admin for assemblies, memberships and sittings.

Site staff manage data here. The facilitation log is the public record of what
facilitators did, so it is view-only: nobody adds, changes or deletes a line of it.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from assemblies.models import (
    AgendaItem,
    Assembly,
    LogEntry,
    Meeting,
    Membership,
    StackEntry,
)
from core.admin import ReadOnlyAdminMixin

admin.site.site_header = _("Multitude administration")
admin.site.site_title = _("Multitude administration")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "display_name", "role", "status", "joined_via", "joined_at"]
    readonly_fields = ["joined_at"]
    autocomplete_fields = ["user"]
    show_change_link = True


@admin.register(Assembly)
class AssemblyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "visibility",
        "admission_required",
        "join_code",
        "created_by",
        "created_at",
    ]
    list_filter = ["visibility", "admission_required", "created_at"]
    search_fields = ["name", "slug", "description", "join_code"]
    list_select_related = ["created_by"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["created_by"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "assembly", "role", "status", "joined_via", "joined_at"]
    list_filter = ["role", "status", "joined_via", "assembly"]
    search_fields = ["display_name", "user__username", "user__email", "assembly__name"]
    list_select_related = ["user", "assembly"]
    autocomplete_fields = ["user", "assembly"]
    readonly_fields = ["joined_at"]
    date_hierarchy = "joined_at"


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    fields = ["position", "proposal"]
    autocomplete_fields = ["proposal"]
    ordering = ["position"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "assembly",
        "state",
        "scheduled_for",
        "started_at",
        "ended_at",
        "location",
        "progressive_stack",
    ]
    list_filter = ["state", "progressive_stack", "assembly"]
    search_fields = ["title", "location", "assembly__name"]
    list_select_related = ["assembly"]
    autocomplete_fields = ["assembly", "current_proposal"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
    inlines = [AgendaItemInline]


@admin.register(AgendaItem)
class AgendaItemAdmin(admin.ModelAdmin):
    list_display = ["__str__", "meeting", "position", "proposal"]
    list_filter = ["meeting__assembly"]
    search_fields = ["proposal__title", "meeting__title"]
    list_select_related = ["meeting__assembly", "proposal"]
    autocomplete_fields = ["meeting", "proposal"]


@admin.register(StackEntry)
class StackEntryAdmin(admin.ModelAdmin):
    list_display = [
        "member",
        "hall_name",
        "meeting",
        "kind",
        "state",
        "priority",
        "requested_at",
        "called_at",
        "done_at",
    ]
    list_filter = ["kind", "state", "meeting__assembly"]
    search_fields = ["member__display_name", "hall_name", "meeting__title"]
    list_select_related = ["member__assembly", "meeting__assembly"]
    autocomplete_fields = ["meeting", "member"]
    readonly_fields = ["requested_at"]
    date_hierarchy = "requested_at"


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "assembly", "meeting", "actor", "action"]
    list_filter = ["assembly", "action"]
    search_fields = ["action", "actor__display_name", "assembly__name", "meeting__title"]
    list_select_related = ["assembly", "meeting__assembly", "actor__assembly"]
    date_hierarchy = "created_at"
