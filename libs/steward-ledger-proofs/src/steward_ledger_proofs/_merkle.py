"""RFC 9162 Merkle tree hashes, a compact append-only frontier, and proofs."""

from __future__ import annotations

import hmac
from hashlib import sha256
from typing import TYPE_CHECKING

from steward_ledger_proofs._errors import ProofError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()
HASH_SIZE = 32


def leaf_hash(leaf_input: bytes) -> bytes:
    """Return the RFC 9162 hash of one leaf's input."""
    return sha256(LEAF_PREFIX + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 hash of an interior node from its two children."""
    return sha256(NODE_PREFIX + left + right).digest()


def event_leaf_input(seq: int, digest: bytes) -> bytes:
    """Return a ledger leaf's input: its sequence number, then its event's canonical digest."""
    # Binding the sequence number into the leaf makes a moved row fail on its own, not only
    # through the root.
    return seq.to_bytes(8, "big") + digest


def event_leaf_hash(seq: int, digest: bytes) -> bytes:
    """Return the Merkle leaf hash of the event recorded at a sequence number."""
    return sha256(LEAF_PREFIX + seq.to_bytes(8, "big") + digest).digest()


class MerkleFrontier:
    """The roots of the perfect subtrees that make up an append-only tree, left to right."""

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Restore a frontier from its tree size and its subtree roots, left to right."""
        if size < 0:
            raise ProofError(f"Invalid tree size: {size}, expected a non-negative integer")

        if len(hashes) != size.bit_count():
            raise ProofError(
                f"Invalid frontier for tree size {size}: {len(hashes)} subtree roots,"
                f" expected {size.bit_count()}"
            )

        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Roots of the perfect subtrees, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        hashes = self._hashes
        node = leaf
        size = self._size
        while size & 1:
            node = sha256(NODE_PREFIX + hashes.pop() + node).digest()
            size >>= 1
        hashes.append(node)
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """Return the tree head hash of the leaves appended so far."""
        if not self._hashes:
            return EMPTY_ROOT

        # The right edge of an unbalanced tree is folded in from the smallest subtree up.
        node = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            node = sha256(NODE_PREFIX + left + node).digest()
        return node

    def copy(self) -> MerkleFrontier:
        """Return an independent copy of this frontier."""
        return MerkleFrontier(self._size, self._hashes)


def tree_root(leaves: Sequence[bytes], start: int = 0, end: int | None = None) -> bytes:
    """Return the Merkle tree hash of leaves[start:end]."""
    frontier = MerkleFrontier()
    frontier.extend(leaves[start:end])
    return frontier.root()


def frontier_at(leaves: Sequence[bytes], size: int) -> MerkleFrontier:
    """Return the frontier of the tree made of the first `size` leaves."""
    _check_size(size, len(leaves))
    frontier = MerkleFrontier()
    frontier.extend(leaves[:size])
    return frontier


def inclusion_proof(leaves: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """Return the RFC 9162 inclusion path of leaf `index` in the tree of `tree_size` leaves."""
    _check_size(tree_size, len(leaves))
    return _inclusion_path(index, tree_size, lambda start, end: tree_root(leaves, start, end))


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Return the RFC 9162 consistency proof between the trees of two sizes."""
    _check_size(new_size, len(leaves))
    return _consistency_path(old_size, new_size, lambda start, end: tree_root(leaves, start, end))


class MerkleTree:
    """A fixed run of leaf hashes whose large subtree roots are kept, for many proofs at once."""

    # Subtrees this small are cheaper to rehash than to keep.
    _CACHED_WIDTH = 256

    def __init__(self, leaves: Sequence[bytes]) -> None:
        """Wrap leaf hashes in order; the sequence must not change afterwards."""
        self._leaves = leaves
        self._roots: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._leaves)

    def leaf(self, index: int) -> bytes:
        """Return one leaf hash."""
        return self._leaves[index]

    def root(self, size: int | None = None) -> bytes:
        """Return the tree head hash of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        _check_size(size, self.size)
        return self.subtree_root(0, size) if size else EMPTY_ROOT

    def subtree_root(self, start: int, end: int) -> bytes:
        """Return the Merkle tree hash of leaves[start:end]."""
        if end - start <= self._CACHED_WIDTH:
            return tree_root(self._leaves, start, end)

        key = (start, end)
        cached = self._roots.get(key)
        if cached is None:
            split = start + _largest_power_of_two_below(end - start)
            cached = node_hash(self.subtree_root(start, split), self.subtree_root(split, end))
            self._roots[key] = cached
        return cached

    def frontier(self, size: int) -> MerkleFrontier:
        """Return the frontier of the tree made of the first `size` leaves."""
        _check_size(size, self.size)
        hashes, start = [], 0
        for bit in reversed(range(size.bit_length())):
            if size >> bit & 1:
                hashes.append(self.subtree_root(start, start + (1 << bit)))
                start += 1 << bit
        return MerkleFrontier(size, hashes)

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """Return the RFC 9162 inclusion path of a leaf in the tree of `tree_size` leaves."""
        _check_size(tree_size, self.size)
        return _inclusion_path(index, tree_size, self.subtree_root)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """Return the RFC 9162 consistency proof between the trees of two sizes."""
        _check_size(new_size, self.size)
        return _consistency_path(old_size, new_size, self.subtree_root)


def _inclusion_path(
    index: int, tree_size: int, subtree_root: Callable[[int, int], bytes]
) -> list[bytes]:
    """Return PATH(index, D[0:tree_size]) from RFC 9162 section 2.1.3.1, unrolled."""
    if not 0 <= index < tree_size:
        raise ProofError(f"Invalid leaf index: {index}, expected 0 <= index < {tree_size}")

    # Walk down from the root; each step keeps the half holding the leaf and records the other.
    path: list[bytes] = []
    start, end = 0, tree_size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            path.append(subtree_root(split, end))
            end = split
        else:
            path.append(subtree_root(start, split))
            start = split

    path.reverse()
    return path


def _consistency_path(
    old_size: int, new_size: int, subtree_root: Callable[[int, int], bytes]
) -> list[bytes]:
    """Return PROOF(old_size, D[0:new_size]) from RFC 9162 section 2.1.4.1, unrolled."""
    if not 0 <= old_size <= new_size:
        raise ProofError(
            f"Invalid old tree size: {old_size}, expected 0 <= old size <= {new_size}"
        )

    if old_size in (0, new_size):
        return []

    path: list[bytes] = []
    start, end, remaining, complete = 0, new_size, old_size, True
    while remaining != end - start:
        split = _largest_power_of_two_below(end - start)
        if remaining <= split:
            path.append(subtree_root(start + split, end))
            end = start + split
        else:
            path.append(subtree_root(start, start + split))
            start += split
            remaining -= split
            complete = False

    if not complete:
        path.append(subtree_root(start, end))

    path.reverse()
    return path


def verify_inclusion(
    leaf: bytes,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
) -> None:
    """Check an RFC 9162 inclusion proof; raise ProofError when it does not hold."""
    if not 0 <= index < tree_size:
        raise ProofError(f"Invalid leaf index: {index}, expected 0 <= index < {tree_size}")

    # RFC 9162 section 2.1.3.2.
    fn, sn, node = index, tree_size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError(f"Inclusion proof for leaf {index} is longer than the tree allows")
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1

    if sn != 0:
        raise ProofError(f"Inclusion proof for leaf {index} is shorter than the tree needs")

    if not hmac.compare_digest(node, root):
        raise ProofError(
            f"Inclusion proof for leaf {index} leads to root {node.hex()}, expected {root.hex()}"
        )


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check an RFC 9162 consistency proof; raise ProofError when it does not hold."""
    if not 0 <= old_size <= new_size:
        raise ProofError(
            f"Invalid tree sizes: {old_size} and {new_size}, expected 0 <= old <= new"
        )

    # Every tree extends the empty tree, and a tree is consistent only with itself.
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ProofError(
                f"Consistency proof from {old_size} to {new_size} must be empty,"
                f" got {len(proof)} hashes"
            )
        if old_size == new_size and not hmac.compare_digest(old_root, new_root):
            raise ProofError(f"Roots of the same tree size {old_size} differ")
        return

    if not proof:
        raise ProofError(f"Consistency proof from {old_size} to {new_size} is empty")

    # RFC 9162 section 2.1.4.2.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError(
                f"Consistency proof from {old_size} to {new_size} is longer than the trees allow"
            )
        if fn & 1 or fn == sn:
            fr = node_hash(node, fr)
            sr = node_hash(node, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, node)
        fn >>= 1
        sn >>= 1

    if sn != 0:
        raise ProofError(
            f"Consistency proof from {old_size} to {new_size} is shorter than the trees need"
        )
    if not hmac.compare_digest(fr, old_root):
        raise ProofError(f"Consistency proof does not lead to the root of tree size {old_size}")
    if not hmac.compare_digest(sr, new_root):
        raise ProofError(f"Consistency proof does not lead to the root of tree size {new_size}")


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly less than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(tree_size: int, available: int) -> None:
    """Refuse a tree size the given leaves cannot make."""
    if not 0 <= tree_size <= available:
        raise ProofError(
            f"Invalid tree size: {tree_size}, expected 0 <= size <= {available} known leaves"
        )
