"""Merkle hashes and proofs, cross-checked against RFC 6962 test data and pymerkle."""

from __future__ import annotations

import pytest
from pymerkle import ConsistencyProof, InclusionProof, InmemoryTree, InvalidProof
from steward_ledger_proofs import (
    EMPTY_ROOT,
    MerkleFrontier,
    MerkleTree,
    ProofError,
    consistency_proof,
    frontier_at,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# Leaf inputs and roots of the reference tree used by Certificate Transparency's own tests.
CT_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
SIZES = 70


@pytest.fixture(scope="module")
def entries() -> list[bytes]:
    return [b"entry-%d" % i for i in range(SIZES)]


@pytest.fixture(scope="module")
def leaves(entries: list[bytes]) -> list[bytes]:
    return [leaf_hash(entry) for entry in entries]


@pytest.fixture(scope="module")
def reference(entries: list[bytes]) -> InmemoryTree:
    tree = InmemoryTree()
    for entry in entries:
        tree.append_entry(entry)
    return tree


def test_roots_match_the_certificate_transparency_reference_tree() -> None:
    leaves = [leaf_hash(bytes.fromhex(item)) for item in CT_INPUTS]

    assert [tree_root(leaves, 0, n).hex() for n in range(1, 9)] == CT_ROOTS
    assert tree_root([]) == EMPTY_ROOT


def test_consistency_proofs_match_the_certificate_transparency_reference() -> None:
    leaves = [leaf_hash(bytes.fromhex(item)) for item in CT_INPUTS]

    for (old, new), expected in CT_CONSISTENCY.items():
        assert [node.hex() for node in consistency_proof(leaves, old, new)] == expected
    assert [n.hex() for n in inclusion_proof(leaves, 0, 8)] == CT_CONSISTENCY[(1, 8)]


def test_roots_match_pymerkle_at_every_size(leaves: list[bytes], reference: InmemoryTree) -> None:
    frontier = MerkleFrontier()

    for size in range(1, SIZES + 1):
        frontier.append(leaves[size - 1])
        assert frontier.root() == reference.get_root(size) == tree_root(leaves, 0, size)


def test_inclusion_paths_match_pymerkle_and_verify_both_ways(
    leaves: list[bytes], reference: InmemoryTree
) -> None:
    for size in range(1, SIZES + 1, 3):
        root = reference.get_root(size)
        for index in range(size):
            ours = inclusion_proof(leaves, index, size)
            theirs = reference.prove_inclusion(index + 1, size)

            # pymerkle's path starts with the leaf itself, then follows RFC 9162's order.
            assert theirs.path[1:] == ours
            verify_inclusion(leaves[index], index, size, ours, root)
            theirs.verify(leaves[index], root)


def test_consistency_proofs_verify_against_pymerkle_roots_and_proofs(
    leaves: list[bytes], reference: InmemoryTree
) -> None:
    for new in range(1, SIZES + 1, 4):
        new_root = reference.get_root(new)
        for old in range(1, new + 1):
            old_root = reference.get_root(old)

            verify_consistency(old, new, old_root, new_root, consistency_proof(leaves, old, new))
            theirs = reference.prove_consistency(old, new)
            assert isinstance(theirs, ConsistencyProof)
            theirs.verify(tree_root(leaves, 0, old), tree_root(leaves, 0, new))


def test_a_changed_leaf_or_sibling_breaks_inclusion(leaves: list[bytes]) -> None:
    root = tree_root(leaves, 0, 37)
    proof = inclusion_proof(leaves, 20, 37)

    with pytest.raises(ProofError, match="leaf 20"):
        verify_inclusion(leaves[21], 20, 37, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[20], 20, 37, [proof[0], leaves[0], *proof[2:]], root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[20], 21, 37, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[20], 20, 21, proof, root)
    with pytest.raises(ProofError, match="shorter"):
        verify_inclusion(leaves[20], 20, 37, proof[:-1], root)


def test_pymerkle_rejects_a_forged_path_we_reject_too(leaves: list[bytes]) -> None:
    root = tree_root(leaves, 0, 19)
    proof = inclusion_proof(leaves, 5, 19)
    forged = [proof[0], proof[1], leaves[3], *proof[3:]]
    theirs = InclusionProof("sha256", True, 19, 6, _rule_for(5, 19), [leaves[5], *forged])

    with pytest.raises(ProofError):
        verify_inclusion(leaves[5], 5, 19, forged, root)
    with pytest.raises(InvalidProof):
        theirs.verify(leaves[5], root)


def test_a_rewritten_history_breaks_consistency(leaves: list[bytes]) -> None:
    forked = [*leaves[:10], leaf_hash(b"forged"), *leaves[11:50]]
    proof = consistency_proof(forked, 20, 50)

    with pytest.raises(ProofError):
        verify_consistency(20, 50, tree_root(leaves, 0, 20), tree_root(forked, 0, 50), proof)
    with pytest.raises(ProofError):
        verify_consistency(20, 50, tree_root(forked, 0, 20), tree_root(leaves, 0, 50), proof)
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(20, 50, tree_root(forked, 0, 20), tree_root(forked, 0, 50), [])


def test_equal_and_empty_sizes_need_empty_proofs(leaves: list[bytes]) -> None:
    root = tree_root(leaves, 0, 9)

    verify_consistency(9, 9, root, root, [])
    verify_consistency(0, 9, EMPTY_ROOT, root, [])
    with pytest.raises(ProofError, match="same tree size"):
        verify_consistency(9, 9, root, tree_root(leaves, 0, 8), [])


def test_frontier_restores_from_its_hashes_and_continues(leaves: list[bytes]) -> None:
    restored = MerkleFrontier(45, frontier_at(leaves, 45).hashes)

    restored.extend(leaves[45:60])

    assert restored.size == 60
    assert restored.root() == tree_root(leaves, 0, 60)


def test_frontier_refuses_hashes_that_do_not_fit_its_size(leaves: list[bytes]) -> None:
    with pytest.raises(ProofError, match="3 subtree roots"):
        MerkleFrontier(5, leaves[:3])


def test_bad_proof_requests_name_the_input(leaves: list[bytes]) -> None:
    with pytest.raises(ProofError, match="index: 9"):
        inclusion_proof(leaves, 9, 9)
    with pytest.raises(ProofError, match="tree size: 71"):
        consistency_proof(leaves, 3, 71)


def _rule_for(index: int, size: int) -> list[int]:
    """Return pymerkle's rule bits for an inclusion path, built from the same layout it uses."""
    tree = InmemoryTree()
    for i in range(size):
        tree.append_entry(b"x%d" % i)
    rule: list[int] = tree.prove_inclusion(index + 1, size).rule
    return rule


def test_cached_tree_gives_the_same_roots_and_proofs_as_pymerkle() -> None:
    # Large enough that subtrees wider than the cache threshold are kept and reused.
    entries = [b"big-%d" % i for i in range(1300)]
    leaves = [leaf_hash(entry) for entry in entries]
    reference = InmemoryTree()
    for entry in entries:
        reference.append_entry(entry)
    tree = MerkleTree(leaves)

    for size in (1, 256, 257, 700, 1024, 1299, 1300):
        root = reference.get_root(size)
        assert tree.root(size) == root
        assert tree.frontier(size).root() == root
        for index in (0, size // 3, size - 1):
            assert (
                tree.inclusion_proof(index, size)
                == reference.prove_inclusion(index + 1, size).path[1:]
            )
        for old in (1, size // 2, size):
            proof = tree.consistency_proof(old, size)
            assert proof == consistency_proof(leaves, old, size)
            verify_consistency(old, size, reference.get_root(old), root, proof)
