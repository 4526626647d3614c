"""Every privileged act is public: each service that requires a facilitator writes a log line.

The services are found by reading their source: every public function of a service module
that calls `require_facilitator` (directly, or through a private helper of its module that
does). Each is then performed through `ACTS` below, and the public log must have grown by a
line naming the act. A facilitator service added later without an entry here fails
`test_every_facilitator_service_is_enumerated`; one that forgets its log line fails the other.
The figure (acts with a public line / acts) is printed and stated in docs/security.md.
"""

import ast
import importlib
import inspect
from datetime import timedelta

import pytest
from django.utils import timezone

from assemblies import services as assembly_services
from assemblies.models import LogEntry
from notifications import services as notification_services
from proposals import services as proposal_services
from proposals.models import Phase, Proposal
from sittings import floor, hall, stand_in
from sittings import services as sitting_services

SERVICE_MODULES = [
    "assemblies.services",
    "proposals.services.lifecycle",
    "proposals.services.discussion",
    "proposals.services.temperature",
    "proposals.services.positions",
    "proposals.services.decisions",
    "sittings.services",
    "sittings.floor",
    "sittings.stand_in",
    "notifications.services",
    "sittings.hall",
]
GATES = {"require_facilitator", "require_assembly_facilitator"}


def _called_names(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", ""))
    return names


def facilitator_services() -> set[str]:
    """`module.function` for every public service function gated on a facilitator."""
    found = set()
    for name in SERVICE_MODULES:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        gated: set[str] = set()
        grew = True
        while grew:
            grew = False
            for fname, function in functions.items():
                if fname not in gated and _called_names(function) & (GATES | gated):
                    gated.add(fname)
                    grew = True
        found |= {f"{name}.{fname}" for fname in gated if not fname.startswith("_")}
    return found


class Sitting:
    """A sitting in session with a proposal on its floor and someone on the stack."""

    def __init__(self, assembly, facilitator, participant, make_member):
        self.assembly, self.fac, self.pat = assembly, facilitator, participant
        self.make_member = make_member
        self.meeting = sitting_services.schedule_meeting(
            actor=facilitator, assembly=assembly, title="Sitting"
        )
        self.meeting = sitting_services.start_meeting(actor=facilitator, meeting=self.meeting)
        self.proposal = proposal_services.submit_proposal(
            actor=participant, title="A tarp", text="We buy a tarp.", meeting=self.meeting
        )
        self.other = proposal_services.submit_proposal(
            actor=participant, title="A stove", text="We buy a stove.", meeting=self.meeting
        )

    def item(self, proposal=None):
        return self.meeting.agenda_items.get(proposal=proposal or self.proposal)

    def stack_entry(self):
        return floor.raise_hand(actor=self.pat, meeting=self.meeting, kind="speak")

    def in_call(self):
        return proposal_services.call_for_consensus(actor=self.fac, proposal=self.proposal)

    def pending(self):
        assembly_services.update_assembly(
            actor=self.fac, assembly=self.assembly, admission_required=True
        )
        return self.make_member("Penny")


def _close_due(s: Sitting):
    proposal = proposal_services.call_for_consensus(
        actor=s.fac, proposal=s.proposal, closes_at=timezone.now() + timedelta(minutes=5)
    )
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    proposal_services.close_due_calls()


def _with_check(s: Sitting):
    proposal_services.open_temperature_check(actor=s.fac, proposal=s.proposal)
    proposal_services.close_temperature_check(actor=s.fac, proposal=s.proposal)


# The act, performed by the facilitator; its argument is a fresh Sitting.
ACTS = {
    "assemblies.services.update_assembly": lambda s: assembly_services.update_assembly(
        actor=s.fac, assembly=s.assembly, description="New words"
    ),
    "assemblies.services.change_role": lambda s: assembly_services.change_role(
        actor=s.fac, member=s.pat, role="observer"
    ),
    "assemblies.services.give_roles": lambda s: assembly_services.give_roles(
        actor=s.fac, changes=[(s.pat, "observer")]
    ),
    "assemblies.services.admit_member": lambda s: assembly_services.admit_member(
        actor=s.fac, member=s.pending()
    ),
    "assemblies.services.remove_member": lambda s: assembly_services.remove_member(
        actor=s.fac, member=s.make_member("Rem")
    ),
    "assemblies.services.rotate_join_code": lambda s: assembly_services.rotate_join_code(
        actor=s.fac, assembly=s.assembly
    ),
    "proposals.services.lifecycle.set_phase": lambda s: proposal_services.set_phase(
        actor=s.fac, proposal=s.proposal, phase=Phase.QUESTIONS
    ),
    "proposals.services.lifecycle.call_for_consensus": lambda s: s.in_call(),
    "proposals.services.lifecycle.table_proposal": lambda s: proposal_services.table_proposal(
        actor=s.fac, proposal=s.proposal
    ),
    "proposals.services.temperature.open_temperature_check": (
        lambda s: proposal_services.open_temperature_check(actor=s.fac, proposal=s.proposal)
    ),
    "proposals.services.temperature.close_temperature_check": _with_check,
    "proposals.services.decisions.close_call": lambda s: proposal_services.close_call(
        actor=s.fac, proposal=s.in_call()
    ),
    "proposals.services.decisions.close_due_calls": _close_due,
    "sittings.services.schedule_meeting": lambda s: sitting_services.schedule_meeting(
        actor=s.fac, assembly=s.assembly, title="Next week"
    ),
    "sittings.services.start_meeting": lambda s: (
        sitting_services.adjourn_meeting(actor=s.fac, meeting=s.meeting),
        sitting_services.start_meeting(
            actor=s.fac,
            meeting=sitting_services.schedule_meeting(
                actor=s.fac, assembly=s.assembly, title="Again"
            ),
        ),
    ),
    "sittings.services.adjourn_meeting": lambda s: sitting_services.adjourn_meeting(
        actor=s.fac, meeting=s.meeting
    ),
    "sittings.services.add_to_agenda": lambda s: sitting_services.add_to_agenda(
        actor=s.fac,
        meeting=s.meeting,
        proposal=proposal_services.submit_proposal(actor=s.pat, title="More", text="More."),
    ),
    "sittings.services.set_current_proposal": lambda s: sitting_services.set_current_proposal(
        actor=s.fac, meeting=s.meeting, proposal=s.other
    ),
    "sittings.services.move_agenda_item": lambda s: sitting_services.move_agenda_item(
        actor=s.fac, item=s.item(s.other), offset=-1
    ),
    "sittings.services.remove_from_agenda": lambda s: sitting_services.remove_from_agenda(
        actor=s.fac, item=s.item(s.other)
    ),
    "sittings.floor.call_next": lambda s: (
        s.stack_entry(),
        floor.call_next(actor=s.fac, meeting=s.meeting),
    ),
    "sittings.floor.take_off_stack": lambda s: floor.take_off_stack(
        actor=s.fac, entry=s.stack_entry(), skip=False
    ),
    "sittings.floor.raise_priority": lambda s: floor.raise_priority(
        actor=s.fac, entry=s.stack_entry()
    ),
    "sittings.floor.set_progressive_stack": lambda s: floor.set_progressive_stack(
        actor=s.fac, meeting=s.meeting, on=True
    ),
    "sittings.floor.set_timer": lambda s: floor.set_timer(
        actor=s.fac, meeting=s.meeting, running=True, seconds=60
    ),
    "sittings.floor.add_speaker_from_the_floor": lambda s: floor.add_speaker_from_the_floor(
        actor=s.fac, meeting=s.meeting, display_name="Someone in the hall"
    ),
}


def _co_facilitator(s: Sitting):
    return stand_in.name_sitting_facilitator(actor=s.fac, meeting=s.meeting, member=s.pat)


def _webhook(s: Sitting):
    return notification_services.add_webhook(
        actor=s.fac, assembly=s.assembly, url="https://chat.example.org/hooks/ga"
    )


def _hall_counted(s: Sitting):
    """Two counters chosen, one member present, the proposal in its call on the floor, counted."""
    counter, other = s.make_member("Counter A"), s.make_member("Counter B")
    hall.choose_counters(actor=s.fac, meeting=s.meeting, members=[counter, other])
    hall.count_at_door(actor=counter, meeting=s.meeting, member=s.pat)
    proposal = s.in_call()
    sitting_services.set_current_proposal(actor=s.fac, meeting=s.meeting, proposal=proposal)
    hall.enter_hall_count(
        actor=counter,
        meeting=s.meeting,
        proposal=proposal,
        agree=1,
        stand_aside=0,
        block=0,
        blocks=[],
    )
    return proposal


EXTRA_ACTS = {
    "sittings.services.reschedule_meeting": lambda s: sitting_services.reschedule_meeting(
        actor=s.fac,
        meeting=sitting_services.schedule_meeting(actor=s.fac, assembly=s.assembly, title="Later"),
        scheduled_for=timezone.now() + timedelta(days=7),
    ),
    "notifications.services.add_webhook": _webhook,
    "notifications.services.remove_webhook": lambda s: notification_services.remove_webhook(
        actor=s.fac, webhook=_webhook(s)
    ),
    "sittings.hall.choose_counters": lambda s: hall.choose_counters(
        actor=s.fac, meeting=s.meeting, members=[s.pat, s.make_member("Counter")]
    ),
    "sittings.hall.call_recount": lambda s: hall.call_recount(
        actor=s.fac, meeting=s.meeting, proposal=s.prepared
    ),
    "sittings.stand_in.name_sitting_facilitator": _co_facilitator,
    "sittings.stand_in.release_sitting_facilitator": lambda s: stand_in.release_sitting_facilitator(
        actor=s.fac, meeting=s.meeting, member=_co_facilitator(s)
    ),
}
ACTS.update(EXTRA_ACTS)
# What an act needs that other services write first (with their own log lines), done before
# the log is read; its result is the sitting's `prepared`.
SETUP = {"sittings.hall.call_recount": _hall_counted}


def test_every_facilitator_service_is_enumerated():
    found = facilitator_services()
    assert found, "no facilitator service found: the enumeration is broken"
    missing = found - set(ACTS) - set(EXTRA_ACTS)
    assert not missing, f"facilitator services with no public-line check: {sorted(missing)}"
    stale = (set(ACTS) | set(EXTRA_ACTS)) - found
    assert not stale, f"entries for services that no longer require a facilitator: {stale}"


@pytest.mark.parametrize("service", sorted(ACTS))
def test_each_facilitator_service_writes_a_public_line(
    service, assembly, facilitator, participant, make_member
):
    sitting = Sitting(assembly, facilitator, participant, make_member)
    if service in SETUP:
        sitting.prepared = SETUP[service](sitting)
    before = LogEntry.objects.filter(assembly=assembly).values_list("id", flat=True)
    before = set(before)
    ACTS[service](sitting)
    new = LogEntry.objects.filter(assembly=assembly).exclude(id__in=before)
    namespace = service.split(".")[0]
    assert new.exists(), f"{service} wrote no public line"
    assert all(entry.action.split(".")[0] in (namespace, "assemblies") for entry in new)


def test_the_coverage_figure(capsys):
    found = facilitator_services()
    covered = len(found & set(ACTS) | found & set(EXTRA_ACTS))
    with capsys.disabled():
        print(f"\nfacilitator services with a public line: {covered}/{len(found)}")
    assert covered == len(found)
