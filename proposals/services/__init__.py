"""Every write to proposals, positions and decisions; all three edges call these.

One module per job: `lifecycle` (submit, revise, phases, the call, tabling), `discussion`
(questions, concerns, amendments), `temperature`, `positions` (the one check and writer of
positions), `proxies` (a member's proxy, given and revoked), `decisions` (closing,
withdrawing, the decision record and its signed tree head), `monitoring` (reports of a
history that no longer extends a kept head), `roles` (proposals of roles, where the
assembly gives roles by decision). `_common` holds the lock protocol they share. Import
the acts from here.
"""

from proposals.services._common import CALL_LOCK_CLASS, MAX_REASON, MAX_TEXT, MAX_TITLE
from proposals.services.decisions import (
    REMINDER_LEAD_HOURS,
    announce_closing_calls,
    close_call,
    close_due_calls,
    withdraw_proposal,
)
from proposals.services.discussion import (
    accept_amendment,
    add_comment,
    decline_amendment,
)
from proposals.services.lifecycle import (
    call_for_consensus,
    revise_proposal,
    set_phase,
    submit_proposal,
    table_proposal,
)
from proposals.services.monitoring import report_inconsistent_history
from proposals.services.positions import PositionRequest, take_position, take_positions
from proposals.services.proxies import give_proxy, revoke_proxy
from proposals.services.roles import propose_roles
from proposals.services.temperature import (
    close_temperature_check,
    give_reading,
    open_temperature_check,
    reading_counts,
)

__all__ = [
    "CALL_LOCK_CLASS",
    "MAX_REASON",
    "MAX_TEXT",
    "MAX_TITLE",
    "REMINDER_LEAD_HOURS",
    "PositionRequest",
    "accept_amendment",
    "add_comment",
    "announce_closing_calls",
    "call_for_consensus",
    "close_call",
    "close_due_calls",
    "close_temperature_check",
    "decline_amendment",
    "give_proxy",
    "give_reading",
    "open_temperature_check",
    "propose_roles",
    "reading_counts",
    "report_inconsistent_history",
    "revise_proposal",
    "revoke_proxy",
    "set_phase",
    "submit_proposal",
    "table_proposal",
    "take_position",
    "take_positions",
    "withdraw_proposal",
]
