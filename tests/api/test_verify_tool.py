"""tools/verify_history.py: a downloaded history.json verifies offline, and tampering is named."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from proposals import history
from proposals import services as proposal_services

TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_history.py"
A = "/api/v1/assemblies/liberty-square/"


@pytest.fixture
def downloaded(client_as, decided, participant, facilitator, tmp_path):
    for title in ("Second", "Third"):
        proposal = proposal_services.submit_proposal(actor=participant, title=title, text="t")
        proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
        proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")
        proposal_services.close_call(actor=facilitator, proposal=proposal)
    response = client_as(None).get(A + "history.json")
    path = tmp_path / "history.json"
    path.write_bytes(b"".join(response.streaming_content))
    return path


def run(path, *args):
    # Plain interpreter, no Django settings, not even the project on the path.
    return subprocess.run(
        [sys.executable, "-I", str(TOOL), str(path), *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=path.parent,
    )


def tamper(path, change):
    document = json.loads(path.read_text())
    change(document["decisions"])
    path.write_text(json.dumps(document, ensure_ascii=False))


def test_it_verifies_an_intact_history(downloaded):
    result = run(downloaded)
    assert result.returncode == 0, result.stderr
    assert "History intact: 3 decisions of assembly 'liberty-square'" in result.stdout


def test_it_names_an_altered_reason(downloaded):
    def change(decisions):
        decisions[0]["record"]["positions"][-1]["reason"] = "We have plenty of money"

    tamper(downloaded, change)
    result = run(downloaded)
    assert result.returncode == 1
    assert "decision #1" in result.stderr
    assert "digest does not match its record" in result.stderr


def test_it_names_a_recomputed_digest_that_breaks_the_chain(downloaded):
    def change(decisions):
        record = decisions[1]["record"]
        record["outcome"] = "blocked"
        decisions[1]["digest"] = history.compute_digest(decisions[1]["previous_digest"], record)

    tamper(downloaded, change)
    result = run(downloaded)
    assert result.returncode == 1
    assert "decision #3" in result.stderr
    assert "previous digest does not match the chain" in result.stderr


def test_it_names_a_removed_record(downloaded):
    tamper(downloaded, lambda decisions: decisions.pop(1))
    result = run(downloaded)
    assert result.returncode == 1
    assert "decision #3" in result.stderr


def test_it_detects_truncation_with_an_expected_head(downloaded):
    head = json.loads(downloaded.read_text())["decisions"][-1]["digest"]
    assert run(downloaded, "--expect-head", head).returncode == 0
    document = json.loads(downloaded.read_text())
    document["decisions"].pop()
    del document["tree_head"]  # as a file exported before tree heads existed
    downloaded.write_text(json.dumps(document, ensure_ascii=False))
    result = run(downloaded, "--expect-head", head)
    assert result.returncode == 1
    assert "no decision has the digest" in result.stderr
    assert "ends at" in result.stderr


def test_it_accepts_any_earlier_digest_as_an_expected_head(downloaded):
    """A head noted at an earlier sitting stays valid after later decisions."""
    earlier = json.loads(downloaded.read_text())["decisions"][0]["digest"]
    result = run(downloaded, "--expect-head", earlier)
    assert result.returncode == 0, result.stderr


def test_it_names_a_truncation_its_own_tree_head_covers(downloaded):
    tamper(downloaded, lambda decisions: decisions.pop())
    result = run(downloaded)
    assert result.returncode == 1
    assert "the tree head (3 decisions): the file holds only 2 decisions" in result.stderr


def test_it_refuses_unreadable_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert run(bad).returncode == 2


def test_the_tool_imports_nothing_but_the_standard_library():
    tree = ast.parse(TOOL.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    assert imported <= set(sys.stdlib_module_names)


def test_the_tool_computes_digests_as_the_app_does():
    namespace: dict = {}
    exec(compile(TOOL.read_text(), str(TOOL), "exec"), namespace)
    record = {"b": [1, "ü"], "a": None, "c": {"z": True, "y": "x"}}
    assert namespace["canonical_json"](record) == history.canonical_json(record)
    previous = "f" * 64
    assert namespace["compute_digest"](previous, record) == history.compute_digest(previous, record)
    assert namespace["GENESIS"] == history.GENESIS


def test_the_tool_compares_decided_text_as_the_app_does():
    """`decided_text_changed` is written out twice (the tool has only the standard library):
    the two copies are the same source."""
    import inspect

    tree = ast.parse(TOOL.read_text())
    tool = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "decided_text_changed"
    )
    app = ast.parse(inspect.getsource(history.decided_text_changed)).body[0]
    assert ast.dump(tool) == ast.dump(app)


MERKLE_FUNCTIONS = (
    "leaf_bytes",
    "leaf_hash",
    "node_hash",
    "_split",
    "root_hash",
    "inclusion_proof",
    "consistency_proof",
    "_subproof",
    "root_from_inclusion",
    "verify_inclusion",
    "verify_consistency",
)


def test_the_tool_holds_the_same_merkle_tree_as_the_app():
    """proposals/merkle.py is written out in the tool too (standard library only): the
    function definitions are the same source."""
    import inspect

    from proposals import merkle

    tool = {
        node.name: node
        for node in ast.parse(TOOL.read_text()).body
        if isinstance(node, ast.FunctionDef)
    }
    for name in MERKLE_FUNCTIONS:
        app = ast.parse(inspect.getsource(getattr(merkle, name))).body[0]
        assert ast.dump(tool[name]) == ast.dump(app), name


def test_the_tool_signs_and_verifies_heads_as_the_server_does(settings):
    """The tool's bytes are the server's, and its RFC 8032 verifier accepts the server's
    signatures and nothing else."""
    import base64

    from proposals import signing, transparency

    namespace: dict = {}
    exec(compile(TOOL.read_text(), str(TOOL), "exec"), namespace)
    fields = {
        "assembly": "ga",
        "tree_size": 7,
        "root_hash": "ab" * 32,
        "timestamp": "2026-12-02T04:00:00.000000+00:00",
        "key_id": signing.key_id(),
    }
    message = transparency.signed_bytes(**fields)
    assert namespace["head_message"](fields) == message
    head = {**fields, "signature": signing.sign(message)}
    key = signing.public_key_bytes()
    assert namespace["head_signature_problem"](head, key) is None
    assert namespace["key_id_of"](key) == signing.key_id()
    forged = {**head, "tree_size": 8}
    assert namespace["head_signature_problem"](forged, key) == "its signature is not valid"
    other = base64.b64decode(base64.b64encode(bytes(32)))
    assert "not by key" in namespace["head_signature_problem"](head, other)
