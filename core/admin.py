"""Admin plumbing with no domain in it."""

from django.contrib import admin


class ReadOnlyAdminMixin:
    """View-only admin for records that are history: no add, no change, no delete.

    `has_view_permission` is left to Django, so staff with the view (or change)
    permission still read the rows; the change page renders without a save button and
    a POST to it, to the add page or to the delete page is answered 403.
    """

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = [field.name for field in self.model._meta.fields]
        extra = [name for name in super().get_readonly_fields(request, obj) if name not in fields]
        return [*fields, *extra]

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions
