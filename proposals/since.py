"""Does a history extend an earlier download of it? Pure functions, no Django.

`extends_problem(decisions, earlier, check_signature)` answers for `manage.py verify_history
--since`, as `tools/verify_history.py --since` does offline (the same algorithm, written out
there with the standard library only; tests run both on the same tampered histories).
`earlier` is an earlier history.json, a signed tree head or a receipt; `check_signature(head)`
names what is wrong with a head's signature, or returns None.
"""

from proposals.merkle import (
    consistency_proof,
    leaf_bytes,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def leaf_hashes_of(decisions):
    return [leaf_hash(leaf_bytes(entry["record"], entry["digest"])) for entry in decisions]


def head_root(head):
    try:
        return int(head["tree_size"]), bytes.fromhex(head["root_hash"])
    except (KeyError, TypeError, ValueError):
        return None


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


def extends_problem(decisions, earlier, check_signature=None):
    """(label, reason) when `decisions` (the new file's) do not extend `earlier`, or None."""
    kind = kind_of(earlier)
    if kind == "history":
        return _extends_history(decisions, earlier, check_signature)
    if kind == "receipt":
        return _extends_receipt(decisions, earlier, check_signature)
    if kind == "tree head":
        return _extends_head(decisions, earlier, check_signature)
    return "the earlier file", "it is neither a history.json, a tree head nor a receipt"


def _extends_history(decisions, earlier, check_signature):
    for position, was in enumerate(earlier["decisions"], start=1):
        label = f"decision #{was.get('sequence', position)}"
        if position > len(decisions):
            return label, f"the earlier file has it, this one ends at #{len(decisions)}"
        now = decisions[position - 1]
        for field in ("sequence", "previous_digest", "digest", "record"):
            if was.get(field) != now.get(field):
                return label, f"its {field} differs from the earlier file's"
    head = earlier.get("tree_head")
    return _extends_head(decisions, head, check_signature) if head else None


def _extends_receipt(decisions, receipt, check_signature):
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
    return _extends_head(decisions, head, check_signature)


def _extends_head(decisions, head, check_signature):
    size_root = head_root(head or {})
    if size_root is None:
        return "the earlier tree head", "it has no valid tree_size and root_hash"
    size, old_root = size_root
    label = f"the earlier tree head ({size} decisions)"
    if check_signature is not None:
        problem = check_signature(head)
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
