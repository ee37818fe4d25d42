"""Merkle tree hashing, compact ranges and proofs of RFC 9162 section 2.1, without any storage."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256
from typing import Protocol

HASH_SIZE = 32
# RFC 9162 2.1.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT = sha256(b"").digest()

# RFC 9162 2.1.1: domain separation between leaves and interior nodes (second-preimage resistance).
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = HASH(0x00 || d(0)) (RFC 9162 2.1.1)."""
    return sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right): an interior node over two subtree hashes (RFC 9162 2.1.1)."""
    return sha256(_NODE_PREFIX + left + right).digest()


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _split_point(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): where RFC 9162 2.1.1 splits D_n."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _check_hashes(hashes: Iterable[bytes]) -> None:
    if not all(_is_hash(h) for h in hashes):
        raise ValueError(f"every hash must be {HASH_SIZE} bytes")


def _pair_up(level: Sequence[bytes]) -> list[bytes]:
    """Hash adjacent pairs of one level into the next; an unpaired last node is left out."""
    pairs = iter(level)
    return [
        sha256(_NODE_PREFIX + left + right).digest()
        for left, right in zip(pairs, pairs, strict=False)
    ]


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D_n) of RFC 9162 2.1.1 for any n, computed level by level instead of recursively.

    Pairing nodes from the left and carrying an unpaired last node up one level unchanged builds
    exactly the tree of the recursive definition (split at the largest power of two smaller
    than n): the left part is always a perfect subtree, so it is fully paired before the carry.
    """
    _check_hashes(leaf_hashes)
    if not leaf_hashes:
        return EMPTY_ROOT
    level: Sequence[bytes] = leaf_hashes
    while len(level) > 1:
        upper = _pair_up(level)
        if len(level) % 2:
            upper.append(level[-1])
        level = upper
    return level[0]


class CompactRange:
    """The frontier of a tree of `size` leaves: the roots of its perfect subtrees, left to right.

    A tree of n leaves splits into one perfect subtree per set bit of n, largest first (RFC 9162
    2.1.1 splits off the largest power of two each time), so this holds popcount(n) <= log2(n) + 1
    hashes. Appending is the stack algorithm of RFC 9162 2.1.2: amortized one hash per leaf. A
    sequencer keeps the frontier (`to_hashes`) next to the tree size and extends the tree in
    batches without reading the earlier leaves again.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Restore a frontier saved with `to_hashes`; ValueError if it cannot be one of `size`."""
        if size < 0:
            raise ValueError("a tree size cannot be negative")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} subtree roots")
        _check_hashes(hashes)
        compact = cls()
        compact._size = size
        compact._hashes = list(hashes)
        return compact

    @property
    def size(self) -> int:
        return self._size

    def to_hashes(self) -> list[bytes]:
        """The subtree roots, largest (leftmost) subtree first; a copy."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf (its leaf hash, not its data). Returns the perfect subtrees this
        completes, as (level, index, hash): level k covers 2**k leaves from index * 2**k. A store
        that keeps them can answer `HashSource.subtree_hash` with one lookup."""
        if not _is_hash(leaf_hash):
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
        hashes = self._hashes
        hashes.append(leaf_hash)
        completed = [(0, self._size, leaf_hash)]
        # RFC 9162 2.1.2 step 2.2: merge once for each trailing 1 bit of the index of the new leaf.
        index = self._size
        level = 0
        while index & 1:
            right = hashes.pop()
            hashes[-1] = node_hash(hashes[-1], right)
            index >>= 1
            level += 1
            completed.append((level, index, hashes[-1]))
        self._size += 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """MTH of the tree: the subtree roots folded from the right (RFC 9162 2.1.2 step 3)."""
        if not self._hashes:
            return EMPTY_ROOT
        root = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            root = node_hash(left, root)
        return root

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, hashes={len(self._hashes)})"


class HashSource(Protocol):
    """Where the proof generators get tree hashes: only perfect, aligned subtrees are asked for.

    `subtree_hash(start, end)` returns MTH(D[start:end]) where end - start is a power of two
    and start is a multiple of it: a leaf hash when end - start == 1, otherwise an interior
    node of the tree that never changes once written. A store that keeps such node hashes
    answers in one lookup, which makes a proof O(log n) lookups; a store that keeps only leaf
    hashes can answer with `root_from_leaf_hashes` over D[start:end] instead.
    """

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for an aligned power-of-two range; ValueError if out of range."""
        ...


class MemoryHashSource:
    """A HashSource over leaf hashes in memory, with every perfect subtree hash precomputed."""

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        _check_hashes(leaf_hashes)
        # _levels[h][i] is the root of the perfect subtree over leaves [i * 2**h, (i + 1) * 2**h).
        self._levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self._levels[-1]) > 1:
            self._levels.append(_pair_up(self._levels[-1]))

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def subtree_hash(self, start: int, end: int) -> bytes:
        width = end - start
        aligned = _is_power_of_two(width) and start % width == 0
        if not (aligned and start >= 0 and end <= self.size):
            raise ValueError(f"[{start}, {end}) is not a perfect subtree of {self.size} leaves")
        height = width.bit_length() - 1
        return self._levels[height][start >> height]


class _RangeRecorder:
    """A HashSource that answers every question with a dummy hash and remembers the question."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []

    def subtree_hash(self, start: int, end: int) -> bytes:
        self.ranges.append((start, end))
        return bytes(HASH_SIZE)


