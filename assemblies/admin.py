"""Admin for assemblies, memberships and sittings.

Site staff manage data here, in public: every add, change and delete writes a line in the
assembly's log (`assemblies.staff_log`). The facilitation log is the public record of what
facilitators and staff did, so it is view-only: nobody adds, changes or deletes a line of it.
An assembly is never deleted here, nor a sitting that has started: their log lines would go
with them.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from assemblies.models import (
    AgendaItem,
    Assembly,
    Consent,
    ConsentObjection,
    LogEntry,
    Meeting,
    Membership,
    Presence,
    StackEntry,
)
from assemblies.staff_log import (
    CHANGED,
    PublicModelAdmin,
    PublicStaffChangesMixin,
    record_staff_change,
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
class AssemblyAdmin(PublicModelAdmin):
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

    def has_delete_permission(self, request, obj=None) -> bool:
        # Its public log (and its decisions) would go with it.
        return False


@admin.register(Membership)
class MembershipAdmin(PublicModelAdmin):
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
class MeetingAdmin(PublicModelAdmin):
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
    # The hall counters are chosen by a facilitator through `sittings.hall`, two at a time.
    exclude = ["hall_counters"]
    date_hierarchy = "created_at"
    inlines = [AgendaItemInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A sitting that has started has log lines and minutes; they would go with it.
        started = obj is not None and obj.started_at is not None
        return not started and super().has_delete_permission(request, obj)


@admin.register(AgendaItem)
class AgendaItemAdmin(PublicModelAdmin):
    list_display = ["__str__", "meeting", "position", "proposal"]
    list_filter = ["meeting__assembly"]
    search_fields = ["proposal__title", "meeting__title"]
    list_select_related = ["meeting__assembly", "proposal"]
    autocomplete_fields = ["meeting", "proposal"]


@admin.register(StackEntry)
class StackEntryAdmin(PublicModelAdmin):
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


class ConsentObjectionInline(admin.TabularInline):
    model = ConsentObjection
    extra = 0
    fields = ["member", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The questions put to the members present (stand-ins, stepping aside): a record."""

    list_display = ["meeting", "kind", "candidate", "raised_by", "state", "opened_at"]
    list_filter = ["kind", "state", "meeting__assembly"]
    search_fields = ["candidate__display_name", "raised_by__display_name", "meeting__title"]
    list_select_related = ["meeting__assembly", "candidate__assembly", "raised_by__assembly"]
    inlines = [ConsentObjectionInline]


@admin.register(Presence)
class PresenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was present at a sitting (checked in, or counted at the door): a record."""

    list_display = ["meeting", "member", "via", "counted_by", "created_at"]
    list_filter = ["via", "meeting__assembly"]
    search_fields = ["member__display_name", "meeting__title"]
    list_select_related = ["meeting__assembly", "member__assembly", "counted_by__assembly"]


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "assembly", "meeting", "actor", "action"]
    list_filter = ["assembly", "action"]
    search_fields = ["action", "actor__display_name", "assembly__name", "meeting__title"]
    list_select_related = ["assembly", "meeting__assembly", "actor__assembly"]
    date_hierarchy = "created_at"


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(TokenProxy)


@admin.register(User)
class PublicUserAdmin(PublicStaffChangesMixin, UserAdmin):
    """A person's account: changing it (a password above all) is acting on every assembly
    she belongs to, so each of them is told."""

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            record_staff_change(request, self.get_object(request, id), CHANGED, ["password"])
        return response


@admin.register(TokenProxy)
class PublicTokenAdmin(PublicStaffChangesMixin, TokenAdmin):
    """An API token acts as its user: making or deleting one is public like the account."""
