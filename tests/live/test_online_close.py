"""An online call closes at its set time inside a real server process, with no request
to the page and no cron job."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from proposals import services
from proposals.models import Decision

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_closes_an_online_call_at_its_time_with_nobody_looking(participant, start_server):
    server = start_server(ONLINE_CLOSE_CHECK_SECONDS="0.2")
    proposal = services.submit_proposal(
        actor=participant,
        title="Share the bike trailer",
        text="Anyone may borrow it.",
        closes_at=timezone.now() + timedelta(seconds=1.5),
    )
    services.take_position(actor=participant, proposal=proposal, kind="agree")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not Decision.objects.filter(proposal=proposal).exists():
        assert server["process"].poll() is None
        time.sleep(0.2)
    decision = Decision.objects.get(proposal=proposal)
    assert decision.outcome == "consensus"
    assert decision.closed_by is None
    assert decision.decided_at >= proposal.closes_at
