"""Site staff act in public too: every admin change to an assembly's data is a log line.

Staff are not members, so the line has no actor; it names the staff account instead
("Site staff maria changed membership “Ana” (role)"). The line is written in the same
transaction as the change (the admin wraps each save and delete in one), so a change
without its line cannot be committed.
"""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from assemblies.models import Assembly, LogEntry, Meeting
from assemblies.services import record_action

ADDED = "site.staff.added"
CHANGED = "site.staff.changed"
DELETED = "site.staff.deleted"


def _account_of(obj):
    """The user account a change acts on (an account, or an API token acting as one)."""
    if hasattr(obj, "memberships") and not hasattr(obj, "assembly_id"):
        return obj
    if hasattr(obj, "key") and hasattr(obj, "user"):
        return obj.user
    return None


def _label(obj, assembly: Assembly) -> str:
    """What the line calls the object: a person by her name in that assembly, never by a
    secret (a token's string is its key)."""
    account = _account_of(obj)
    if account is None:
        return str(obj)
    member = account.memberships.filter(assembly=assembly).first()
    return member.display_name if member else account.get_username()


def assemblies_affected(obj) -> list[Assembly]:
    """The assemblies whose data `obj` is: itself, or the one it belongs to through its parents."""
    if isinstance(obj, Assembly):
        return [obj]
    account = _account_of(obj)
    if account is not None:
        return [m.assembly for m in account.memberships.select_related("assembly")]
    for parent in ("assembly", "meeting", "proposal", "check_run", "member"):
        target = getattr(obj, parent, None)
        if target is not None and target is not obj:
            return assemblies_affected(target)
    return []


def _meeting_of(obj) -> Meeting | None:
    """The sitting a change belongs to, unless it is the sitting being deleted."""
    if isinstance(obj, Meeting):
        return obj
    meeting = getattr(obj, "meeting", None)
    return meeting if isinstance(meeting, Meeting) else None


def record_staff_change(request, obj, action: str, fields=()) -> list[LogEntry]:
    """One public line per assembly the object belongs to (a user account may span several)."""
    meeting = None if action == DELETED else _meeting_of(obj)
    return [
        record_action(
            assembly=assembly,
            actor=None,
            action=action,
            meeting=meeting if meeting and meeting.assembly_id == assembly.pk else None,
            staff=request.user.get_username(),
            model=str(obj._meta.verbose_name),
            object=_label(obj, assembly),
            fields=sorted(fields),
        )
        for assembly in assemblies_affected(obj)
    ]


class PublicStaffChangesMixin:
    """Every add, change and delete through this admin (inlines and bulk actions included)
    writes a public line in the assembly's log."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and not form.changed_data:
                return
            action = CHANGED if change else ADDED
            record_staff_change(request, obj, action, form.changed_data)

    def delete_model(self, request, obj):
        with transaction.atomic():
            # Written before the row goes: afterwards its parents may be gone too.
            record_staff_change(request, obj, DELETED)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                record_staff_change(request, obj, DELETED)
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            for deleted in formset.deleted_forms:
                if deleted.instance.pk is not None:
                    record_staff_change(request, deleted.instance, DELETED)
            super().save_formset(request, form, formset, change)
            for obj in getattr(formset, "new_objects", []):
                record_staff_change(request, obj, ADDED)
            for obj, fields in getattr(formset, "changed_objects", []):
                record_staff_change(request, obj, CHANGED, fields)


class PublicModelAdmin(PublicStaffChangesMixin, admin.ModelAdmin):
    """A ModelAdmin whose changes are public."""


STAFF_SENTENCES = {
    ADDED: _("added {model} “{object}”"),
    CHANGED: _("changed {model} “{object}” ({fields})"),
    DELETED: _("deleted {model} “{object}”"),
}
