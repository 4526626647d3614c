"""The words every live page shows about its connection (no domain here)."""

from django.utils.translation import gettext as _


def connection_labels() -> dict[str, str]:
    return {
        "live": _("live"),
        "behind": _("live, but may be behind"),
        "reconnecting": _("reconnecting…"),
        "polling": _("refreshing every 15 s"),
        "offline": _("not live"),
        "sent": _("Sent."),
        "nobody": _("Nobody"),
    }
