"""The proposal page reads a fixed number of queries, whatever the number of positions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import services as proposal_services

pytestmark = pytest.mark.django_db


def page_queries(client, proposal) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(proposal.get_absolute_url())
    assert response.status_code == 200
    return len(queries)


def take(open_call, members):
    for n, member in enumerate(members):
        kind, reason = [("agree", ""), ("stand_aside", "Not for me."), ("block", "No.")][n % 3]
        proposal_services.take_position(actor=member, proposal=open_call, kind=kind, reason=reason)


def test_the_proposal_page_query_count_does_not_grow_with_positions(
    client, open_call, participant, make_member
):
    client.force_login(participant.user)
    members = [make_member() for _ in range(50)]
    take(open_call, members[:5])
    with_five = page_queries(client, open_call)
    assert with_five > 0
    take(open_call, members[5:])
    assert page_queries(client, open_call) == with_five
