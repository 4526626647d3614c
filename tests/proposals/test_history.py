"""The history of decisions: the digest chain, the record, the triggers and the verifier.

Decisions are made through the services. The trigger tests write raw SQL the way a person
with a database shell would; the tampering tests switch the triggers off (a superuser can)
and check that `proposals.chain` and `manage.py verify_history` still notice.
"""

from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from proposals import chain, history
from proposals import services as proposal_services
from proposals.models import Decision, Position

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the history triggers exist on PostgreSQL only"
)

TEXT = "We buy a **blue tarp** for the kitchen, at most $80, from the general fund."


def _decide(facilitator, make_member, title, positions):
    """Submit, open the call, let one new member take each (kind, reason), then close."""
    proposal = proposal_services.submit_proposal(actor=facilitator, title=title, text=TEXT)
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    for kind, reason in positions:
        proposal_services.take_position(
            actor=make_member(), proposal=proposal, kind=kind, reason=reason
        )
    return proposal_services.close_call(actor=facilitator, proposal=proposal)


@pytest.fixture
def decided(facilitator, make_member):
    """Two decisions in the assembly: a consensus with a stand-aside, then a block."""
    first = _decide(
        facilitator,
        make_member,
        "Buy a tarp",
        [("agree", ""), ("agree", "Dry kitchen."), ("stand_aside", "I am leaving soon.")],
    )
    second = _decide(
        facilitator, make_member, "Move camp", [("agree", ""), ("block", "The park is flooded.")]
    )
    return first, second


@pytest.fixture
def decided_call(open_call, facilitator, participant):
    proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    return open_call


def _label(decision):
    return f"decision #{decision.sequence} (id {decision.pk}) of assembly 'liberty-square'"


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refused(sql, params=()):
    """Run `sql` in a savepoint and expect the database to refuse it."""
    with pytest.raises(DatabaseError, match="multitude: "), transaction.atomic():
        _raw(sql, params)


def _position_rows(proposal):
    return list(Position.objects.filter(proposal=proposal).order_by("pk").values())


# --- The chain and the record ----------------------------------------------------------------


def test_it_chains_the_first_decision_from_genesis(decided):
    first, _second = decided
    first.refresh_from_db()
    assert first.sequence == 1
    assert first.previous_digest == history.GENESIS
    assert first.digest == history.compute_digest(history.GENESIS, first.record)


def test_it_chains_each_decision_from_the_previous_one(decided, facilitator, participant):
    first, second = decided
    withdrawn = proposal_services.withdraw_proposal(
        actor=participant,
        proposal=proposal_services.submit_proposal(actor=participant, title="Drums", text=TEXT),
    )
    stored = list(Decision.objects.filter(assembly=first.assembly).order_by("sequence"))
    assert [d.pk for d in stored] == [first.pk, second.pk, withdrawn.pk]
    assert [d.sequence for d in stored] == [1, 2, 3]
    assert stored[1].previous_digest == stored[0].digest
    assert stored[2].previous_digest == stored[1].digest
    for decision in stored:
        assert decision.digest == history.compute_digest(decision.previous_digest, decision.record)
    assert stored[2].outcome == "withdrawn"
    assert stored[2].record["outcome"] == "withdrawn"


def test_it_yields_the_links_of_an_assembly_in_order(decided, assembly):
    first, second = decided
    links = list(chain.links_for(assembly))
    assert [link.label for link in links] == [_label(first), _label(second)]
    assert [link.digest for link in links] == [first.digest, second.digest]
    assert history.first_broken_link(links) is None


