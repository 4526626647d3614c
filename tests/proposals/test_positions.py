"""Every refusal of a position, through both paths: the page/API's `take_position` and the
socket's batch (`sittings.batching.write_batch` → `take_positions`). Same check, same answer."""

import pytest

from assemblies import services as assembly_services
from core.errors import DomainError
from proposals import services as proposal_services
from proposals.models import Position
from proposals.services import PositionRequest
from sittings import batching
from tests.fixtures.state import db_state

pytestmark = pytest.mark.django_db


def single(member, proposal, *, kind, reason="", request_id=""):
    try:
        return proposal_services.take_position(
            actor=member, proposal=proposal, kind=kind, reason=reason, request_id=request_id
        )
    except DomainError as error:
        return error


def batched(member, proposal, *, kind, reason="", request_id="", assembly_id=None):
    request = PositionRequest(
        member_id=member.pk,
        assembly_id=assembly_id or member.assembly_id,
        proposal_id=proposal.pk,
        kind=kind,
        reason=reason,
        request_id=request_id,
    )
    [result] = batching.write_batch([request])
    return result


PATHS = [pytest.param(single, id="single"), pytest.param(batched, id="batched")]


# (who, which proposal, fields, expected code); "who" and "which" name fixtures or builders.
REFUSALS = [
    ("participant", "open_call", {"kind": "maybe"}, "invalid_kind"),
    ("participant", "open_call", {"kind": "agree", "reason": "x" * 5001}, "reason_too_long"),
    ("participant", "open_call", {"kind": "stand_aside", "reason": "a\x00b"}, "reason_invalid"),
    ("participant", "open_call", {"kind": "agree", "reason": "bad \ud800"}, "reason_invalid"),
    ("participant", "open_call", {"kind": "block"}, "reason_required"),
    ("participant", "open_call", {"kind": "block", "reason": "   "}, "reason_required"),
    ("participant", "proposal", {"kind": "agree"}, "call_not_open"),
    ("observer", "open_call", {"kind": "agree"}, "observer"),
    ("pending_member", "open_call", {"kind": "agree"}, "membership_pending"),
    ("removed_member", "open_call", {"kind": "agree"}, "not_a_member"),
]


@pytest.fixture
def removed_member(make_member, facilitator):
    return assembly_services.remove_member(actor=facilitator, member=make_member("Rem"))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("who", "which", "fields", "code"), REFUSALS)
def test_it_refuses_the_same_way_on_both_paths(request, path, who, which, fields, code):
    member = request.getfixturevalue(who)
    proposal = request.getfixturevalue(which)
    before = db_state()
    result = path(member, proposal, **fields)
    assert isinstance(result, DomainError), result
    assert result.code == code
    assert db_state() == before


@pytest.mark.parametrize("path", PATHS)
def test_a_member_of_another_assembly_finds_no_proposal(path, outsider, open_call):
    result = path(outsider, open_call, kind="agree")
    assert isinstance(result, DomainError)
    assert (result.code, result.status) == ("proposal_not_found", 404)


def test_a_socket_of_one_assembly_cannot_reach_a_proposal_of_another(
    open_call, other_assembly, outsider
):
    theirs = proposal_services.submit_proposal(actor=outsider, title="Theirs", text="Their text.")
    proposal_services.call_for_consensus(actor=outsider, proposal=theirs)
    result = batched(outsider, open_call, kind="agree", assembly_id=other_assembly.pk)
    assert result.code == "proposal_not_found"


@pytest.mark.parametrize("path", PATHS)
def test_a_request_id_used_for_another_proposal_is_refused(
    path, participant, open_call, facilitator
):
    other = proposal_services.submit_proposal(actor=participant, title="Other", text="Text.")
    proposal_services.call_for_consensus(actor=facilitator, proposal=other)
    path(participant, other, kind="agree", request_id="r-1")
    result = path(participant, open_call, kind="agree", request_id="r-1")
    assert result.code == "request_id_reused"


@pytest.mark.parametrize("path", PATHS)
def test_both_paths_write_the_same_position(path, participant, open_call):
    position = path(participant, open_call, kind="stand_aside", reason="  Line one\nline two ")
    stored = Position.objects.get(pk=position.pk)
    assert (stored.kind, stored.reason, stored.is_current) == (
        "stand_aside",
        "Line one\nline two",
        True,
    )
    assert stored.revision_number == open_call.revision_number


@pytest.mark.parametrize("path", PATHS)
def test_a_repeated_request_id_is_applied_once_on_both_paths(path, participant, open_call):
    first = path(participant, open_call, kind="agree", request_id="same")
    again = path(participant, open_call, kind="agree", request_id="same")
    assert first.pk == again.pk
    assert Position.objects.filter(member=participant).count() == 1


def test_one_refusal_in_a_batch_leaves_the_others_written(participant, observer, open_call):
    requests = [
        PositionRequest(
            member_id=m.pk, assembly_id=m.assembly_id, proposal_id=open_call.pk, kind="agree"
        )
        for m in (participant, observer)
    ]
    written, refused = batching.write_batch(requests)
    assert isinstance(written, Position)
    assert refused.code == "observer"


def test_a_nul_in_one_reason_does_not_push_the_batch_into_one_by_one_writes(
    make_member, open_call, caplog
):
    good, bad = make_member("Good"), make_member("Bad")
    requests = [
        PositionRequest(
            member_id=m.pk,
            assembly_id=m.assembly_id,
            proposal_id=open_call.pk,
            kind="stand_aside",
            reason=reason,
        )
        for m, reason in ((good, "Fine."), (bad, "No\x00pe"))
    ]
    written, refused = batching.write_batch(requests)
    assert isinstance(written, Position)
    assert refused.code == "reason_invalid"
    assert "one by one" not in caplog.text
