"""Issue 13, finding 2: what a decision rests on (the revision texts, title, rule, phase) is
immutable once decided, and any change made past the triggers is named by `verify_history`
and by the offline verifier.

The attacks are the ones that worked before: plain SQL from a database shell, the admin
(staff editing a decided revision), and a superuser switching the triggers off.
"""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client

from proposals import chain
from proposals import services as proposal_services
from proposals.models import Proposal, Revision

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the history triggers exist on PostgreSQL only"
)
TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_history.py"


@pytest.fixture
def decided(open_call, participant, facilitator):
    proposal_services.take_position(actor=participant, proposal=open_call, kind="agree")
    proposal_services.close_call(actor=facilitator, proposal=open_call)
    return Proposal.objects.get(pk=open_call.pk)


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _tamper(sql, params=()):
    """Write past the triggers, as a superuser can."""
    _raw("SET LOCAL session_replication_role = replica")
    _raw(sql, params)
    _raw("SET LOCAL session_replication_role = DEFAULT")


ATTACKS = [
    ("UPDATE proposals_revision SET text = 'We buy nothing.' WHERE proposal_id = %s", "text"),
    ("UPDATE proposals_proposal SET title = 'Something else' WHERE id = %s", "title"),
    ("UPDATE proposals_proposal SET phase = 'call' WHERE id = %s", "phase"),
    ("UPDATE proposals_proposal SET rule = '{\"max_blocks\": 5}'::jsonb WHERE id = %s", "rule"),
    ("UPDATE proposals_proposal SET revision_number = 7 WHERE id = %s", "current revision"),
]


@postgres_only
@pytest.mark.parametrize(("sql", "what"), ATTACKS, ids=[what for _sql, what in ATTACKS])
def test_the_database_refuses_changing_a_decided_proposal(decided, sql, what):
    with pytest.raises(DatabaseError, match="multitude: "), transaction.atomic():
        _raw(sql, [decided.pk])
    assert chain.verify_assembly(decided.assembly) is None


@postgres_only
def test_the_database_refuses_deleting_a_decided_revision(decided):
    with pytest.raises(DatabaseError, match="multitude: "), transaction.atomic():
        _raw("DELETE FROM proposals_revision WHERE proposal_id = %s", [decided.pk])
    assert Revision.objects.filter(proposal=decided).count() == 1


@postgres_only
def test_a_revision_text_never_changes_even_before_the_decision(proposal):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("UPDATE proposals_revision SET text = 'x' WHERE proposal_id = %s", [proposal.pk])


@postgres_only
@pytest.mark.parametrize(("sql", "what"), ATTACKS, ids=[what for _sql, what in ATTACKS])
def test_verify_history_names_a_change_made_past_the_triggers(decided, sql, what):
    _tamper(sql, [decided.pk])
    problem = chain.verify_assembly(decided.assembly)
    assert problem is not None
    assert f"the proposal's {what} " in problem.reason
    with pytest.raises(CommandError):
        call_command("verify_history", stdout=StringIO(), stderr=StringIO())


@postgres_only
@pytest.mark.parametrize(("sql", "what"), ATTACKS, ids=[what for _sql, what in ATTACKS])
def test_the_offline_verifier_names_it_too(decided, sql, what, client, tmp_path):
    _tamper(sql, [decided.pk])
    response = client.get(f"/api/v1/assemblies/{decided.assembly.slug}/history.json")
    path = tmp_path / "history.json"
    path.write_bytes(b"".join(response.streaming_content))
    assert json.loads(path.read_text())["decisions"][0]["proposal_now"]
    result = subprocess.run(
        [sys.executable, "-I", str(TOOL), str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1, result.stdout
    assert f"the proposal's {what} " in result.stderr


def test_an_intact_history_verifies_offline_with_the_current_rows(decided, client, tmp_path):
    response = client.get(f"/api/v1/assemblies/{decided.assembly.slug}/history.json")
    path = tmp_path / "history.json"
    path.write_bytes(b"".join(response.streaming_content))
    result = subprocess.run(
        [sys.executable, "-I", str(TOOL), str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def staff(db, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    User.objects.create_superuser(username="root", email="r@example.org", password="pw-root-1")
    client = Client()
    assert client.login(username="root", password="pw-root-1")
    return client


def test_the_admin_shows_a_decided_proposal_and_its_revisions_read_only(decided, staff):
    revision = decided.revisions.get()
    for url in (
        f"/admin/proposals/proposal/{decided.pk}/change/",
        f"/admin/proposals/revision/{revision.pk}/change/",
    ):
        page = staff.get(url)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        assert staff.post(url, {"title": "Else", "text": "Else"}).status_code == 403
    for url in (
        f"/admin/proposals/proposal/{decided.pk}/delete/",
        f"/admin/proposals/revision/{revision.pk}/delete/",
    ):
        assert staff.post(url, {"post": "yes"}).status_code == 403
    revision.refresh_from_db()
    decided.refresh_from_db()
    assert (decided.title, revision.text) == (
        "Buy a second tarp for the kitchen",
        "We buy a **blue tarp** for the kitchen, at most $80, from the general fund.",
    )


def test_the_admin_never_edits_a_revision_text(proposal, staff):
    revision = proposal.revisions.get()
    page = staff.get(f"/admin/proposals/revision/{revision.pk}/change/")
    assert page.status_code == 200
    assert b'name="text"' not in page.content
