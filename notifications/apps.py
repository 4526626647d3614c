from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # The lower apps announce what happened through core.events (Change.event) after
        # their transactions commit; this app listens and never is imported by them.
        from core.events import state_changed
        from notifications import events

        state_changed.connect(events.on_change, weak=False, dispatch_uid="notifications")

        # Until a person chooses the language of their emails, it is the one they were
        # reading the site in when they last logged in (or joined with a code).
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(events.on_login, weak=False, dispatch_uid="notifications-login")
