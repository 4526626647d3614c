"""proposals.merkle: RFC 9162 hashing, proofs and their verifiers, for every small tree."""

import hashlib

import pytest

from proposals import merkle


def _reference_root(hashes):
    """MTH exactly as written in RFC 9162 §2.1.1 (recursive split)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return merkle.node_hash(_reference_root(hashes[:k]), _reference_root(hashes[k:]))


def _leaves(n):
    return [f"leaf {i}".encode() for i in range(n)]


def _hashes(n):
    return [merkle.leaf_hash(leaf) for leaf in _leaves(n)]


def test_it_hashes_leaves_and_nodes_with_the_rfc_prefixes():
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root_hash([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", range(34))
def test_it_computes_the_root_of_rfc_9162(n):
    assert merkle.root_hash(_hashes(n)) == _reference_root(_hashes(n))


@pytest.mark.parametrize("n", range(1, 20))
def test_it_proves_and_verifies_every_inclusion(n):
    hashes, leaves = _hashes(n), _leaves(n)
    root = merkle.root_hash(hashes)
    for index in range(n):
        proof = merkle.inclusion_proof(index, hashes)
        assert merkle.verify_inclusion(index, n, leaves[index], proof, root)
        assert not merkle.verify_inclusion(index, n, b"forged", proof, root)
        if proof:
            assert not merkle.verify_inclusion(index, n, leaves[index], proof[:-1], root)


@pytest.mark.parametrize("n", range(1, 18))
def test_it_proves_and_verifies_every_consistency(n):
    hashes = _hashes(n)
    new_root = merkle.root_hash(hashes)
    for m in range(n + 1):
        old_root = merkle.root_hash(hashes[:m])
        proof = merkle.consistency_proof(m, hashes)
        assert merkle.verify_consistency(m, n, old_root, new_root, proof), (m, n)
        if 0 < m < n:
            forged = merkle.root_hash([merkle.leaf_hash(b"forged"), *hashes[1:m]])
            assert not merkle.verify_consistency(m, n, forged, new_root, proof)
            assert not merkle.verify_consistency(m, n, old_root, new_root, proof[1:])
            assert not merkle.verify_consistency(m, n, old_root, b"\x00" * 32, proof)


def test_it_refuses_a_shrinking_or_rewritten_tree():
    hashes = _hashes(5)
    assert not merkle.verify_consistency(6, 5, b"", merkle.root_hash(hashes), [])
    rewritten = [*hashes[:4], merkle.leaf_hash(b"rewritten")]
    assert not merkle.verify_consistency(
        5, 5, merkle.root_hash(hashes), merkle.root_hash(rewritten), []
    )
    with pytest.raises(ValueError):
        merkle.consistency_proof(6, hashes)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(5, hashes)


def test_the_leaf_is_the_canonical_json_of_record_and_digest():
    assert merkle.leaf_bytes({"b": 1, "a": "ü"}, "ab") == (
        '{"digest":"ab","record":{"a":"ü","b":1}}'.encode()
    )
