#!/usr/bin/env python3
"""Verify a Multitude history.json offline: standard library only, no Django, any Python 3.8+.

    python3 verify_history.py liberty-square-history.json
    python3 verify_history.py history.json --since earlier-history.json   # append-only?
    python3 verify_history.py history.json --since receipt.json           # my position kept?
    python3 verify_history.py history.json --since tree-head.json --public-key KEY

Recomputes the digest chain of every decision,

    digest = sha256( previous_digest + canonical_json(record) )   (hex; the first chains
                                                                    from 64 zeros)

checks each record's sequence and assembly, that the proposal as the database showed it at
export ("proposal_now": title, decided text, rule, phase) is what was decided, and that the
file's signed tree head (RFC 9162 Merkle root over the decisions, Ed25519 signature) covers
exactly its decisions. With --since, the file must be an append-only extension of an earlier
history.json, tree head or receipt: the earlier decisions an exact prefix, a consistency
proof from the earlier head to this file's decisions, the receipt's leaf included.

Exits 0 when all holds, 1 naming the first difference, 2 when a file cannot be read. The
algorithm is in docs/history-verification.md of the Multitude repository; the functions
below are the same as in its proposals/history.py and proposals/merkle.py (a test keeps
them identical), and the Ed25519 verifier is RFC 8032's reference algorithm.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Sequence

GENESIS = "0" * 64
SIGNED_PREFIX = b"multitude-tree-head:v1\n"


def canonical_json(record):
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_digest(previous_digest, record):
    return hashlib.sha256(previous_digest.encode("ascii") + canonical_json(record)).hexdigest()


# --- The Merkle tree (RFC 9162 §2.1), as in proposals/merkle.py ------------------------------

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_bytes(record: dict, digest: str) -> bytes:
    """The leaf of one decision: its record and its chain digest, canonically encoded."""
    return canonical_json({"digest": digest, "record": record})


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already hashed with `leaf_hash`)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    # Bottom-up, pairing left to right and carrying a lone last node up unchanged: the same
    # tree as the recursive split of §2.1.1, in O(n) without recursion.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1: the audit path of leaf `index` in the tree of `hashes`."""
    if not 0 <= index < len(hashes):
        raise ValueError("the leaf index is outside the tree")
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*inclusion_proof(index, hashes[:k]), root_hash(hashes[k:])]
    return [*inclusion_proof(index - k, hashes[k:]), root_hash(hashes[:k])]


def consistency_proof(old_size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of §2.1.4.1, from the tree of the first `old_size` leaves to all."""
    if not 0 <= old_size <= len(hashes):
        raise ValueError("the earlier size is larger than the tree")
    if old_size in (0, len(hashes)):
        return []
    return _subproof(old_size, hashes, True)


def _subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [root_hash(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], whole), root_hash(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), root_hash(hashes[:k])]


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (§2.1.3.2); ValueError when it cannot be valid."""
    if not 0 <= index < size:
        raise ValueError("the leaf index is outside the tree")
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            raise ValueError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes):
    """True when `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`."""
    try:
        return root_from_inclusion(index, size, leaf, proof) == root
    except ValueError:
        return False


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """§2.1.4.2: the tree of `new_size` leaves extends the one of `old_size` leaves."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # every tree extends the empty one
    if not proof:
        return False
    proof = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the proof's start
        proof.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# --- Ed25519 verification (RFC 8032 §5.1.7, the reference algorithm) ------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_add(a, b):
    e = (a[1] - a[0]) * (b[1] - b[0]) % _P
    f = (a[1] + a[0]) * (b[1] + b[0]) % _P
    g = 2 * a[3] * b[3] * _D % _P
    h = 2 * a[2] * b[2] % _P
    e, f, g, h = f - e, h - g, h + g, f + e
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(scalar, point):
    result = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        scalar >>= 1
    return result


def _point_equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _decompress(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def ed25519_verify(public_key, message, signature):
    """True when `signature` (64 bytes) is valid for `message` under `public_key` (32)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public_key), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = hashlib.sha512(signature[:32] + public_key + message).digest()
    h = int.from_bytes(k, "little") % _L
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(h, a)))


# --- Tree heads ---------------------------------------------------------------------------


def head_message(head):
    """The bytes a tree head's signature covers (docs/history-verification.md)."""
    fields = {name: head[name] for name in SIGNED_FIELDS}
    return SIGNED_PREFIX + canonical_json(fields)


SIGNED_FIELDS = ("assembly", "key_id", "root_hash", "timestamp", "tree_size")


def key_id_of(public_key):
    return hashlib.sha256(public_key).hexdigest()[:16]


