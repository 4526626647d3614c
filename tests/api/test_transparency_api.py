"""The transparency log's API: signed heads, proofs, the public key, receipts, reports."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from assemblies.models import LogEntry, Visibility
from proposals import merkle, transparency
from proposals import services as proposal_services
from proposals.models import TreeHead
from sittings import log_text

A = "/api/v1/assemblies/liberty-square/"


@pytest.fixture
def three(decided, participant, facilitator):
    """Three decisions; the participant took a position in each."""
    for title in ("Second", "Third"):
        proposal = proposal_services.submit_proposal(actor=participant, title=title, text="t")
        proposal_services.call_for_consensus(actor=facilitator, proposal=proposal)
        proposal_services.take_position(actor=participant, proposal=proposal, kind="agree")
        proposal_services.close_call(actor=facilitator, proposal=proposal)
    return decided.assembly


def _public_key(client):
    document = client.get("/api/v1/history/public-key/").json()
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"])), document


def _hashes(assembly):
    return [
        merkle.leaf_hash(merkle.leaf_bytes(r, d)) for _s, r, d in transparency.entries(assembly.pk)
    ]


def test_it_signs_a_head_with_each_decision(three, client_as):
    heads = list(TreeHead.objects.filter(assembly=three).order_by("tree_size"))
    assert [head.tree_size for head in heads] == [1, 2, 3]
    hashes = _hashes(three)
    for head in heads:
        assert head.root_hash == merkle.root_hash(hashes[: head.tree_size]).hex()


def test_the_current_head_is_signed_over_the_documented_bytes(three, client_as):
    client = client_as(None)
    head = client.get(A + "tree-head/").json()
    assert head["tree_size"] == 3 and head["decisions"] == 3
    key, document = _public_key(client)
    assert head["key_id"] == document["key_id"]
    message = (
        b"multitude-tree-head:v1\n"
        + json.dumps(
            {
                name: head[name]
                for name in ("assembly", "key_id", "root_hash", "timestamp", "tree_size")
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    )
    key.verify(base64.b64decode(head["signature"]), message)  # raises if not valid
    assert client.get("/.well-known/multitude-history-key").json() == document


def test_it_serves_the_head_of_each_size(three, client_as):
    client = client_as(None)
    assert client.get(A + "tree-heads/2/").json()["tree_size"] == 2
    missing = client.get(A + "tree-heads/9/")
    assert missing.status_code == 404 and missing.json()["code"] == "no_tree_head"


def test_inclusion_proofs_verify_against_the_signed_roots(three, client_as):
    client = client_as(None)
    for size in (1, 2, 3):
        root = bytes.fromhex(client.get(A + f"tree-heads/{size}/").json()["root_hash"])
        for sequence in range(1, size + 1):
            proof = client.get(A + f"proofs/inclusion/?sequence={sequence}&tree_size={size}").json()
            leaf = merkle.leaf_bytes(proof["leaf"]["record"], proof["leaf"]["digest"])
            path = [bytes.fromhex(node) for node in proof["audit_path"]]
            assert merkle.verify_inclusion(proof["leaf_index"], size, leaf, path, root)
    refused = client.get(A + "proofs/inclusion/?sequence=4")
    assert refused.status_code == 404 and refused.json()["code"] == "no_such_leaf"
    invalid = client.get(A + "proofs/inclusion/?sequence=zero")
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid"


def test_consistency_proofs_verify_between_every_pair_of_heads(three, client_as):
    client = client_as(None)
    roots = {
        size: bytes.fromhex(client.get(A + f"tree-heads/{size}/").json()["root_hash"])
        for size in (1, 2, 3)
    }
    roots[0] = merkle.EMPTY_ROOT
    for first in range(4):
        for second in range(first, 4):
            proof = client.get(A + f"proofs/consistency/?first={first}&second={second}").json()
            nodes = [bytes.fromhex(node) for node in proof["proof"]]
            assert merkle.verify_consistency(first, second, roots[first], roots[second], nodes)
    default = client.get(A + "proofs/consistency/?first=1").json()
    assert default["second"] == 3
    refused = client.get(A + "proofs/consistency/?first=3&second=2")
    assert refused.status_code == 404 and refused.json()["code"] == "no_such_tree"


def test_an_assembly_without_decisions_has_no_head(assembly, client_as):
    response = client_as(None).get(A + "tree-head/")
    assert response.status_code == 404 and response.json()["code"] == "no_tree_head"


def test_private_heads_and_proofs_need_membership(three, client_as, outsider, participant):
    three.visibility = Visibility.PRIVATE
    three.save(update_fields=["visibility"])
    for path in ("tree-head/", "tree-heads/1/", "proofs/inclusion/?sequence=1"):
        assert client_as(None).get(A + path).status_code == 404
        assert client_as(outsider).get(A + path).status_code == 404
        assert client_as(participant).get(A + path).status_code == 200


def test_a_member_downloads_a_receipt_that_proves_their_position(three, client_as, participant):
    decision = three.decisions.get(sequence=2)
    response = client_as(participant).get(f"/api/v1/decisions/{decision.pk}/receipt.json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    receipt = response.json()
    assert receipt["format"] == "multitude-receipt"
    assert receipt["position"]["member_id"] == participant.pk
    assert receipt["tree_head"]["tree_size"] == 2
    leaf = merkle.leaf_bytes(receipt["leaf"]["record"], receipt["leaf"]["digest"])
    path = [bytes.fromhex(node) for node in receipt["audit_path"]]
    root = bytes.fromhex(receipt["tree_head"]["root_hash"])
    assert merkle.verify_inclusion(receipt["leaf_index"], 2, leaf, path, root)
    assert transparency.signature_valid(receipt["tree_head"])


def test_only_those_who_took_a_position_have_a_receipt(three, client_as, observer, facilitator):
    decision = three.decisions.get(sequence=2)
    for who in (None, observer, facilitator):
        response = client_as(who).get(f"/api/v1/decisions/{decision.pk}/receipt.json")
        assert response.status_code == 404
        assert response.json()["code"] in ("no_receipt", "decision_not_found")


def test_a_confirmed_report_writes_one_public_line(three, client_as, participant):
    head = client_as(None).get(A + "tree-head/").json()
    head.pop("decisions")
    client = client_as(participant)
    consistent = client.post(A + "history-reports/", {"head": head}, format="json")
    assert consistent.status_code == 409 and consistent.json()["code"] == "history_consistent"
    assert not LogEntry.objects.filter(action__startswith="proposals.history.").exists()
    forged = {**head, "tree_size": 5}
    invalid = client.post(A + "history-reports/", {"head": forged}, format="json")
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid_head"

    # The history loses its last decision (a database administrator, triggers off).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "DELETE FROM proposals_decision WHERE assembly_id = %s AND sequence = 3", [three.pk]
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    first = client.post(A + "history-reports/", {"head": head}, format="json")
    assert first.status_code == 201 and first.json()["code"] == "reported"
    again = client.post(A + "history-reports/", {"head": head}, format="json")
    assert again.status_code == 200 and again.json()["code"] == "already_reported"
    lines = LogEntry.objects.filter(action="proposals.history.shortened")
    assert lines.count() == 1
    assert lines.get().data["tree_size"] == 3 and lines.get().data["held"] == 2
    sentence = log_text.describe(lines.get())
    assert sentence.startswith(participant.display_name)
    assert "a tree head was signed for 3 decisions, the database holds 2" in sentence


def test_history_json_carries_its_signed_head(three, client_as):
    response = client_as(None).get(A + "history.json")
    document = json.loads(b"".join(response.streaming_content))
    head = document["tree_head"]
    assert head["tree_size"] == len(document["decisions"]) == 3
    hashes = [
        merkle.leaf_hash(merkle.leaf_bytes(entry["record"], entry["digest"]))
        for entry in document["decisions"]
    ]
    assert merkle.root_hash(hashes).hex() == head["root_hash"]
    assert document["public_key"]["key_id"] == head["key_id"]


def test_reports_from_heads_of_every_size_write_one_line(three, client_as, participant, observer):
    heads = [client_as(None).get(A + f"tree-heads/{size}/").json() for size in (1, 2, 3)]
    from tests.fixtures.tampering import rehash_after_editing_first

    rehash_after_editing_first(three)
    answers = [
        client_as(who).post(A + "history-reports/", {"head": head}, format="json").status_code
        for who in (participant, observer)
        for head in heads
    ]
    assert answers == [201, 200, 200, 200, 200, 200]
    assert LogEntry.objects.filter(action="proposals.history.rewritten").count() == 1
