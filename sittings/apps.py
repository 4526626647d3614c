from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SittingsConfig(AppConfig):
    name = "sittings"
    verbose_name = _("Sittings")

    def ready(self):
        # Connects the live layer to `core.events.state_changed`, and lets the broadcaster
        # recheck open sockets when access changes.
        from core import broadcast
        from sittings import consumers, live  # noqa: F401

        broadcast.set_access_check(consumers.recheck)
