"""API test helpers: clients that authenticate with a real personal token, and a decided
proposal built through the services."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from assemblies import accounts
from assemblies import services as assembly_services
from assemblies.models import Assembly, Meeting
from proposals import services as proposal_services
from proposals.models import Decision, Proposal
from sittings import services as sitting_services
from tests.conftest import make_user


@pytest.fixture
def client_as(db):
    """`client_as(member_or_user)` authenticates with a token; `client_as(None)` is anonymous."""

    def build(who=None) -> APIClient:
        client = APIClient()
        if who is not None:
            user = getattr(who, "user", who)
            token = accounts.api_token_for(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return build


@pytest.fixture
def decided(open_call, participant, facilitator, make_member):
    """A closed call with an agree, a stand-aside and a block (passes by 9/10? no: blocked)."""
    proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
    stander = make_member("Sam")
    proposal_services.take_position(
        actor=stander, proposal=open_call, kind="stand_aside", reason="Tarps are ugly"
    )
    blocker = make_member("Blair")
    proposal_services.take_position(
        actor=blocker, proposal=open_call, kind="block", reason="We have no money"
    )
    return proposal_services.close_call(actor=facilitator, proposal=open_call)


@dataclass
class World:
    assembly: Assembly
    members: dict
    draft: Proposal
    call: Proposal
    decision: Decision
    meeting: Meeting


def _build_world(visibility: str) -> World:
    founder = make_user("fran")
    assembly = assembly_services.create_assembly(
        actor=founder,
        name="GA",
        slug="ga",
        visibility=visibility,
        display_name="Fran",
        roles_by_decision=False,
    )
    facilitator = assembly.memberships.get()
    members = {"facilitator": facilitator}
    for role, name in [("participant", "pat"), ("observer", "olive"), ("voter", "val")]:
        member = assembly_services.join_by_code(
            code=assembly.join_code, display_name=name.title(), user=make_user(name)
        )
        if role == "observer":
            member = assembly_services.change_role(actor=facilitator, member=member, role=role)
        members[role] = member
    other = assembly_services.create_assembly(
        actor=make_user("oscar"), name="Other", slug="other", visibility="private"
    )
    members["outsider"] = other.memberships.get()
    participant = members["participant"]
    draft = proposal_services.submit_proposal(actor=participant, title="Draft", text="d")
    call = proposal_services.submit_proposal(actor=participant, title="Call", text="c")
    proposal_services.call_for_consensus(actor=facilitator, proposal=call)
    done = proposal_services.submit_proposal(actor=participant, title="Done", text="x")
    proposal_services.call_for_consensus(actor=facilitator, proposal=done)
    proposal_services.take_position(actor=members["voter"], proposal=done, kind="agree")
    decision = proposal_services.close_call(actor=facilitator, proposal=done)
    meeting = sitting_services.schedule_meeting(actor=facilitator, assembly=assembly, title="S")
    return World(assembly, members, draft, call, decision, meeting)


@pytest.fixture
def build_world(db):
    """`build_world("public" | "private")`: an assembly "ga" with a facilitator, participant,
    observer and voter, an outsider (facilitator of another, private assembly), a draft, an
    open call, a decision and a scheduled sitting."""
    return _build_world
