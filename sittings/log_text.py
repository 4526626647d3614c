"""The public facilitation log in words, in the reader's language.

Entries store a namespaced action code and its data; the sentence is made when shown.
"""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assemblies.models import LogEntry, Role, StackKind, hall_speaker_label
from proposals.models import Outcome, Phase

SENTENCES = {
    "assemblies.assembly.created": gettext_lazy("created the assembly"),
    "assemblies.assembly.updated": gettext_lazy("changed the assembly's settings ({fields})"),
    "assemblies.member.role_changed": gettext_lazy("made {member} {new}"),
    "assemblies.member.admitted": gettext_lazy("admitted {member}"),
    "assemblies.member.removed": gettext_lazy("removed {member}"),
    "assemblies.join_code.rotated": gettext_lazy("changed the join code"),
    "assemblies.join_code.rotated_after_guessing": gettext_lazy(
        "changed the join code after {wrong_guesses} wrong guesses"
    ),
    "assemblies.meeting.scheduled": gettext_lazy("scheduled the sitting “{title}”"),
    "assemblies.meeting.started": gettext_lazy("opened the sitting"),
    "assemblies.meeting.adjourned": gettext_lazy("adjourned the sitting"),
    "assemblies.meeting.current_proposal": gettext_lazy("brought “{proposal}” to the floor"),
    "assemblies.agenda.added": gettext_lazy("put “{proposal}” on the agenda"),
    "assemblies.agenda.moved": gettext_lazy("moved “{proposal}” to place {position} of the agenda"),
    "assemblies.agenda.removed": gettext_lazy("took “{proposal}” off the agenda"),
    "assemblies.stack.called": gettext_lazy("gave the floor to {member} ({kind})"),
    "assemblies.stack.added_from_floor": gettext_lazy(
        "put {member}, in the hall, on the stack ({kind})"
    ),
    "assemblies.stack.skipped": gettext_lazy("skipped {member} on the stack"),
    "assemblies.stack.removed": gettext_lazy("took {member} off the stack"),
    "assemblies.stack.priority": gettext_lazy("moved {member} up the stack"),
    "assemblies.stack.progressive": gettext_lazy("turned the progressive stack {on}"),
    "assemblies.timer.started": gettext_lazy("started the speaker timer ({seconds} s)"),
    "assemblies.timer.stopped": gettext_lazy("stopped the speaker timer"),
    "proposals.phase.changed": gettext_lazy("moved “{proposal}” from {old} to {new}"),
    "proposals.temperature.opened": gettext_lazy("opened a temperature check on “{proposal}”"),
    "proposals.temperature.closed": gettext_lazy(
        "closed the temperature check on “{proposal}” (up {up}, so-so {so_so}, down {down})"
    ),
    "proposals.call.opened": gettext_lazy("opened the call for consensus on “{proposal}”"),
    "proposals.call.reminded": gettext_lazy(
        "reminded the members with no position that “{proposal}” closes in {hours} h"
    ),
    "assemblies.meeting.moved": gettext_lazy("moved the sitting “{title}” to {when}"),
    "notifications.webhook.added": gettext_lazy("added a chat webhook to {host}"),
    "notifications.webhook.removed": gettext_lazy("removed the chat webhook to {host}"),
    "proposals.call.closed": gettext_lazy(
        "closed the call for consensus on “{proposal}”: {outcome}"
    ),
    "proposals.proposal.tabled": gettext_lazy("tabled “{proposal}”"),
    "proposals.proposal.withdrawn": gettext_lazy("recorded the withdrawal of “{proposal}”"),
}

# Calling the next speaker with nobody waiting only ends the current turn.
NOBODY_CALLED = gettext_lazy("ended the turn: nobody was waiting to speak")

LABELS = {
    "old": dict(Phase.choices),
    "new": {**dict(Phase.choices), **dict(Role.choices)},
    "outcome": dict(Outcome.choices),
    "kind": dict(StackKind.choices),
}


def describe(entry: LogEntry) -> str:
    """“Fran opened the sitting”; a system action (an online close) has no actor."""
    template = SENTENCES.get(entry.action)
    if entry.action == "assemblies.stack.called" and not (entry.data or {}).get("member"):
        template = NOBODY_CALLED
    data = defaultdict(lambda: "?")
    for key, value in (entry.data or {}).items():
        if isinstance(value, str):
            value = LABELS.get(key, {}).get(value, value)
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        data[key] = str(value)
    if "on" in data:
        data["on"] = _("on") if entry.data.get("on") else _("off")
    if entry.data.get("from_hall"):
        data["member"] = hall_speaker_label(data["member"])
    sentence = str(template).format_map(data) if template else entry.action
    who = entry.actor.display_name if entry.actor_id else _("The assembly's rule")
    return f"{who} {sentence}"
