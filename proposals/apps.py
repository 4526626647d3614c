from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = _("Proposals and decisions")

    def ready(self):
        # Registers the deploy check on the history's signing key (proposals.W001).
        from proposals import signing  # noqa: F401