def ranges_needed(build: Callable[[HashSource], object]) -> list[tuple[int, int]]:
    """The subtrees `build` asks its source for, in order. The proof and root algorithms here
    choose their subtrees from the indexes and sizes alone, never from hash values, so a store
    can fetch them all at once and then answer from memory."""
    recorder = _RangeRecorder()
    build(recorder)
    return recorder.ranges


def _range_hash(source: HashSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for start aligned to a power of two >= end - start.

    Every subrange the RFC 9162 recursions visit is aligned like that. Such a range splits into
    one perfect subtree per set bit of its width, largest first; MTH folds them from the right
    (RFC 9162 2.1.1), so this takes popcount(end - start) lookups.
    """
    subtrees: list[bytes] = []
    position = start
    remaining = end - start
    while remaining:
        width = 1 << (remaining.bit_length() - 1)
        subtrees.append(source.subtree_hash(position, position + width))
        position += width
        remaining -= width
    root = subtrees[-1]
    for left in reversed(subtrees[:-1]):
        root = node_hash(left, root)
    return root


def root_from_source(source: HashSource, tree_size: int) -> bytes:
    """MTH(D[0:tree_size]) from a HashSource, in at most log2(tree_size) + 1 lookups."""
    if tree_size < 0:
        raise ValueError("a tree size cannot be negative")
    if tree_size == 0:
        return EMPTY_ROOT
    return _range_hash(source, 0, tree_size)


def inclusion_proof(source: HashSource, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D_tree_size) of RFC 9162 2.1.3.1, sibling nearest the leaf first.

    The recursion walks from the root down to the leaf: each step keeps the half holding the
    leaf and adds the MTH of the other half, which goes after the deeper siblings.
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of {tree_size} leaves")
    path: list[bytes] = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + _split_point(end - start)
        if index < middle:
            # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append(_range_hash(source, middle, end))
            end = middle
        else:
            # PATH(m - k, D[k:n]) : MTH(D[0:k]); D[0:k] is perfect.
            path.append(source.subtree_hash(start, middle))
            start = middle
    path.reverse()
    return path


def consistency_proof(source: HashSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D_new_size) of RFC 9162 2.1.4.1, nodes nearest the leaves first.

    The RFC defines it for 0 < old_size < new_size; for old_size == 0 or old_size == new_size
    there is nothing to prove and the proof is empty (as `verify_consistency` expects).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    # SUBPROOF(m, D[start:end], b); b ("whole") stays true while D[start:end] starts the old tree.
    m, start, end, whole = old_size, 0, new_size, True
    while m != end - start:
        middle = start + _split_point(end - start)
        if m <= middle - start:
            # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            proof.append(_range_hash(source, middle, end))
            end = middle
        else:
            # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]); D[0:k] is perfect.
            proof.append(source.subtree_hash(start, middle))
            m -= middle - start
            start = middle
            whole = False
    if not whole:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b true the verifier knows it already.
        proof.append(_range_hash(source, start, end))
    proof.reverse()
    return proof


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows the leaf at `index` is in the tree of `tree_size` with `root`.

    The algorithm of RFC 9162 2.1.3.2; any malformed input is a failed proof, never an error.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and all(_is_hash(p) for p in proof)):
        return False
    # Step 1.
    if index < 0 or index >= tree_size:
        return False
    # Steps 2 and 3.
    fn, sn = index, tree_size - 1
    r = leaf_hash
    # Step 4.
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # If LSB(fn) is not set, shift until it is or fn is 0.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5.
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree (new_size, new_root) extends the tree (old_size, old_root).

    The algorithm of RFC 9162 2.1.4.2 for 0 < old_size < new_size. Outside that range there is
    nothing to prove: a tree is consistent with itself, and the empty tree (whose root must be
    EMPTY_ROOT) with every later tree, each with an empty proof. Any malformed input is a
    failed proof, never an error.
    """
    if not (_is_hash(old_root) and _is_hash(new_root) and all(_is_hash(c) for c in proof)):
        return False
    if old_size < 0 or new_size < old_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root and (old_size > 0 or old_root == EMPTY_ROOT)
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    return _consistency_path_holds(old_size, new_size, old_root, new_root, proof)


def _consistency_path_holds(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2 steps 1 to 7, in its names, for 0 < first < second."""
    # Step 1.
    if not proof:
        return False
    path = list(proof)
    # Step 2: the old tree is then a perfect subtree of the new one, left out of the proof.
    if _is_power_of_two(first):
        path.insert(0, first_hash)
    # Steps 3 and 4.
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # If LSB(fn) is not set, shift until it is or fn is 0.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    return fr == first_hash and sr == second_hash and sn == 0
