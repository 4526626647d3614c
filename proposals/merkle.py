"""The Merkle tree of an assembly's decisions (RFC 9162, §2.1): pure functions, no Django.

The leaves are the decisions in sequence order; leaf n (0-based) is the canonical JSON of
the entry {"digest": ..., "record": ...} of decision n + 1 (`leaf_bytes`). Hashing is RFC
9162's: a leaf hashes as SHA-256(0x00 || leaf), an inner node as SHA-256(0x01 || left ||
right), and the tree of n leaves splits at the largest power of two below n (MTH, §2.1.1).
Inclusion proofs (§2.1.3) and consistency proofs (§2.1.4) are lists of node hashes; the
verifiers are the algorithms of §2.1.3.2 and §2.1.4.2. `tools/verify_history.py` holds the
same functions (a test keeps them identical), and static/js/monitor.js the verifiers.
"""

import hashlib
from collections.abc import Sequence

from proposals.history import canonical_json

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
