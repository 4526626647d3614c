"""Fixtures of the proposals service tests."""

import pytest
from django.contrib.auth.models import User

from assemblies import services as assembly_services
from proposals import services


@pytest.fixture
def pending_member(assembly, facilitator):
    assembly_services.update_assembly(actor=facilitator, assembly=assembly, admission_required=True)
    user = User.objects.create_user(username="penny", password="x")
    member = assembly_services.join_assembly(user=user, assembly=assembly, display_name="Penny")
    assembly_services.update_assembly(
        actor=facilitator, assembly=assembly, admission_required=False
    )
    return member


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