def test_it_records_every_position_with_its_reason_the_rule_and_the_counts(
    open_call, facilitator, make_member
):
    ana, ben, cy = make_member("Ana"), make_member("Ben"), make_member("Cy")
    proposal_services.take_position(actor=ana, proposal=open_call, kind="block", reason="No.")
    proposal_services.take_position(actor=ana, proposal=open_call, kind="agree", reason="Fine.")
    proposal_services.take_position(actor=ben, proposal=open_call, kind="stand_aside", reason="")
    proposal_services.take_position(actor=cy, proposal=open_call, kind="block", reason="Costly.")
    decision = proposal_services.close_call(actor=facilitator, proposal=open_call)
    decision.refresh_from_db()
    record = decision.record

    summary = [(p["member_id"], p["member"], p["kind"], p["reason"]) for p in record["positions"]]
    assert summary == [
        (ana.pk, "Ana", "agree", "Fine."),
        (ben.pk, "Ben", "stand_aside", ""),
        (cy.pk, "Cy", "block", "Costly."),
    ]
    assert all(p["revision"] == 1 and p["taken_at"] for p in record["positions"])
    assert record["rule"] == open_call.rule == decision.rule
    assert record["rule"]["preset"] == "occupy_modified_consensus"
    assert record["counts"] == {"agree": 1, "stand_aside": 1, "block": 1} == decision.counts
    assert record["outcome"] == decision.outcome == "blocked"
    assert record["proposal"]["id"] == open_call.pk
    assert record["proposal"]["text"] == TEXT
    assert record["closed_by"] == {"member_id": facilitator.pk, "member": "Fran"}
    assert record["sequence"] == 1
    assert record["assembly"] == "liberty-square"


# --- The triggers refuse ---------------------------------------------------------------------


@postgres_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE proposals_decision SET outcome = 'consensus' WHERE id = %s",
        "UPDATE proposals_decision SET record = '{}'::jsonb WHERE id = %s",
        "DELETE FROM proposals_decision WHERE id = %s",
    ],
    ids=["update-outcome", "update-record", "delete"],
)
def test_it_refuses_raw_changes_to_a_decision(decided, sql):
    _first, second = decided
    before = Decision.objects.filter(pk=second.pk).values().get()
    _refused(sql, [second.pk])
    assert Decision.objects.filter(pk=second.pk).values().get() == before


@postgres_only
def test_it_refuses_deleting_every_decision_at_once(decided):
    _refused("DELETE FROM proposals_decision")
    assert Decision.objects.count() == 2


@postgres_only
@pytest.mark.parametrize(
    "assignment",
    ["kind = 'block'", "reason = 'I never said that.'", "revision_number = 7", "member_id = %s"],
)
def test_it_refuses_changing_a_position_before_the_decision(
    open_call, participant, facilitator, assignment
):
    position = proposal_services.take_position(
        actor=participant, proposal=open_call, kind="agree", reason="Good."
    )
    before = _position_rows(open_call)
    params = [facilitator.pk] if "%s" in assignment else []
    _refused(f"UPDATE proposals_position SET {assignment} WHERE id = %s", [*params, position.pk])
    assert _position_rows(open_call) == before


@postgres_only
def test_it_refuses_making_a_replaced_position_current_again(open_call, participant):
    old = proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
    proposal_services.take_position(actor=participant, proposal=open_call, kind="stand_aside")
    before = _position_rows(open_call)
    _refused("UPDATE proposals_position SET is_current = true WHERE id = %s", [old.pk])
    assert _position_rows(open_call) == before


@postgres_only
def test_it_refuses_deleting_positions_of_an_undecided_proposal(open_call, participant):
    proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
    proposal_services.take_position(actor=participant, proposal=open_call, kind="stand_aside")
    before = _position_rows(open_call)
    _refused("DELETE FROM proposals_position WHERE proposal_id = %s", [open_call.pk])
    assert _position_rows(open_call) == before
    assert len(before) == 2


@postgres_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE proposals_position SET is_current = false WHERE proposal_id = %s",
        "UPDATE proposals_position SET reason = 'edited' WHERE proposal_id = %s",
        "DELETE FROM proposals_position WHERE proposal_id = %s",
        "INSERT INTO proposals_position"
        " (proposal_id, member_id, kind, reason, revision_number, is_current, request_id,"
        " created_at) SELECT id, author_id, 'block', 'late', 1, false, '', now()"
        " FROM proposals_proposal WHERE id = %s",
    ],
    ids=["retire", "update-reason", "delete", "insert"],
)
def test_it_refuses_any_write_to_positions_of_a_decided_proposal(decided_call, sql):
    before = _position_rows(decided_call)
    _refused(sql, [decided_call.pk])
    assert _position_rows(decided_call) == before
    assert len(before) == 1


