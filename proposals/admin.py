"""Admin for proposals and what happens to them.

Positions and decisions are the record of how a proposal was decided (decisions are
chained by digest), so they are view-only here: no add, no change, no delete. So is
everything a decision rests on once it is made: a decided or withdrawn proposal and its
revisions. A revision's text never changes at all (a new text is a new revision).
"""

from django.contrib import admin

from assemblies.staff_log import PublicModelAdmin
from core.admin import ReadOnlyAdminMixin
from proposals.models import (
    Comment,
    Decision,
    HallCount,
    Position,
    Proposal,
    Proxy,
    Revision,
    TemperatureCheck,
    TemperatureReading,
)


class RevisionInline(admin.StackedInline):
    """The texts, as they were written: view-only (the author revises through the app)."""

    model = Revision
    extra = 0
    fields = ["number", "text", "summary", "author", "amendment", "created_at"]
    readonly_fields = fields
    ordering = ["number"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class FrozenOnceDecidedMixin:
    """No change and no delete once the proposal (of a revision) is decided or withdrawn."""

    def _decided(self, obj) -> bool:
        proposal = getattr(obj, "proposal", obj)
        return proposal is not None and proposal.is_final

    def has_change_permission(self, request, obj=None) -> bool:
        return not self._decided(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self._decided(obj) and super().has_delete_permission(request, obj)


@admin.register(Proposal)
class ProposalAdmin(FrozenOnceDecidedMixin, PublicModelAdmin):
    list_display = [
        "title",
        "assembly",
        "phase",
        "revision_number",
        "author",
        "meeting",
        "closes_at",
        "created_at",
    ]
    list_filter = ["phase", "assembly"]
    search_fields = ["title", "assembly__name", "author__display_name", "revisions__text"]
    list_select_related = ["assembly", "author__assembly", "meeting__assembly"]
    autocomplete_fields = ["assembly", "meeting", "author"]
    readonly_fields = ["call_opened_at", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [RevisionInline]


@admin.register(Revision)
class RevisionAdmin(FrozenOnceDecidedMixin, PublicModelAdmin):
    list_display = ["proposal", "number", "summary", "author", "created_at"]
    list_filter = ["proposal__assembly"]
    search_fields = ["proposal__title", "text", "summary", "author__display_name"]
    list_select_related = ["proposal", "author__assembly"]
    autocomplete_fields = ["proposal", "author", "amendment"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        # A revision's text is what people took positions on: it never changes.
        frozen = ["proposal", "number", "text"] if obj is not None else []
        return [*frozen, *super().get_readonly_fields(request, obj)]


@admin.register(HallCount)
class HallCountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each counter's count of the hall (a recount clears, never deletes): a record."""

    list_display = ["proposal", "counter", "agree", "stand_aside", "block", "created_at"]
    list_display += ["cleared_at"]
    list_filter = ["proposal__assembly"]
    search_fields = ["counter__display_name", "proposal__title"]
    list_select_related = ["proposal", "counter__assembly"]


@admin.register(Proxy)
class ProxyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Proxies are the members' own acts (given and revoked only through the service, each
    with a public log line): staff read them here, never change them."""

    list_display = ["giver", "holder", "meeting", "proposal", "mandate", "may_block"]
    list_display += ["created_at", "revoked_at"]
    list_filter = ["mandate", "assembly"]
    search_fields = ["giver__display_name", "holder__display_name"]
    list_select_related = ["giver__assembly", "holder__assembly", "meeting", "proposal"]


@admin.register(Position)
class PositionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "member",
        "stated_by",
        "proposal",
        "kind",
        "is_current",
        "revision_number",
        "reason",
        "created_at",
    ]
    list_filter = ["kind", "is_current", "proposal__assembly"]
    search_fields = ["member__display_name", "proposal__title", "reason"]
    list_select_related = ["member__assembly", "proposal"]
    date_hierarchy = "created_at"


@admin.register(Comment)
class CommentAdmin(PublicModelAdmin):
    list_display = ["__str__", "proposal", "kind", "status", "revision_number", "created_at"]
    list_filter = ["kind", "status", "proposal__assembly"]
    search_fields = ["text", "proposed_text", "member__display_name", "proposal__title"]
    list_select_related = ["member", "proposal"]
    autocomplete_fields = ["proposal", "member", "parent"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


class TemperatureReadingInline(admin.TabularInline):
    model = TemperatureReading
    extra = 0
    fields = ["member", "reading", "updated_at"]
    readonly_fields = ["updated_at"]
    autocomplete_fields = ["member"]


@admin.register(TemperatureCheck)
class TemperatureCheckAdmin(PublicModelAdmin):
    list_display = ["proposal", "opened_by", "revision_number", "opened_at", "closed_at"]
    list_filter = ["proposal__assembly"]
    search_fields = ["proposal__title", "opened_by__display_name"]
    list_select_related = ["proposal", "opened_by__assembly"]
    autocomplete_fields = ["proposal", "opened_by"]
    readonly_fields = ["opened_at"]
    date_hierarchy = "opened_at"
    inlines = [TemperatureReadingInline]


@admin.register(TemperatureReading)
class TemperatureReadingAdmin(PublicModelAdmin):
    list_display = ["member", "reading", "check_run", "updated_at"]
    list_filter = ["reading", "check_run__proposal__assembly"]
    search_fields = ["member__display_name", "check_run__proposal__title"]
    list_select_related = ["member__assembly", "check_run__proposal"]
    autocomplete_fields = ["check_run", "member"]
    readonly_fields = ["updated_at"]
    date_hierarchy = "updated_at"


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "sequence",
        "proposal",
        "assembly",
        "outcome",
        "agree_count",
        "stand_aside_count",
        "block_count",
        "closed_by",
        "decided_at",
    ]
    list_display_links = ["sequence", "proposal"]
    list_filter = ["outcome", "assembly"]
    search_fields = ["proposal__title", "assembly__name", "digest"]
    list_select_related = ["proposal", "assembly", "closed_by__assembly"]
    date_hierarchy = "decided_at"
