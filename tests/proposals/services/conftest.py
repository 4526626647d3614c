"""Fixtures of the proposals service tests."""

import pytest

from proposals import services


@pytest.fixture
def question(proposal, make_member):
    asker = make_member("Quinn")
    return services.add_comment(
        actor=asker, proposal=proposal, kind="question", text="Which shop sells it?"
    )


@pytest.fixture
def amendment(proposal, make_member):
    amender = make_member("Amy")
    return services.add_comment(
        actor=amender,
        proposal=proposal,
        kind="amendment",
        text="Green is cheaper.",
        proposed_text="We buy a green tarp for the kitchen, at most $60.",
    )
