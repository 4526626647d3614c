"""Labels the live client needs in the reader's language (embedded with json_script)."""

from django.utils.translation import gettext as _


def live_labels(request) -> dict:
    from assemblies.models import StackKind
    from proposals.models import Outcome, Phase

    def labels():
        return {
            "status": {
                "live": _("live"),
                "reconnecting": _("reconnecting…"),
                "polling": _("refreshing every 15 s"),
                "offline": _("not live"),
                "sent": _("Sent."),
                "nobody": _("Nobody"),
            },
            "phases": {phase.value: str(phase.label) for phase in Phase},
            "stack": {kind.value: str(kind.label) for kind in StackKind},
            "outcomes": {outcome.value: str(outcome.label) for outcome in Outcome},
        }

    return {"live_labels": labels}
