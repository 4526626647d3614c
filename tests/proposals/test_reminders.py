"""Closing reminders are announced by the online closer's ticker, once each."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assemblies.models import LogEntry
from proposals import services
from proposals.models import CallReminder

pytestmark = pytest.mark.django_db


@pytest.fixture
def online(participant, facilitator):
    proposal = services.submit_proposal(
        actor=participant,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(days=3),
    )
    return proposal


def test_it_announces_24_h_then_1_h_before_the_close(online):
    now = timezone.now()
    assert services.announce_closing_calls(now=now) == []
    [day] = services.announce_closing_calls(now=online.closes_at - timedelta(hours=23))
    assert day.lead_hours == 24
    assert services.announce_closing_calls(now=online.closes_at - timedelta(hours=23)) == []
    [hour] = services.announce_closing_calls(now=online.closes_at - timedelta(minutes=59))
    assert hour.lead_hours == 1
    assert services.announce_closing_calls(now=online.closes_at - timedelta(minutes=1)) == []
    assert list(
        LogEntry.objects.filter(action="proposals.call.reminded")
        .order_by("id")
        .values_list("data__hours", flat=True)
    ) == [24, 1]


def test_a_server_that_was_down_reminds_once_with_the_nearest_lead(online):
    announced = services.announce_closing_calls(now=online.closes_at - timedelta(minutes=30))
    assert [reminder.lead_hours for reminder in announced] == [1]


def test_a_call_opened_after_a_leads_time_skips_that_reminder(participant):
    proposal = services.submit_proposal(
        actor=participant,
        title="Soup",
        text="Make soup.",
        closes_at=timezone.now() + timedelta(hours=5),
    )
    assert services.announce_closing_calls(now=timezone.now()) == []
    [hour] = services.announce_closing_calls(now=proposal.closes_at - timedelta(minutes=30))
    assert hour.lead_hours == 1


def test_a_call_no_longer_open_is_not_announced(online, facilitator):
    services.table_proposal(actor=facilitator, proposal=online)
    assert services.announce_closing_calls(now=timezone.now() + timedelta(days=2, hours=12)) == []
    assert not CallReminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_ticker_announces_too(online):
    from proposals import scheduler

    online.call_opened_at = timezone.now() - timedelta(days=3)
    online.closes_at = timezone.now() + timedelta(hours=12)
    online.save(update_fields=["call_opened_at", "closes_at"])
    assert scheduler._close_due_calls_once() == 0
    assert CallReminder.objects.filter(proposal=online, lead_hours=24).exists()
