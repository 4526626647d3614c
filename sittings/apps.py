from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SittingsConfig(AppConfig):
    name = "sittings"
    verbose_name = _("Sittings")

    def ready(self):
        # Connects the live layer to `core.events.state_changed`.
        from sittings import live  # noqa: F401
