"""Labels the live client needs in the reader's language (embedded with json_script)."""

from django.utils.translation import gettext as _

from assemblies.models import StackKind
from core.context_processors import connection_labels
from proposals.models import Outcome, Phase


def live_labels(request) -> dict:
    def labels():
        return {
            "status": {**connection_labels(), "stale": _("on an earlier revision")},
            "phases": {phase.value: str(phase.label) for phase in Phase},
            "stack": {kind.value: str(kind.label) for kind in StackKind},
            "outcomes": {outcome.value: str(outcome.label) for outcome in Outcome},
        }

    return {"live_labels": labels}
