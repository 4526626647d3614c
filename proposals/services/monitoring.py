"""A member's browser reports that the history no longer extends a head it kept.

The report writes one line in the assembly's public log, and only when the server itself
finds the disagreement: the head must carry this server's signature and the decisions in
the database must fail to extend it. A report the server cannot confirm changes nothing, and
each disagreement is logged once, so the endpoint cannot be used to fill the log.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from assemblies.models import Assembly, LogEntry, Membership
from assemblies.services import record_action
from core.errors import Conflict, DomainError
from core.events import publish_on_commit
from proposals import transparency

REPORT_ACTIONS = {
    "shortened": "proposals.history.shortened",
    "rewritten": "proposals.history.rewritten",
    "unsigned": "proposals.history.unsigned",
}


@transaction.atomic
def report_inconsistent_history(
    *, actor: Membership, assembly: Assembly, head: dict
) -> tuple[LogEntry, bool]:
    """The log line for the disagreement with `head` (a published tree head) and whether it
    is new. Refuses a head this server did not sign, or one the history still extends."""
    if not isinstance(head, dict) or head.get("assembly") != assembly.slug:
        raise DomainError("invalid_head", _("This is not a tree head of this assembly."))
    if not transparency.signature_valid(head) or not isinstance(head.get("tree_size"), int):
        raise DomainError(
            "invalid_head", _("This tree head does not carry the server's signature.")
        )
    # One report at a time per assembly: two browsers noticing together log it once.
    Assembly.objects.select_for_update(no_key=True).filter(pk=assembly.pk).first()
    found = transparency.disagreement(assembly, head)
    if found is None:
        raise Conflict(
            "history_consistent",
            _("The history still extends this tree head: there is nothing to report."),
        )
    action = REPORT_ACTIONS[found.code]
    data = {"tree_size": found.tree_size, "held": found.held, "root_hash": head["root_hash"]}
    # Once per kind of disagreement and state of the database: browsers holding heads of
    # different sizes that notice the same rewrite write one line between them.
    earlier = LogEntry.objects.filter(
        assembly=assembly, action=action, data__held=found.held
    ).first()
    if earlier is not None:
        return earlier, False
    entry = record_action(assembly=assembly, actor=actor, action=action, **data)
    publish_on_commit(assembly_id=assembly.pk, kind="log")
    return entry, True
