"""The public facilitation log in words, in the reader's language.

Entries store a namespaced action code and its data; the sentence is made when shown.
"""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assemblies.models import LogEntry, Role, StackKind, hall_speaker_label
from assemblies.staff_log import STAFF_SENTENCES
from proposals.models import Mandate, Outcome, Phase, PositionKind

SENTENCES = {
    "assemblies.assembly.created": gettext_lazy("created the assembly"),
    "assemblies.assembly.updated": gettext_lazy("changed the assembly's settings ({fields})"),
    "assemblies.member.role_changed": gettext_lazy("made {member} {new}"),
    "assemblies.member.role_decided": gettext_lazy(
        "made {member} {new}, as decision #{decision} (“{proposal}”) decided"
    ),
    "assemblies.member.role_not_applied": gettext_lazy(
        "could not make {member} {new} as decision #{decision} decided: {why}"
    ),
    "assemblies.member.founding_ended": gettext_lazy(
        "ended the founding facilitator role of {member}: the assembly appointed its own "
        "facilitators (decision #{decision})"
    ),
    "assemblies.assembly.roles_by_facilitators": gettext_lazy(
        "let facilitators give roles again, as decision #{decision} (“{proposal}”) decided"
    ),
    "assemblies.sitting_facilitator.named": gettext_lazy(
        "asked {member} to co-facilitate this sitting"
    ),
    "assemblies.sitting_facilitator.released": gettext_lazy(
        "ended the facilitation of this sitting by {member}"
    ),
    "assemblies.meeting.facilitators_away": gettext_lazy(
        "noted that no facilitator had been connected for {seconds} s: any member may offer "
        "to stand in"
    ),
    "assemblies.consent.stand_in_offered": gettext_lazy(
        "offered to facilitate this sitting until it ends (accepted unless a member present "
        "objects within {seconds} s)"
    ),
    "assemblies.consent.step_aside_asked": gettext_lazy(
        "raised a point of process: {member} should step aside as facilitator (accepted "
        "unless a member present objects within {seconds} s)"
    ),
    "assemblies.consent.stand_in_objected": gettext_lazy(
        "objected to {member} standing in as facilitator"
    ),
    "assemblies.consent.step_aside_objected": gettext_lazy(
        "objected to {member} stepping aside as facilitator"
    ),
    "assemblies.consent.stand_in_withdrawn": gettext_lazy("withdrew the offer to stand in"),
    "assemblies.consent.step_aside_withdrawn": gettext_lazy(
        "withdrew the point of process about {member} stepping aside"
    ),
    "assemblies.consent.stand_in_accepted": gettext_lazy(
        "made {member} a facilitator of this sitting until it ends: nobody present objected "
        "within {seconds} s"
    ),
    "assemblies.consent.step_aside_accepted": gettext_lazy(
        "asked {member} to step aside as facilitator for the rest of this sitting: nobody "
        "present objected within {seconds} s"
    ),
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
    "assemblies.hall.counters_chosen": gettext_lazy("chose {members} to count the hall"),
    "assemblies.presence.checked_in": gettext_lazy("checked in, present at the sitting"),
    "assemblies.presence.counted_at_door": gettext_lazy("counted {member} present at the door"),
    "assemblies.hall.counted": gettext_lazy(
        "counted the hall on “{proposal}”: {agree} agree, {stand_aside} stand aside, {block} block"
    ),
    "assemblies.hall.recorded": gettext_lazy(
        "agreed with the other counter: the hall's count on “{proposal}” is recorded "
        "({agree} agree, {stand_aside} stand aside, {block} block)"
    ),
    "assemblies.hall.differs": gettext_lazy(
        "counted the hall on “{proposal}” differently from the other counter ({first} against "
        "{second}, agree/stand aside/block): nothing is recorded until they agree"
    ),
    "assemblies.hall.recount": gettext_lazy(
        "called a recount of the hall on “{proposal}”: both counts are cleared"
    ),
    "proposals.proxy.given": gettext_lazy(
        "gave their proxy for “{scope}” to {holder}; mandate: {mandate}{blocking}"
    ),
    "proposals.proxy.revoked": gettext_lazy(
        "revoked the proxy for “{scope}” they had given to {holder}"
    ),
    "proposals.proxy.declined": gettext_lazy("declined the proxy of {giver} for “{scope}”"),
    "proposals.proxy.used": gettext_lazy(
        "stated {position} for {member} on “{proposal}”, with their proxy"
    ),
    "proposals.proposal.tabled": gettext_lazy("tabled “{proposal}”"),
    "proposals.proposal.withdrawn": gettext_lazy("recorded the withdrawal of “{proposal}”"),
    **STAFF_SENTENCES,
    # A member's browser found the history altered (proposals/services/monitoring.py).
    "proposals.history.shortened": gettext_lazy(
        "reported that decisions are missing from the history: a tree head was signed for "
        "{tree_size} decisions, the database holds {held}"
    ),
    "proposals.history.rewritten": gettext_lazy(
        "reported that the history was rewritten: its first {tree_size} decisions no longer "
        "match the tree head signed for them"
    ),
    "proposals.history.unsigned": gettext_lazy(
        "reported that decision #{tree_size} is in the history without a signed tree head"
    ),
}

# Calling the next speaker with nobody waiting only ends the current turn.
NOBODY_CALLED = gettext_lazy("ended the turn: nobody was waiting to speak")

LABELS = {
    "old": dict(Phase.choices),
    "new": {**dict(Phase.choices), **dict(Role.choices)},
    "outcome": dict(Outcome.choices),
    "position": dict(PositionKind.choices),
    "mandate": dict(Mandate.choices),
    "kind": dict(StackKind.choices),
    "why": {
        "not_a_member": gettext_lazy("they are no longer a member"),
        "last_facilitator": gettext_lazy("the assembly would have no facilitator left"),
    },
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
    if "may_block" in data:
        data["blocking"] = _("; may block in their name") if entry.data["may_block"] else ""
    if entry.data.get("from_hall"):
        data["member"] = hall_speaker_label(data["member"])
    sentence = str(template).format_map(data) if template else entry.action
    return f"{_who(entry)} {sentence}"


def _who(entry: LogEntry) -> str:
    if entry.actor_id:
        return entry.actor.display_name
    staff = (entry.data or {}).get("staff")
    if staff:
        return _("Site staff %(name)s") % {"name": staff}
    return _("The assembly's rule")