@postgres_only
def test_it_refuses_saving_a_changed_decision_through_the_orm(decided):
    _first, second = decided
    second.outcome = "consensus"
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        second.save()
    second.refresh_from_db()
    assert second.outcome == "blocked"


@postgres_only
def test_it_refuses_deleting_a_decision_through_the_orm(decided):
    first, _second = decided
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        first.delete()
    assert Decision.objects.filter(pk=first.pk).exists()


@postgres_only
def test_it_refuses_deleting_positions_through_the_orm(decided_call):
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Position.objects.filter(proposal=decided_call).delete()
    assert Position.objects.filter(proposal=decided_call).count() == 1


# --- Tampering is detected -------------------------------------------------------------------


def _tamper(sql, params=()):
    """Write past the triggers, as a superuser can, for the rest of the test transaction."""
    _raw("SET LOCAL session_replication_role = replica")
    _raw(sql, params)
    _raw("SET LOCAL session_replication_role = DEFAULT")


@postgres_only
def test_it_finds_the_history_intact(decided, assembly, other_assembly):
    assert chain.verify_assembly(assembly) is None
    assert chain.verify_assembly(other_assembly) is None
    assert chain.verify_all() == []


@postgres_only
def test_it_detects_a_changed_reason_in_a_record(decided, assembly):
    _first, second = decided
    _tamper(
        "UPDATE proposals_decision SET record = jsonb_set(record, '{positions,0,reason}',"
        " '\"I agreed all along.\"') WHERE id = %s",
        [second.pk],
    )
    problem = chain.verify_assembly(assembly)
    assert problem == history.ChainProblem(_label(second), "digest does not match its record")


@postgres_only
def test_it_detects_a_record_rewritten_with_a_fresh_digest(decided, assembly):
    first, _second = decided
    record = dict(first.record, outcome="blocked")
    _tamper(
        "UPDATE proposals_decision SET record = %s::jsonb, digest = %s WHERE id = %s",
        [history.canonical_json(record).decode(), "f" * 64, first.pk],
    )
    problem = chain.verify_assembly(assembly)
    assert problem.label == _label(first)
    assert problem.reason == "digest does not match its record"
    digest = history.compute_digest(history.GENESIS, record)
    _tamper("UPDATE proposals_decision SET digest = %s WHERE id = %s", [digest, first.pk])
    # The record now hashes right, but its stored outcome and the next link disagree.
    problem = chain.verify_assembly(assembly)
    assert problem.label == _label(first)
    assert "outcome" in problem.reason


@postgres_only
def test_it_detects_a_changed_outcome_column(decided, assembly):
    first, _second = decided
    _tamper("UPDATE proposals_decision SET outcome = 'blocked' WHERE id = %s", [first.pk])
    problem = chain.verify_assembly(assembly)
    assert problem.label == _label(first)
    assert "stored outcome 'blocked'" in problem.reason


@postgres_only
def test_it_detects_changed_counts(decided, assembly):
    _first, second = decided
    _tamper("UPDATE proposals_decision SET block_count = 0 WHERE id = %s", [second.pk])
    problem = chain.verify_assembly(assembly)
    assert problem.label == _label(second)
    assert "counts" in problem.reason


@postgres_only
@pytest.mark.parametrize(
    "assignment",
    ["reason = 'I never stood aside.'", "kind = 'agree'", "revision_number = 2"],
)
def test_it_detects_a_changed_position(decided, assembly, assignment):
    first, _second = decided
    _tamper(
        f"UPDATE proposals_position SET {assignment}"
        " WHERE proposal_id = %s AND kind = 'stand_aside' AND is_current",
        [first.proposal_id],
    )
    problem = chain.verify_assembly(assembly)
    assert problem == history.ChainProblem(
        _label(first), "the positions in the database do not match the positions in the record"
    )


@postgres_only
@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM proposals_position WHERE proposal_id = %s AND kind = 'block'",
        "UPDATE proposals_position SET is_current = false WHERE proposal_id = %s",
        "INSERT INTO proposals_position"
        " (proposal_id, member_id, kind, reason, revision_number, is_current, request_id,"
        " created_at) SELECT id, author_id, 'agree', '', 1, true, '', now()"
        " FROM proposals_proposal WHERE id = %s",
    ],
    ids=["deleted", "retired", "inserted"],
)
def test_it_detects_positions_added_or_removed(decided, assembly, sql):
    _first, second = decided
    _tamper(sql, [second.proposal_id])
    problem = chain.verify_assembly(assembly)
    assert problem.label == _label(second)
    assert "positions" in problem.reason


