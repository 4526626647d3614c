"""The words every live page shows about its connection and its outbox (no domain here)."""

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


def outbox_labels(request) -> dict:
    """What the offline outbox (js/offline.js) says about each thing it keeps and sends."""

    def labels():
        return {
            "waiting": _("Waiting for network:"),
            "sending": _("Sending:"),
            "recorded": _("Recorded:"),
            "refused": _("Not recorded:"),
            "closed": _(
                "Did not count, the call for consensus closed before the network came back:"
            ),
            "expired": _("Not sent, a hand signal only lasts seconds:"),
            "offline": _("You are offline."),
            "offline_copy": _("You are offline: this page is as it was at"),
            "offline_help": _(
                "What you do here waits on this phone and is sent when the connection returns."
            ),
            "confirm_block": _(
                "A block is a principled objection: it stops the proposal for everyone. Block it?"
            ),
        }

    return {"outbox_labels": labels}
