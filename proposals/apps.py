from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = _("Proposals and decisions")

    def ready(self):
        # Connects the live layer to `core.events.state_changed`.
        from proposals import live  # noqa: F401