@postgres_only
def test_it_detects_a_deleted_decision(decided, assembly):
    first, second = decided
    _tamper("DELETE FROM proposals_decision WHERE id = %s", [first.pk])
    problem = chain.verify_assembly(assembly)
    assert problem == history.ChainProblem(
        _label(second), "previous digest does not match the chain"
    )


@postgres_only
def test_it_detects_the_last_decision_deleted(decided, assembly):
    _first, second = decided
    _tamper("DELETE FROM proposals_decision WHERE id = %s", [second.pk])
    problem = chain.verify_assembly(assembly)
    assert problem is not None
    assert f"proposal {second.proposal_id} is decided" in problem.reason


@postgres_only
def test_it_names_the_first_bad_record_when_several_are_bad(decided, assembly):
    first, second = decided
    _tamper("UPDATE proposals_decision SET outcome = 'blocked' WHERE id = %s", [first.pk])
    _tamper("UPDATE proposals_decision SET record = '{}'::jsonb WHERE id = %s", [second.pk])
    assert chain.verify_assembly(assembly).label == _label(first)


@postgres_only
def test_it_lists_only_the_broken_assemblies(decided, assembly, outsider):
    elsewhere = _decide(outsider, lambda: outsider, "Elsewhere", [("agree", "")])
    assert chain.verify_all() == []
    _tamper("UPDATE proposals_decision SET outcome = 'blocked' WHERE id = %s", [elsewhere.pk])
    problems = chain.verify_all()
    assert [p.label for p in problems] == [f"decision #1 (id {elsewhere.pk}) of assembly 'other'"]


# --- manage.py verify_history ----------------------------------------------------------------


def _verify(*args):
    out, err = StringIO(), StringIO()
    call_command("verify_history", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_reports_an_intact_history(decided, outsider):
    out, err = _verify()
    assert out.strip() == "History intact: 2 decisions in 2 assemblies verified."
    assert err == ""


def test_it_reports_an_intact_history_of_one_assembly(decided):
    out, _err = _verify("--assembly", "liberty-square")
    assert out.strip() == "History intact: 2 decisions in 1 assemblies verified."


def test_it_refuses_an_unknown_assembly(db):
    with pytest.raises(CommandError, match="nowhere"):
        _verify("--assembly", "nowhere")


@postgres_only
def test_it_exits_non_zero_and_names_the_bad_record(decided):
    _first, second = decided
    _tamper("UPDATE proposals_decision SET outcome = 'consensus' WHERE id = %s", [second.pk])
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("verify_history", stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert _label(second) in err.getvalue()
    assert "outcome" in err.getvalue()
    assert "History intact" not in out.getvalue()


@postgres_only
def test_it_exits_with_status_one_from_the_command_line(decided, capsys):
    first, _second = decided
    _tamper(
        "UPDATE proposals_position SET reason = 'edited' WHERE proposal_id = %s",
        [first.proposal_id],
    )
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "verify_history"])
    assert exited.value.code == 1
    assert _label(first) in capsys.readouterr().err


@postgres_only
def test_it_checks_only_the_chosen_assembly(decided, outsider):
    _first, second = decided
    _tamper("UPDATE proposals_decision SET outcome = 'consensus' WHERE id = %s", [second.pk])
    out, _err = _verify("--assembly", "other")
    assert out.strip() == "History intact: 0 decisions in 1 assemblies verified."
    with pytest.raises(CommandError):
        _verify("--assembly", "liberty-square")


def test_it_records_the_decision_time_it_was_given(open_call):
    """An online call closed by the ticker records its own closing time, not the clock."""
    at = timezone.now()
    open_call.closes_at = at
    open_call.save(update_fields=["closes_at"])
    decision = proposal_services.close_call(actor=None, proposal=open_call, now=at)
    decision.refresh_from_db()
    assert decision.decided_at == at
    assert decision.record["closed_by"] is None
    assert chain.verify_assembly(open_call.assembly) is None
