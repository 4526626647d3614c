"""Exports: streamed CSV, the verifiable history, Popolo JSON and meeting minutes."""

import csv
import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft3Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT3

from proposals import services as proposal_services
from proposals.exports import spreadsheet_safe
from proposals.models import Decision
from sittings import services as sitting_services

A = "/api/v1/assemblies/liberty-square/"
POPOLO = Path(__file__).resolve().parent.parent / "fixtures" / "popolo-schemas"


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_decisions_csv_streams_and_parses(client_as, decided):
    response = client_as(None).get(A + "decisions.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == 1
    row = rows[0]
    assert row["outcome"] == "blocked"
    assert (row["agree"], row["stand_aside"], row["block"]) == ("1", "1", "1")
    assert row["passed"] == "no"
    assert row["digest"] == decided.digest
    assert row["rule"] == "occupy_modified_consensus"


def test_decisions_csv_takes_the_list_filters(client_as, decided):
    assert body(client_as(None).get(A + "decisions.csv?outcome=consensus")).count("\n") == 1
    assert client_as(None).get(A + "decisions.csv?outcome=nope").status_code == 400


def test_positions_csv_has_every_statement_of_decided_proposals(
    client_as, open_call, participant, facilitator, proposal
):
    proposal_services.take_position(
        actor=participant, proposal=open_call, kind="block", reason="=1+1"
    )
    proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
    undecided = proposal_services.submit_proposal(actor=participant, title="Open", text="t")
    proposal_services.call_for_consensus(actor=facilitator, proposal=undecided)
    proposal_services.take_position(actor=participant, proposal=undecided, kind="agree")
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    response = client_as(None).get(A + "positions.csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [(r["kind"], r["current"], r["reason"]) for r in rows] == [
        ("block", "no", "'=1+1"),
        ("agree", "yes", ""),
    ]
    assert {r["proposal_id"] for r in rows} == {str(open_call.pk)}


def test_spreadsheet_formulas_are_defused():
    assert spreadsheet_safe("=HYPERLINK()") == "'=HYPERLINK()"
    assert spreadsheet_safe("@cmd") == "'@cmd"
    assert spreadsheet_safe("fine") == "fine"
    assert spreadsheet_safe("") == ""


def test_private_exports_are_not_found_for_outsiders(client_as, other_assembly, outsider, assembly):
    for export in ["decisions.csv", "positions.csv", "history.json", "popolo.json"]:
        path = f"/api/v1/assemblies/other/{export}"
        refused = client_as(None).get(path)
        assert refused.status_code == 404
        assert refused.json()["code"] == "assembly_not_found"
        assert client_as(outsider).get(path).status_code == 200


def test_errors_stay_json_even_when_csv_is_asked_for(client_as, other_assembly):
    response = client_as(None).get("/api/v1/assemblies/other/decisions.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 404
    assert json.loads(response.content)["code"] == "assembly_not_found"


def test_history_json_has_what_the_chain_needs(client_as, decided, participant, facilitator):
    second = proposal_services.submit_proposal(actor=participant, title="Ñandú", text="ü")
    proposal_services.withdraw_proposal(actor=participant, proposal=second)
    document = json.loads(body(client_as(None).get(A + "history.json")))
    assert document["format"] == "multitude-history"
    assert document["assembly"]["slug"] == "liberty-square"
    entries = document["decisions"]
    stored = list(Decision.objects.order_by("sequence"))
    assert [e["digest"] for e in entries] == [d.digest for d in stored]
    assert [e["previous_digest"] for e in entries] == [d.previous_digest for d in stored]
    assert entries[0]["record"] == stored[0].record
    reasons = {p["reason"] for p in entries[0]["record"]["positions"]}
    assert reasons == {"", "Tarps are ugly", "We have no money"}
    assert entries[1]["record"]["proposal"]["title"] == "Ñandú"


def _popolo_registry() -> Registry:
    resources = []
    for path in POPOLO.glob("*.json"):
        contents = json.loads(path.read_text())
        resource = Resource(contents, specification=DRAFT3)
        resources += [(contents["id"], resource), (contents["id"].rstrip("#"), resource)]
    # No retrieve function: an unknown $ref fails instead of reaching for the network.
    return Registry().with_resources(resources)


def _validator(name: str) -> Draft3Validator:
    schema = json.loads((POPOLO / f"{name}.json").read_text())
    return Draft3Validator(
        schema, registry=_popolo_registry(), format_checker=Draft3Validator.FORMAT_CHECKER
    )


def test_popolo_export_validates_against_the_schemas(client_as, decided, participant):
    withdrawn = proposal_services.submit_proposal(actor=participant, title="W", text="w")
    proposal_services.withdraw_proposal(actor=participant, proposal=withdrawn)
    document = json.loads(body(client_as(None).get(A + "popolo.json")))
    _validator("organization").validate(document)
    motions = document["motions"]
    assert len(motions) == 2
    for motion in motions:
        _validator("motion").validate(motion)
        for event in motion["vote_events"]:
            _validator("vote_event").validate(event)
            for count in event["counts"]:
                _validator("count").validate(count)
            for vote in event["votes"]:
                _validator("vote").validate(vote)
    blocked, gone = motions
    assert blocked["result"] == "fail"
    event = blocked["vote_events"][0]
    assert event["outcome"] == "blocked"
    assert event["digest"] == decided.digest
    assert {c["option"]: c["value"] for c in event["counts"]} == {"yes": 1, "abstain": 1, "no": 1}
    assert sorted((v["option"], v["reason"]) for v in event["votes"]) == [
        ("abstain", "Tarps are ugly"),
        ("no", "We have no money"),
        ("yes", None),
    ]
    assert gone["result"] == "withdrawn"
    assert gone["vote_events"] == []


def test_the_popolo_validator_does_reject_bad_documents():
    errors = list(_validator("vote_event").iter_errors({"counts": [{"option": "yes"}]}))
    assert errors, "a count without a value must not validate"


@pytest.fixture
def sitting(assembly, facilitator, participant, make_member):
    meeting = sitting_services.schedule_meeting(
        actor=facilitator, assembly=assembly, title="Thursday GA", location="The steps"
    )
    sitting_services.start_meeting(actor=facilitator, meeting=meeting)
    proposal = proposal_services.submit_proposal(
        actor=participant, title="Kitchen tarp", text="Buy a tarp.", meeting=meeting
    )
    proposal_services.set_phase(actor=facilitator, proposal=proposal, phase="questions")
    question = proposal_services.add_comment(
        actor=facilitator, proposal=proposal, kind="question", text="Which colour?"
    )
    proposal_services.add_comment(
        actor=participant, proposal=proposal, kind="answer", text="Blue", parent=question
    )
    silent = make_member("Quiet Quinn")
    assert silent  # a member who neither spoke nor took a position: not in attendance
    worrier = make_member("Wren")
    proposal_services.add_comment(actor=worrier, proposal=proposal, kind="concern", text="Wind")
    amendment = proposal_services.add_comment(
        actor=worrier,
        proposal=proposal,
        kind="amendment",
        text="Tie it down",
        proposed_text="Buy a tarp and rope.",
    )
    proposal_services.accept_amendment(actor=participant, amendment=amendment)
    proposal_services.open_temperature_check(actor=facilitator, proposal=proposal)
    proposal_services.give_reading(actor=worrier, proposal=proposal, reading="up")
    proposal_services.close_temperature_check(actor=facilitator, proposal=proposal)
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")
    proposal_services.take_position(
        actor=worrier, proposal=proposal, kind="stand_aside", reason="Still windy"
    )
    proposal_services.close_call(actor=facilitator, proposal=proposal)
    sitting_services.adjourn_meeting(actor=facilitator, meeting=meeting)
    return meeting


def test_minutes_tell_the_sitting(client_as, sitting):
    response = client_as(None).get(f"/api/v1/meetings/{sitting.pk}/minutes.md")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    attendance = text.split("## Attendance")[1].split("## Agenda")[0]
    assert "Fran (facilitator)" in attendance
    assert "Pat" in attendance and "Wren" in attendance
    assert "Quiet Quinn" not in attendance
    assert "### 1. Kitchen tarp" in text
    assert "Revision 2 by Pat (friendly amendment by Wren)" in text
    assert "Which colour?" in text and "Answer by Pat: Blue" in text
    assert "Wind" in text
    assert "up 1, so-so 0, down 0" in text
    assert "**Consensus with stand-asides**" in text
    assert "1 agree, 1 stand aside, 0 block" in text
    assert "- Wren: Still windy" in text
    log = text.split("## Facilitation log")[1]
    assert "Fran opened the sitting" in log
    assert "Fran opened the call for consensus on “Kitchen tarp”" in log
    assert "Fran adjourned the sitting" in log


def test_minutes_of_a_private_sitting_are_hidden(client_as, other_assembly, outsider):
    meeting = sitting_services.schedule_meeting(
        actor=outsider, assembly=other_assembly, title="Secret"
    )
    assert client_as(None).get(f"/api/v1/meetings/{meeting.pk}/minutes.md").status_code == 404
    assert client_as(outsider).get(f"/api/v1/meetings/{meeting.pk}/minutes.md").status_code == 200
