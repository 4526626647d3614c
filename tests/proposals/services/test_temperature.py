"""proposals.services: temperature checks.

Against the real database (with its append-only triggers); refusals also check that
nothing was written.
"""

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from proposals import services
from proposals.models import (
    TemperatureReading,
)
from tests.fixtures.state import db_state
from tests.proposals.services.helpers import fresh, refused

# --- temperature checks ------------------------------------------------------------------------


def test_it_opens_a_temperature_check(proposal, facilitator):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    assert check.closed_at is None
    assert check.revision_number == 1
    assert facilitator.assembly.log_entries.filter(action="proposals.temperature.opened").exists()


def test_it_allows_one_open_temperature_check_at_a_time(proposal, facilitator):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    before = db_state()
    refused(
        lambda: services.open_temperature_check(actor=facilitator, proposal=proposal),
        Conflict,
        "temperature_open",
    )
    assert db_state() == before


def test_it_allows_a_new_temperature_check_after_closing(proposal, facilitator):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.close_temperature_check(actor=facilitator, proposal=proposal)
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    assert proposal.temperature_checks.count() == 2


def test_it_refuses_a_temperature_check_during_the_call(open_call, facilitator):
    refused(
        lambda: services.open_temperature_check(actor=facilitator, proposal=open_call),
        Conflict,
        "not_discussing",
    )


def test_it_replaces_a_members_reading_when_it_changes(proposal, facilitator, participant):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    first = services.give_reading(actor=participant, proposal=proposal, reading="down")
    second = services.give_reading(actor=participant, proposal=proposal, reading="up")
    assert first.pk == second.pk
    assert list(check.readings.values_list("reading", flat=True)) == ["up"]


def test_it_counts_the_readings(proposal, facilitator, participant, make_member):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.give_reading(actor=participant, proposal=proposal, reading="up")
    services.give_reading(actor=facilitator, proposal=proposal, reading="up")
    services.give_reading(actor=make_member(), proposal=proposal, reading="so_so")
    assert services.reading_counts(check) == {"up": 2, "so_so": 1, "down": 0}


def test_it_closes_a_temperature_check_and_logs_the_counts(proposal, facilitator, participant):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.give_reading(actor=participant, proposal=proposal, reading="down")
    check = services.close_temperature_check(actor=facilitator, proposal=proposal)
    assert fresh(check).closed_at is not None
    entry = facilitator.assembly.log_entries.get(action="proposals.temperature.closed")
    assert entry.data["up"] == 0
    assert entry.data["down"] == 1


def test_it_refuses_to_close_when_no_temperature_check_is_open(proposal, facilitator):
    refused(
        lambda: services.close_temperature_check(actor=facilitator, proposal=proposal),
        Conflict,
        "no_temperature_check",
    )


def test_it_refuses_a_reading_when_no_check_is_open(proposal, participant):
    refused(
        lambda: services.give_reading(actor=participant, proposal=proposal, reading="up"),
        Conflict,
        "no_temperature_check",
    )
    assert not TemperatureReading.objects.exists()


def test_it_refuses_a_reading_after_the_check_closed(proposal, facilitator, participant):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.close_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=participant, proposal=proposal, reading="up"),
        Conflict,
        "no_temperature_check",
    )


def test_it_refuses_an_unknown_reading(proposal, facilitator, participant):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=participant, proposal=proposal, reading="hot"),
        DomainError,
        "invalid_reading",
    )
    assert not TemperatureReading.objects.exists()


def test_it_refuses_a_reading_from_an_observer(proposal, facilitator, observer):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=observer, proposal=proposal, reading="up"),
        PermissionDenied,
        "observer",
    )
    assert not TemperatureReading.objects.exists()


def test_it_answers_not_found_to_an_outsiders_reading(proposal, facilitator, outsider):
    services.open_temperature_check(actor=facilitator, proposal=proposal)
    refused(
        lambda: services.give_reading(actor=outsider, proposal=proposal, reading="up"),
        NotFound,
        "proposal_not_found",
    )


def test_it_closes_an_open_temperature_check_when_the_call_opens(proposal, facilitator):
    check = services.open_temperature_check(actor=facilitator, proposal=proposal)
    services.call_for_consensus(actor=facilitator, proposal=proposal)
    assert fresh(check).closed_at is not None
