"""The Merkle tree of the access log against RFC 9162 section 2.1: roots, the compact range,
inclusion and consistency proofs, and the verifiers' answers to tampered proofs."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from hashlib import sha256

import pytest

from transparency.merkle import (
    EMPTY_ROOT,
    CompactRange,
    HashSource,
    MemoryHashSource,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    ranges_needed,
    root_from_leaf_hashes,
    root_from_source,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference data: eight entries, the tree head for each size 1..8.
CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
CT_EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# (leaf index, tree size, proof) and (old size, new size, proof) from the same reference data.
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

LEAVES = [leaf_hash(b"access event %d" % i) for i in range(200)]
SOURCE = MemoryHashSource(LEAVES)  # proofs for every smaller tree come from the same source
OTHER = sha256(b"some other hash").digest()


# The RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 definitions, written as recursively as the RFC does.
def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _k(n)
    return sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def naive_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], whole), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def _flip(h: bytes, position: int = 0) -> bytes:
    return h[:position] + bytes([h[position] ^ 0x10]) + h[position + 1 :]


def _log2_ceil(n: int) -> int:
    return math.ceil(math.log2(n)) if n > 1 else 0


class CountingSource:
    """Passes lookups through, counting them; the MemoryHashSource refuses unaligned ranges."""

    def __init__(self, inner: HashSource) -> None:
        self.inner = inner
        self.lookups = 0

    def subtree_hash(self, start: int, end: int) -> bytes:
        width = end - start
        assert width > 0 and width & (width - 1) == 0 and start % width == 0
        self.lookups += 1
        return self.inner.subtree_hash(start, end)


# --- hashing and roots ---------------------------------------------------------------------------


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == CT_EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT
    assert root_from_source(MemoryHashSource([]), 0) == EMPTY_ROOT


def test_leaves_and_nodes_are_domain_separated() -> None:
    assert leaf_hash(b"") == sha256(b"\x00").digest() == CT_ROOTS[0]
    assert node_hash(CT_ROOTS[0], leaf_hash(b"\x00")) == CT_ROOTS[1]
    assert leaf_hash(b"x") != sha256(b"x").digest()


def test_a_one_leaf_tree_has_the_leaf_hash_as_root() -> None:
    only = leaf_hash(b"the only event")
    assert root_from_leaf_hashes([only]) == only
    compact = CompactRange()
    compact.append(only)
    assert compact.root() == only
    assert inclusion_proof(MemoryHashSource([only]), 0, 1) == []
    assert verify_inclusion(only, 0, 1, [], only)


def test_the_reference_tree_heads() -> None:
    leaves = [leaf_hash(entry) for entry in CT_ENTRIES]
    source = MemoryHashSource(leaves)
    for size in range(1, 9):
        assert root_from_leaf_hashes(leaves[:size]) == CT_ROOTS[size - 1]
        assert root_from_source(source, size) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_the_reference_inclusion_proofs(index: int, size: int, proof: list[str]) -> None:
    leaves = [leaf_hash(entry) for entry in CT_ENTRIES]
    expected = [bytes.fromhex(h) for h in proof]
    assert inclusion_proof(MemoryHashSource(leaves), index, size) == expected
    assert verify_inclusion(leaves[index], index, size, expected, CT_ROOTS[size - 1])


@pytest.mark.parametrize(("old_size", "new_size", "proof"), CT_CONSISTENCY)
def test_the_reference_consistency_proofs(old_size: int, new_size: int, proof: list[str]) -> None:
    leaves = [leaf_hash(entry) for entry in CT_ENTRIES]
    expected = [bytes.fromhex(h) for h in proof]
    assert consistency_proof(MemoryHashSource(leaves), old_size, new_size) == expected
    old_root, new_root = CT_ROOTS[old_size - 1], CT_ROOTS[new_size - 1]
    assert verify_consistency(old_size, new_size, old_root, new_root, expected)


@pytest.mark.parametrize("n", range(71))
def test_every_way_of_computing_the_root_agrees_with_the_recursive_definition(n: int) -> None:
    expected = naive_mth(LEAVES[:n])
    assert root_from_leaf_hashes(LEAVES[:n]) == expected
    assert root_from_source(SOURCE, n) == expected
    assert root_from_source(MemoryHashSource(LEAVES[:n]), n) == expected
    compact = CompactRange()
    compact.extend(LEAVES[:n])
    assert compact.root() == expected


def test_roots_refuse_hashes_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        root_from_leaf_hashes([LEAVES[0], b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        MemoryHashSource([LEAVES[0] + b"\x00"])
    with pytest.raises(ValueError, match="negative"):
        root_from_source(SOURCE, -1)


# --- the compact range ---------------------------------------------------------------------------


def test_the_compact_range_root_matches_every_prefix() -> None:
    compact = CompactRange()
    for size in range(1, len(LEAVES) + 1):
        compact.append(LEAVES[size - 1])
        assert compact.size == size
        assert len(compact.to_hashes()) == size.bit_count() <= size.bit_length()
        assert compact.root() == root_from_leaf_hashes(LEAVES[:size])


def test_the_compact_range_holds_the_perfect_subtree_roots() -> None:
    compact = CompactRange()
    compact.extend(LEAVES[:13])  # 13 = 8 + 4 + 1
    assert compact.to_hashes() == [
        SOURCE.subtree_hash(0, 8),
        SOURCE.subtree_hash(8, 12),
        SOURCE.subtree_hash(12, 13),
    ]


@pytest.mark.parametrize("saved_at", [0, 1, 2, 3, 7, 8, 9, 31, 64, 100, 127, 199, 200])
def test_a_saved_compact_range_continues_where_it_stopped(saved_at: int) -> None:
    compact = CompactRange()
    compact.extend(LEAVES[:saved_at])
    size, hashes = compact.size, compact.to_hashes()

    restored = CompactRange.from_hashes(size, hashes)
    assert restored.size == saved_at
    assert restored.to_hashes() == hashes
    assert restored.root() == compact.root()
    # Extended in batches, as a sequencer would, it reaches the tree of all the leaves.
    for start in range(saved_at, len(LEAVES), 17):
        restored.extend(LEAVES[start : start + 17])
        assert restored.root() == root_from_leaf_hashes(LEAVES[: restored.size])
    assert restored.size == len(LEAVES)
    assert restored.root() == root_from_leaf_hashes(LEAVES)


def test_to_hashes_is_a_copy() -> None:
    compact = CompactRange()
    compact.extend(LEAVES[:5])
    compact.to_hashes().clear()
    assert compact.root() == root_from_leaf_hashes(LEAVES[:5])


def test_a_compact_range_is_restored_only_from_a_well_formed_frontier() -> None:
    compact = CompactRange()
    compact.extend(LEAVES[:6])  # 6 = 4 + 2: two subtree roots
    hashes = compact.to_hashes()
    with pytest.raises(ValueError, match="subtree roots"):
        CompactRange.from_hashes(7, hashes)
    with pytest.raises(ValueError, match="subtree roots"):
        CompactRange.from_hashes(6, [*hashes, LEAVES[6]])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_hashes(6, [hashes[0], hashes[1][:31]])
    with pytest.raises(ValueError, match="negative"):
        CompactRange.from_hashes(-1, [])
    with pytest.raises(ValueError, match="32 bytes"):
        compact.append(b"not a hash")
    assert compact.size == 6


# --- proof generation ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 41))
def test_inclusion_proofs_for_every_leaf(n: int) -> None:
    root = root_from_leaf_hashes(LEAVES[:n])
    for index in range(n):
        proof = inclusion_proof(SOURCE, index, n)
        assert proof == naive_path(index, LEAVES[:n])
        assert len(proof) <= _log2_ceil(n)
        assert verify_inclusion(LEAVES[index], index, n, proof, root)


@pytest.mark.parametrize("n", range(41))
def test_consistency_proofs_for_every_earlier_size(n: int) -> None:
    new_root = root_from_leaf_hashes(LEAVES[:n])
    for m in range(n + 1):
        proof = consistency_proof(SOURCE, m, n)
        if 0 < m < n:
            assert proof == naive_subproof(m, LEAVES[:n], True)
        else:
            assert proof == []
        assert len(proof) <= _log2_ceil(n) + 1
        old_root = root_from_leaf_hashes(LEAVES[:m])
        assert verify_consistency(m, n, old_root, new_root, proof)


def test_proofs_take_a_logarithmic_number_of_aligned_lookups() -> None:
    n = 1000  # 1111101000 in binary: many unequal subtrees
    source = MemoryHashSource([leaf_hash(b"%d" % i) for i in range(n)])
    root = root_from_source(source, n)
    for index in range(n):
        counting = CountingSource(source)
        proof = inclusion_proof(counting, index, n)
        assert counting.lookups <= 2 * n.bit_length()
        assert verify_inclusion(source.subtree_hash(index, index + 1), index, n, proof, root)
    for m in range(n + 1):
        counting = CountingSource(source)
        proof = consistency_proof(counting, m, n)
        assert counting.lookups <= 2 * n.bit_length() + 1
        assert verify_consistency(m, n, root_from_source(source, m), root, proof)


def test_generators_refuse_what_is_not_in_the_tree() -> None:
    for index, size in [(0, 0), (5, 5), (6, 5), (-1, 5)]:
        with pytest.raises(ValueError, match="not in a tree"):
            inclusion_proof(SOURCE, index, size)
    for old, new in [(6, 5), (-1, 5)]:
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_proof(SOURCE, old, new)
    with pytest.raises(ValueError, match="not a perfect subtree"):
        inclusion_proof(SOURCE, 0, len(LEAVES) + 1)


@pytest.mark.parametrize(("start", "end"), [(0, 3), (1, 3), (2, 6), (4, 4), (-1, 0), (199, 201)])
def test_the_memory_source_answers_only_perfect_aligned_subtrees(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="not a perfect subtree"):
        SOURCE.subtree_hash(start, end)


def test_the_memory_source_holds_every_level() -> None:
    assert SOURCE.size == 200
    assert SOURCE.subtree_hash(7, 8) == LEAVES[7]
    assert SOURCE.subtree_hash(64, 128) == naive_mth(LEAVES[64:128])
    assert SOURCE.subtree_hash(0, 128) == naive_mth(LEAVES[:128])


# --- verification of tampered and malformed proofs ----------------------------------------------


def _tampered(proof: list[bytes]) -> list[list[bytes]]:
    variants: list[list[bytes]] = []
    for i in range(len(proof)):
        variants.append([*proof[:i], _flip(proof[i]), *proof[i + 1 :]])
        variants.append([*proof[:i], _flip(proof[i], 31), *proof[i + 1 :]])
        variants.append([*proof[:i], *proof[i + 1 :]])  # an element dropped
        variants.append([*proof[:i], OTHER, *proof[i:]])  # an element inserted
    variants.append([*proof, OTHER])
    variants.append([OTHER, *proof])
    if proof:
        variants.append([*proof, proof[-1]])
        variants.append([proof[0], *proof])
    if len(proof) > 1:
        variants.append(proof[::-1])
    return variants


@pytest.mark.parametrize("n", range(1, 41))
def test_tampered_inclusion_proofs_are_rejected(n: int) -> None:
    root = root_from_leaf_hashes(LEAVES[:n])
    for index in range(n):
        proof = inclusion_proof(SOURCE, index, n)
        leaf = LEAVES[index]
        for variant in _tampered(proof):
            assert not verify_inclusion(leaf, index, n, variant, root)
        for wrong_index in {index - 1, index + 1, index ^ 1, index ^ 2, -1, n, n + 1} - {index}:
            assert not verify_inclusion(leaf, wrong_index, n, proof, root)
            if 0 <= wrong_index < n:
                assert not verify_inclusion(LEAVES[wrong_index], wrong_index, n, proof, root)
        for wrong_size in {n - 1, n + 1, 2 * n, n // 2, 0, -1} - {n}:
            if index < wrong_size <= len(LEAVES):
                # Against the tree head of that size. (Against this tree's root, a size whose
                # path has the same shape computes the same root; the signed tree head binds
                # the size to its root.)
                wrong_root = root_from_leaf_hashes(LEAVES[:wrong_size])
                assert not verify_inclusion(leaf, index, wrong_size, proof, wrong_root)
                if len(inclusion_proof(SOURCE, index, wrong_size)) != len(proof):
                    assert not verify_inclusion(leaf, index, wrong_size, proof, root)
            else:
                assert not verify_inclusion(leaf, index, wrong_size, proof, root)
        assert not verify_inclusion(_flip(leaf), index, n, proof, root)
        assert not verify_inclusion(OTHER, index, n, proof, root)
        assert not verify_inclusion(leaf, index, n, proof, _flip(root))
        # One element too many cannot reach a root built on top of this tree's root.
        assert not verify_inclusion(leaf, index, n, [*proof, OTHER], node_hash(OTHER, root))
        assert not verify_inclusion(leaf, index, n, proof, EMPTY_ROOT)


@pytest.mark.parametrize("n", range(2, 41))
def test_tampered_consistency_proofs_are_rejected(n: int) -> None:
    new_root = root_from_leaf_hashes(LEAVES[:n])
    for m in range(1, n):
        old_root = root_from_leaf_hashes(LEAVES[:m])
        proof = consistency_proof(SOURCE, m, n)
        for variant in _tampered(proof):
            assert not verify_consistency(m, n, old_root, new_root, variant)
        assert not verify_consistency(m, n, old_root, new_root, [])
        for wrong_old in {m - 1, m + 1, m ^ 2, 0, n, -1} - {m}:
            assert not verify_consistency(wrong_old, n, old_root, new_root, proof)
            if 0 <= wrong_old <= n:
                wrong_root = root_from_leaf_hashes(LEAVES[:wrong_old])
                assert not verify_consistency(wrong_old, n, wrong_root, new_root, proof)
        for wrong_new in {n - 1, n + 1, 2 * n, n // 2, m} - {n}:
            if m <= wrong_new <= len(LEAVES):
                # Against the tree head of that size; see the inclusion test above.
                wrong_root = root_from_leaf_hashes(LEAVES[:wrong_new])
                assert not verify_consistency(m, wrong_new, old_root, wrong_root, proof)
                if len(consistency_proof(SOURCE, m, wrong_new)) != len(proof):
                    assert not verify_consistency(m, wrong_new, old_root, new_root, proof)
            else:
                assert not verify_consistency(m, wrong_new, old_root, new_root, proof)
        assert not verify_consistency(m, n, _flip(old_root), new_root, proof)
        assert not verify_consistency(m, n, old_root, _flip(new_root), proof)
        assert not verify_consistency(m, n, new_root, old_root, proof)
        forged = node_hash(OTHER, new_root)
        assert not verify_consistency(m, n, old_root, forged, [*proof, OTHER])


def test_inclusion_edge_cases() -> None:
    leaf = LEAVES[0]
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 0, 0, [], leaf)
    assert not verify_inclusion(leaf, 1, 1, [], leaf)
    assert not verify_inclusion(leaf, -1, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [OTHER], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], OTHER)
    # Hashes of the wrong length anywhere fail the proof instead of raising.
    root2 = root_from_leaf_hashes(LEAVES[:2])
    assert verify_inclusion(leaf, 0, 2, [LEAVES[1]], root2)
    assert not verify_inclusion(leaf, 0, 2, [LEAVES[1][:31]], root2)
    assert not verify_inclusion(leaf, 0, 2, [b""], root2)
    assert not verify_inclusion(leaf[:16], 0, 2, [LEAVES[1]], root2)
    assert not verify_inclusion(leaf, 0, 2, [LEAVES[1]], root2 + b"\x00")


def test_consistency_edge_cases() -> None:
    root5 = root_from_leaf_hashes(LEAVES[:5])
    # A tree is consistent with itself, with an empty proof only.
    assert verify_consistency(5, 5, root5, root5, [])
    assert not verify_consistency(5, 5, root5, root5, [root5])
    assert not verify_consistency(5, 5, root5, OTHER, [])
    # The empty tree is consistent with every tree, but its root has to be the empty root.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, root5, [])
    assert not verify_consistency(0, 0, OTHER, OTHER, [])
    assert not verify_consistency(0, 5, OTHER, root5, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root5, [root5])
    # No going back, no negative sizes.
    assert not verify_consistency(5, 4, root5, root_from_leaf_hashes(LEAVES[:4]), [])
    assert not verify_consistency(-1, 5, EMPTY_ROOT, root5, [])
    assert not verify_consistency(-1, -1, EMPTY_ROOT, EMPTY_ROOT, [])
    # Malformed hashes fail the proof instead of raising.
    root8 = root_from_leaf_hashes(LEAVES[:8])
    proof = consistency_proof(SOURCE, 5, 8)
    assert verify_consistency(5, 8, root5, root8, proof)
    assert not verify_consistency(5, 8, root5, root8, [*proof[:-1], proof[-1][:31]])
    assert not verify_consistency(5, 8, root5[:31], root8, proof)
    assert not verify_consistency(5, 8, root5, b"", proof)


# --- randomized properties over larger trees -----------------------------------------------------

BIG = [leaf_hash(b"big %d" % i) for i in range(5000)]
BIG_SOURCE = MemoryHashSource(BIG)


def _random_cases(
    count: int, make: Callable[[random.Random], tuple[int, int]]
) -> list[tuple[int, int]]:
    rng = random.Random(6962)  # noqa: S311 - reproducible test inputs, not secrets
    return [make(rng) for _ in range(count)]


def _index_and_size(rng: random.Random) -> tuple[int, int]:
    size = rng.randint(1, len(BIG))
    return rng.randrange(size), size


def _old_and_new(rng: random.Random) -> tuple[int, int]:
    new = rng.randint(0, len(BIG))
    return rng.randint(0, new), new


@pytest.mark.parametrize(("index", "size"), _random_cases(60, _index_and_size))
def test_random_inclusion_proofs_hold_and_break_when_tampered(index: int, size: int) -> None:
    root = root_from_leaf_hashes(BIG[:size])
    proof = inclusion_proof(BIG_SOURCE, index, size)
    assert len(proof) <= _log2_ceil(size)
    assert verify_inclusion(BIG[index], index, size, proof, root)
    for variant in _tampered(proof):
        assert not verify_inclusion(BIG[index], index, size, variant, root)
    other_index = (index + 1) % size
    if other_index != index:
        assert not verify_inclusion(BIG[other_index], index, size, proof, root)
        assert not verify_inclusion(BIG[index], other_index, size, proof, root)


@pytest.mark.parametrize(("old", "new"), _random_cases(60, _old_and_new))
def test_random_consistency_proofs_hold_and_break_when_tampered(old: int, new: int) -> None:
    compact = CompactRange()
    compact.extend(BIG[:old])
    old_root = compact.root()
    compact.extend(BIG[old:new])
    new_root = compact.root()
    assert old_root == root_from_source(BIG_SOURCE, old)
    assert new_root == root_from_leaf_hashes(BIG[:new])

    proof = consistency_proof(BIG_SOURCE, old, new)
    assert len(proof) <= _log2_ceil(new) + 1
    assert verify_consistency(old, new, old_root, new_root, proof)
    if 0 < old < new:
        for variant in _tampered(proof):
            assert not verify_consistency(old, new, old_root, new_root, variant)
        assert not verify_consistency(old, new, _flip(old_root), new_root, proof)
        assert not verify_consistency(old, new, old_root, _flip(new_root), proof)


def test_append_reports_every_completed_perfect_subtree() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(37)]
    source = MemoryHashSource(leaves)
    compact = CompactRange()
    reported: dict[tuple[int, int], bytes] = {}
    for leaf in leaves:
        for level, index, value in compact.append(leaf):
            reported[(level, index)] = value
    expected = {
        (level, index): source.subtree_hash(index << level, (index + 1) << level)
        for level in range(6)
        for index in range(len(leaves) >> level)
    }
    assert reported == expected


class FetchedOnly:
    """Answers only the subtrees it was given, like a store after one batched read."""

    def __init__(self, source: HashSource, ranges: list[tuple[int, int]]) -> None:
        self.known = {r: source.subtree_hash(*r) for r in ranges}

    def subtree_hash(self, start: int, end: int) -> bytes:
        return self.known[(start, end)]


@pytest.mark.parametrize("seed", range(40))
def test_the_subtrees_a_proof_needs_are_known_before_any_hash_is(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test inputs, not secrets
    size = rng.randint(1, len(LEAVES))
    index, old = rng.randrange(size), rng.randint(0, size)
    for build in (
        lambda s: inclusion_proof(s, index, size),
        lambda s: consistency_proof(s, old, size),
        lambda s: root_from_source(s, size),
    ):
        needed = ranges_needed(build)
        counted = CountingSource(SOURCE)
        expected = build(counted)
        assert len(needed) == counted.lookups
        assert build(FetchedOnly(SOURCE, needed)) == expected