def head_signature_problem(head, public_key):
    """Why a head's signature does not hold under `public_key` (raw bytes), or None."""
    try:
        message = head_message(head)
        signature = base64.b64decode(head["signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return "it is not a complete signed tree head"
    if head.get("key_id") != key_id_of(public_key):
        return f"it is signed by key {head.get('key_id')}, not by key {key_id_of(public_key)}"
    if not ed25519_verify(public_key, message, signature):
        return "its signature is not valid"
    return None


def head_root(head):
    try:
        return int(head["tree_size"]), bytes.fromhex(head["root_hash"])
    except (KeyError, TypeError, ValueError):
        return None


def leaf_hashes_of(decisions):
    return [leaf_hash(leaf_bytes(entry["record"], entry["digest"])) for entry in decisions]


# --- One history on its own -----------------------------------------------------------------


def first_problem(document, public_key=None):
    """(label, reason) of the first record that does not match, or None when intact."""
    slug = (document.get("assembly") or {}).get("slug")
    decisions = document.get("decisions")
    if not isinstance(decisions, list):
        return "the file", "it has no list of decisions"
    expected_previous = GENESIS
    for position, entry in enumerate(decisions, start=1):
        label = f"decision #{entry.get('sequence', position)} (id {entry.get('id', '?')})"
        record = entry.get("record")
        if not isinstance(record, dict):
            return label, "it has no record"
        if entry.get("previous_digest") != expected_previous:
            return label, "previous digest does not match the chain"
        try:
            digest = compute_digest(entry["previous_digest"], record)
        except (TypeError, ValueError) as error:
            return label, f"its record cannot be encoded canonically ({error})"
        if digest != entry.get("digest"):
            return label, "digest does not match its record"
        if record.get("sequence") != position or entry.get("sequence") != position:
            return label, f"sequence should be {position}: a record is missing or out of order"
        if slug is not None and record.get("assembly") != slug:
            return label, f"the record belongs to assembly {record.get('assembly')!r}, not {slug!r}"
        changed = decided_text_changed(entry, record)
        if changed:
            return label, changed
        expected_previous = digest
    return tree_head_problem(document, public_key)


def tree_head_problem(document, public_key):
    """The file's own signed tree head must cover exactly its decisions."""
    head = document.get("tree_head")
    decisions = document["decisions"]
    if head is None:
        if "tree_head" in document and decisions:
            return "the tree head", "the file has decisions but no signed tree head"
        return None  # a history exported before tree heads existed, or an empty one
    size_root = head_root(head)
    if size_root is None:
        return "the tree head", "it has no valid tree_size and root_hash"
    size, root = size_root
    label = f"the tree head ({size} decisions)"
    if size < len(decisions):
        return (
            f"decision #{size + 1}",
            f"no signed tree head covers it (the file's head covers {size}): it was not "
            "recorded by the server, or it was decided while the file was written (download again)",
        )
    if size > len(decisions):
        return label, f"the file holds only {len(decisions)} decisions: the last were removed"
    if root_hash(leaf_hashes_of(decisions)) != root:
        return label, "the decisions do not hash to its root: one was changed"
    if public_key is not None:
        problem = head_signature_problem(head, public_key)
        if problem:
            return label, problem
    return None


def decided_text_changed(entry, record):
    """What the proposal's rows said ("proposal_now") against what its record decided."""
    now = entry.get("proposal_now")
    if not isinstance(now, dict):
        return None  # a history exported before this check existed
    decided = record.get("proposal") or {}
    withdrawn = record.get("outcome") == "withdrawn"
    checks = [
        ("title", now.get("title"), decided.get("title")),
        ("text", now.get("text"), decided.get("text")),
        ("current revision", now.get("revision"), decided.get("revision")),
        ("rule", now.get("rule"), record.get("rule")),
        ("phase", now.get("phase"), "withdrawn" if withdrawn else "decided"),
    ]
    for name, current, expected in checks:
        if current != expected:
            return f"the proposal's {name} {current!r} differs from what was decided ({expected!r})"
    return None


# --- Against an earlier download: history, tree head or receipt --------------------------------


def kind_of(earlier):
    if not isinstance(earlier, dict):
        return None
    if earlier.get("format") == "multitude-history" or isinstance(earlier.get("decisions"), list):
        return "history"
    if earlier.get("format") == "multitude-receipt" or "audit_path" in earlier:
        return "receipt"
    if "tree_size" in earlier and "root_hash" in earlier:
        return "tree head"
    return None


def extends_problem(decisions, earlier, public_key=None):
    """(label, reason) when `decisions` (the new file's) do not extend `earlier`, or None."""
    kind = kind_of(earlier)
    if kind == "history":
        return _extends_history(decisions, earlier, public_key)
    if kind == "receipt":
        return _extends_receipt(decisions, earlier, public_key)
    if kind == "tree head":
        return _extends_head(decisions, earlier, public_key)
    return "the earlier file", "it is neither a history.json, a tree head nor a receipt"


def _extends_history(decisions, earlier, public_key):
    for position, was in enumerate(earlier["decisions"], start=1):
        label = f"decision #{was.get('sequence', position)}"
        if position > len(decisions):
            return label, f"the earlier file has it, this one ends at #{len(decisions)}"
        now = decisions[position - 1]
        for field in ("sequence", "previous_digest", "digest", "record"):
            if was.get(field) != now.get(field):
                return label, f"its {field} differs from the earlier file's"
    head = earlier.get("tree_head")
    return _extends_head(decisions, head, public_key) if head else None


def _extends_receipt(decisions, receipt, public_key):
    head = receipt.get("tree_head")
    label = f"decision #{receipt.get('sequence', '?')}"
    try:
        leaf = receipt["leaf"]
        index = int(receipt["leaf_index"])
        path = [bytes.fromhex(node) for node in receipt["audit_path"]]
        size, root = head_root(head)
        included = verify_inclusion(
            index, size, leaf_bytes(leaf["record"], leaf["digest"]), path, root
        )
    except (KeyError, TypeError, ValueError):
        return "the receipt", "it is not a complete receipt"
    if not included:
        return "the receipt", "its inclusion proof does not lead to its tree head's root"
    if index >= len(decisions):
        return label, f"this history ends at #{len(decisions)}: the receipt's decision is gone"
    now = decisions[index]
    if now.get("digest") != leaf["digest"] or now.get("record") != leaf["record"]:
        return label, "it differs from the receipt"
    return _extends_head(decisions, head, public_key)


def _extends_head(decisions, head, public_key):
    size_root = head_root(head or {})
    if size_root is None:
        return "the earlier tree head", "it has no valid tree_size and root_hash"
    size, old_root = size_root
    label = f"the earlier tree head ({size} decisions)"
    if public_key is not None:
        problem = head_signature_problem(head, public_key)
        if problem:
            return label, problem
    if size > len(decisions):
        return (
            label,
            f"this history holds only {len(decisions)}: "
            f"decision #{len(decisions) + 1} onward was removed",
        )
    hashes = leaf_hashes_of(decisions)
    proof = consistency_proof(size, hashes)
    if not verify_consistency(size, len(hashes), old_root, root_hash(hashes), proof):
        return label, f"this history does not extend it: decisions #1 to #{size} were changed"
    return None


# --- The command --------------------------------------------------------------------------


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _public_key(value, document):
    """Raw key bytes from --public-key (base64, or a file of the key document), else the one
    embedded in the history (which only shows the file agrees with itself)."""
    if value:
        try:
            text = _read(value)["public_key"]
        except (OSError, ValueError, KeyError, TypeError):
            text = value
        return base64.b64decode(text, validate=True), "given"
    embedded = (document.get("public_key") or {}).get("public_key")
    if embedded:
        return base64.b64decode(embedded, validate=True), "embedded"
    return None, None


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a Multitude history.json offline.")
    parser.add_argument("file", help="the downloaded history.json")
    parser.add_argument(
        "--since",
        metavar="EARLIER",
        help="an earlier history.json, tree head or receipt this file must extend",
    )
    parser.add_argument(
        "--public-key",
        metavar="KEY",
        help="the server's Ed25519 public key (base64, or a file from /api/v1/history/public-key)",
    )
    parser.add_argument(
        "--expect-head",
        metavar="DIGEST",
        help="the digest of a decision, as published elsewhere: the history must contain it",
    )
    args = parser.parse_args(argv)
    try:
        document = _read(args.file)
        earlier = _read(args.since) if args.since else None
    except (OSError, ValueError) as error:
        print(f"Cannot read a file: {error}", file=sys.stderr)
        return 2
    if not isinstance(document, dict):
        print(f"{args.file} is not a Multitude history (no JSON object).", file=sys.stderr)
        return 2
    try:
        public_key, key_source = _public_key(args.public_key, document)
    except (ValueError, binascii.Error):
        print("The public key is not base64 of 32 bytes.", file=sys.stderr)
        return 2
    problem = first_problem(document, public_key)
    if problem is None and earlier is not None:
        problem = extends_problem(document["decisions"], earlier, public_key)
    if problem is not None:
        label, reason = problem
        print(f"History broken at {label}: {reason}.", file=sys.stderr)
        return 1
    head = head_digest(document)
    if args.expect_head and not any(
        entry.get("digest") == args.expect_head for entry in document["decisions"]
    ):
        print(
            f"History broken: no decision has the digest {args.expect_head}; it ends at {head}.",
            file=sys.stderr,
        )
        return 1
    slug = (document.get("assembly") or {}).get("slug", "?")
    count = len(document["decisions"])
    print(f"History intact: {count} decisions of assembly '{slug}' verified; last digest {head}.")
    if document.get("tree_head"):
        signed = f"signature checked with the {key_source} key" if public_key else "unsigned check"
        print(
            f"Tree head: {count} decisions, root {document['tree_head']['root_hash']} ({signed})."
        )
    if earlier is not None:
        print(f"It extends the earlier {kind_of(earlier)} ({args.since}).")
    return 0


def head_digest(document):
    decisions = document.get("decisions") or []
    return decisions[-1]["digest"] if decisions else GENESIS


if __name__ == "__main__":
    sys.exit(main())
