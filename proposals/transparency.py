"""The transparency log of an assembly's decisions: signed tree heads and their proofs.

The leaves are the decisions in sequence order (`merkle.leaf_bytes`: record and digest). A
head is signed with each decision, in its transaction (`sign_head`), over `signed_bytes`;
proofs are computed from the decisions as the database holds them *now*, so a table
rewritten behind the application's back yields proofs that do not match the heads members
kept (docs/history-verification.md).
"""

import base64
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from proposals import history, merkle, signing
from proposals.models import Decision, TreeHead

HEAD_FORMAT = "multitude-tree-head"
RECEIPT_FORMAT = "multitude-receipt"
SIGNED_PREFIX = b"multitude-tree-head:v1\n"


def signed_bytes(*, assembly: str, tree_size: int, root_hash: str, timestamp: str, key_id: str):
    """The exact bytes the signature covers: a fixed prefix, then the canonical JSON."""
    fields = {
        "assembly": assembly,
        "key_id": key_id,
        "root_hash": root_hash,
        "timestamp": timestamp,
        "tree_size": tree_size,
    }
    return SIGNED_PREFIX + history.canonical_json(fields)


def entries(assembly_id: int) -> list[tuple[int, dict, str]]:
    """(sequence, record, digest) of every decision, in the order of the tree."""
    decisions = Decision.objects.filter(assembly_id=assembly_id).order_by("sequence")
    return list(decisions.values_list("sequence", "record", "digest"))


def leaf_hashes(assembly_id: int) -> list[bytes]:
    return [merkle.leaf_hash(merkle.leaf_bytes(r, d)) for _s, r, d in entries(assembly_id)]


def sign_head(*, assembly_id: int, slug: str, now: datetime | None = None) -> TreeHead:
    """Sign the tree as it stands and store the head. Caller holds the assembly's row lock."""
    hashes = leaf_hashes(assembly_id)
    signed_at = now or timezone.now()
    root = merkle.root_hash(hashes).hex()
    key_id = signing.key_id()
    message = signed_bytes(
        assembly=slug,
        tree_size=len(hashes),
        root_hash=root,
        timestamp=history.timestamp(signed_at),
        key_id=key_id,
    )
    return TreeHead.objects.create(
        assembly_id=assembly_id,
        tree_size=len(hashes),
        root_hash=root,
        signed_at=signed_at,
        key_id=key_id,
        signature=signing.sign(message),
    )


def head_document(head: TreeHead, slug: str) -> dict:
    """A head as the API, history.json and receipts publish it."""
    return {
        "format": HEAD_FORMAT,
        "assembly": slug,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "timestamp": history.timestamp(head.signed_at),
        "key_id": head.key_id,
        "signature": head.signature,
    }


def message_of(document: dict) -> bytes:
    """The signed bytes of a head as published (KeyError/TypeError when a field is missing)."""
    return signed_bytes(
        assembly=document["assembly"],
        tree_size=document["tree_size"],
        root_hash=document["root_hash"],
        timestamp=document["timestamp"],
        key_id=document["key_id"],
    )


def signature_valid(document: dict) -> bool:
    """True when the head is one this server's key signed (whatever the database says)."""
    try:
        if document["key_id"] != signing.key_id():
            return False
        return signing.verify(message_of(document), document["signature"])
    except (KeyError, TypeError, AttributeError):
        return False


def latest_head(assembly) -> TreeHead | None:
    return TreeHead.objects.filter(assembly=assembly).order_by("-tree_size").first()


def head_at(assembly, tree_size: int) -> TreeHead | None:
    return TreeHead.objects.filter(assembly=assembly, tree_size=tree_size).first()


def hexes(hashes) -> list[str]:
    return [value.hex() for value in hashes]


def inclusion(assembly, *, sequence: int, tree_size: int) -> dict | None:
    """The leaf of decision `sequence` and its audit path in the tree of `tree_size` leaves,
    or None when the database holds no such decision in a tree that large."""
    rows = entries(assembly.pk)
    index = next((i for i, row in enumerate(rows) if row[0] == sequence), None)
    if index is None or not index < tree_size <= len(rows):
        return None
    hashes = [merkle.leaf_hash(merkle.leaf_bytes(r, d)) for _s, r, d in rows[:tree_size]]
    _seq, record, digest = rows[index]
    return {
        "sequence": sequence,
        "leaf_index": index,
        "tree_size": tree_size,
        "leaf": {"digest": digest, "record": record},
        "leaf_hash": hashes[index].hex(),
        "audit_path": hexes(merkle.inclusion_proof(index, hashes)),
    }


def consistency(assembly, *, first: int, second: int) -> dict | None:
    """The proof that the tree of `second` leaves extends the one of `first` leaves, or None
    when the database holds fewer than `second` decisions."""
    hashes = leaf_hashes(assembly.pk)
    if not 0 <= first <= second <= len(hashes):
        return None
    return {
        "first": first,
        "second": second,
        "proof": hexes(merkle.consistency_proof(first, hashes[:second])),
    }


@dataclass(frozen=True)
class Disagreement:
    """How the database's decisions fail to extend a signed head: a code and its numbers."""

    code: str  # "shortened", "rewritten" or "unsigned"
    tree_size: int
    held: int
    message: str


def disagreement(assembly, earlier: dict) -> Disagreement | None:
    """Why the database's decisions do not extend a head this server signed, or None.

    The heads table may have been rewritten too, so only the decisions and the key count.
    """
    hashes = leaf_hashes(assembly.pk)
    size, held = earlier["tree_size"], len(hashes)
    if size > held:
        message = f"the database holds {held} decisions, the head covers {size}"
        return Disagreement("shortened", size, held, message)
    if merkle.root_hash(hashes[:size]).hex() != earlier["root_hash"]:
        message = f"the first {size} decisions no longer hash to the head's root"
        return Disagreement("rewritten", size, held, message)
    latest = latest_head(assembly)
    covered = latest.tree_size if latest else 0
    if held > covered:
        message = f"decision #{covered + 1} is covered by no signed tree head"
        return Disagreement("unsigned", covered + 1, held, message)
    return None


def receipt(assembly, decision: Decision, member_id: int) -> dict | None:
    """A member's receipt for their position in a decision, or None if they took none."""
    positions = (decision.record or {}).get("positions", [])
    position = next((p for p in positions if p.get("member_id") == member_id), None)
    head = head_at(assembly, decision.sequence) or latest_head(assembly)
    if position is None or head is None:
        return None
    proof = inclusion(assembly, sequence=decision.sequence, tree_size=head.tree_size)
    if proof is None:
        return None
    return {
        "format": RECEIPT_FORMAT,
        "version": 1,
        "assembly": assembly.slug,
        "member_id": member_id,
        "position": position,
        **proof,
        "tree_head": head_document(head, assembly.slug),
        "key_id": head.key_id,
        "public_key": base64.b64encode(signing.public_key_bytes()).decode("ascii"),
    }
