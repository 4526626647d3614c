"""Point 5 of issue 14: a database administrator rewrites the history with the triggers off.

Five attacks (tests/fixtures/tampering.py), each in its cleverest form: the digest chain is
recomputed and the rows are made to agree, so the chain alone says "intact". A member who
kept an earlier download of history.json, a signed tree head or a receipt catches every one
of them, offline with tools/verify_history.py --since and on the server with
manage.py verify_history --since. (The browser's side is tests/browser/test_history_monitor.py.)
"""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from proposals import chain
from proposals import services as proposal_services
from tests.fixtures.tampering import TAMPERS

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="replica role is PostgreSQL's"),
]

TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_history.py"
A = "/api/v1/assemblies/liberty-square/"


def _decide(facilitator, participant, make_member, title, kind="agree"):
    proposal = proposal_services.submit_proposal(actor=facilitator, title=title, text="t")
    proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
    proposal_services.take_position(actor=participant, proposal=proposal, kind=kind)
    proposal_services.take_position(actor=make_member(), proposal=proposal, kind="agree")
    return proposal_services.close_call(actor=facilitator, proposal=proposal)


@pytest.fixture
def kept(client_as, assembly, facilitator, participant, make_member, tmp_path):
    """Three decisions, and what a member kept of them: the download, the head, a receipt."""
    for title in ("Buy a tarp", "Move camp", "Cook on Sundays"):
        last = _decide(facilitator, participant, make_member, title)
    anonymous = client_as(None)
    files = {
        "history": b"".join(anonymous.get(A + "history.json").streaming_content),
        "head": anonymous.get(A + "tree-head/").content,
        "receipt": client_as(participant).get(f"/api/v1/decisions/{last.pk}/receipt.json").content,
        "key": anonymous.get("/api/v1/history/public-key/").content,
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"earlier-{name}.json"
        paths[name].write_bytes(content)
    return paths


def _tool(*args):
    return subprocess.run(
        [sys.executable, "-I", str(TOOL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _download(client_as, tmp_path):
    path = tmp_path / "now-history.json"
    path.write_bytes(b"".join(client_as(None).get(A + "history.json").streaming_content))
    return path


def _command(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_history", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, err.getvalue()
    return 0, out.getvalue()


def test_an_untouched_history_extends_everything_the_member_kept(kept, client_as, tmp_path):
    now = _download(client_as, tmp_path)
    for name in ("history", "head", "receipt"):
        result = _tool(now, "--since", kept[name], "--public-key", kept["key"])
        assert result.returncode == 0, result.stderr
        assert "It extends the earlier" in result.stdout
        code, output = _command("--since", str(kept[name]))
        assert code == 0, output


def test_a_later_legitimate_decision_still_extends_them(
    kept, client_as, tmp_path, facilitator, participant, make_member
):
    _decide(facilitator, participant, make_member, "Paint the banner")
    now = _download(client_as, tmp_path)
    for name in ("history", "head", "receipt"):
        result = _tool(now, "--since", kept[name], "--public-key", kept["key"])
        assert result.returncode == 0, result.stderr
        assert _command("--since", str(kept[name]))[0] == 0


# What the offline tool names, by attack: the first difference it meets.
OFFLINE = {
    "rewrite-last": "decision #3: no signed tree head covers it",
    "drop-last": {
        "history": "decision #3: the earlier file has it, this one ends at #2",
        "head": "the earlier tree head (3 decisions): this history holds only 2",
        "receipt": "decision #3: this history ends at #2: the receipt's decision is gone",
    },
    "append-forged": "decision #4: no signed tree head covers it",
    "rehash-after-editing-first": "the tree head: the file has decisions but no signed tree head",
    "truncate-everything": {
        "history": "decision #1: the earlier file has it, this one ends at #0",
        "head": "the earlier tree head (3 decisions): this history holds only 0",
        "receipt": "decision #3: this history ends at #0: the receipt's decision is gone",
    },
}

ON_SERVER = {
    "rewrite-last": "tree head of 2 decisions: the database holds 3",
    "drop-last": {
        "history": "decision #3: the earlier file has it, this one ends at #2",
        "head": "the earlier tree head (3 decisions): this history holds only 2",
        "receipt": "the receipt's decision is gone",
    },
    "append-forged": "tree head of 3 decisions: the database holds 4",
    "rehash-after-editing-first": "its decisions have no signed tree head",
    "truncate-everything": {
        "history": "decision #1: the earlier file has it, this one ends at #0",
        "head": "the earlier tree head (3 decisions): this history holds only 0",
        "receipt": "the receipt's decision is gone",
    },
}


def _expected(table, attack, kind):
    value = table[attack]
    return value[kind] if isinstance(value, dict) else value


@pytest.mark.parametrize("attack", list(TAMPERS))
def test_every_attack_is_named_by_whoever_kept_something(
    attack, kept, client_as, tmp_path, assembly, facilitator, participant
):
    TAMPERS[attack](assembly, facilitator=facilitator, participant=participant)
    # The chain and the rows agree: before tree heads, this read "intact".
    assert chain.verify_assembly(assembly) is None
    now = _download(client_as, tmp_path)
    for kind in ("history", "head", "receipt"):
        result = _tool(now, "--since", kept[kind], "--public-key", kept["key"])
        assert result.returncode == 1, (kind, result.stdout)
        assert _expected(OFFLINE, attack, kind) in result.stderr, (kind, result.stderr)
        code, output = _command("--since", str(kept[kind]))
        assert code == 1, (kind, output)
        assert _expected(ON_SERVER, attack, kind) in output, (kind, output)


def test_a_rewrite_that_keeps_the_heads_is_named_by_the_root(
    kept, client_as, tmp_path, assembly, facilitator, participant
):
    """Without deleting the heads, the rewritten decision no longer hashes to the signed root."""
    from proposals.models import TreeHead

    heads_before = TreeHead.objects.count()
    TAMPERS["rewrite-last"](assembly)
    assert TreeHead.objects.count() == heads_before - 1  # the attack dropped head 3
    # A history whose head still covers the rewritten decision: the earlier download's head.
    document = json.loads(_download(client_as, tmp_path).read_text())
    document["tree_head"] = json.loads(kept["head"].read_text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    result = _tool(forged, "--public-key", kept["key"])
    assert result.returncode == 1
    assert "the tree head (3 decisions): the decisions do not hash to its root" in result.stderr


def test_a_head_signed_by_another_key_is_refused(kept, tmp_path):
    head = json.loads(kept["head"].read_text())
    head["root_hash"] = "0" * 64
    forged = tmp_path / "forged-head.json"
    forged.write_text(json.dumps(head))
    result = _tool(kept["history"], "--since", forged, "--public-key", kept["key"])
    assert result.returncode == 1
    assert "its signature is not valid" in result.stderr
    code, output = _command("--since", str(forged))
    assert code == 1 and "its signature is not this server's" in output
