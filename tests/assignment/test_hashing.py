"""GrowthBook-compatible hashing: hand-checked spec values, GrowthBook's published test vectors, the SDK
itself (property test), split proportions over 100k ids, and coverage changes that never move a unit."""

from __future__ import annotations

import math
import random

import pytest
from growthbook import Experiment, GrowthBook
from growthbook.core import gbhash
from growthbook.core import getBucketRanges as gb_bucket_ranges
from growthbook.core import inNamespace as gb_in_namespace
from hypothesis import given, settings
from hypothesis import strategies as st

from routing_agent.assignment.hashing import (
    bucket_ranges,
    choose_variation,
    fnv1a32,
    hash_v1,
    hash_v2,
    in_namespace,
)


def fnv1a32_by_the_spec(text: str) -> int:
    """FNV-1a 32 written out from the spec: offset basis, then per UTF-16 code unit XOR and multiply."""
    h = 0x811C9DC5
    units = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(units), 2):
        h ^= units[i] | units[i + 1] << 8
        h = (h * 0x01000193) % 2**32
    return h


# -- hand-checked values ---------------------------------------------------------------------------------


def test_fnv1a32_hand_computed() -> None:
    # "" is the offset basis itself.
    assert fnv1a32("") == 0x811C9DC5
    # "a" by hand: 0x811C9DC5 ^ 0x61 = 0x811C9DA4. Multiply by the prime 0x01000193 = 2**24 + 0x193:
    #   0x811C9DA4 << 24 keeps 0xA4000000 of its low 32 bits; 0x811C9DA4 * 0x193 = 0xCB400C292C → 0x400C292C;
    #   0xA4000000 + 0x400C292C = 0xE40C292C.
    step = 0x811C9DC5 ^ ord("a")
    assert step == 0x811C9DA4
    assert (step << 24) % 2**32 == 0xA4000000
    assert step * 0x193 == 0xCB400C292C
    assert (0xA4000000 + 0x400C292C) % 2**32 == 0xE40C292C == fnv1a32("a")
    # Published FNV-1a 32 vectors (Landon Curt Noll's test suite).
    assert fnv1a32("foobar") == 0xBF9CF968
    assert fnv1a32("ab") == 0x4D2505CA
    # A character above U+FFFF hashes its two UTF-16 code units (0xD83D, 0xDE00), as GrowthBook's SDKs do.
    h = (0x811C9DC5 ^ 0xD83D) * 0x01000193 % 2**32
    h = (h ^ 0xDE00) * 0x01000193 % 2**32
    assert fnv1a32("😀") == h == fnv1a32_by_the_spec("😀")
    # Two code points below U+0100 and above it mix the whole code unit, not its UTF-8 bytes.
    assert fnv1a32("é") == (0x811C9DC5 ^ 0xE9) * 0x01000193 % 2**32
    assert fnv1a32("Ω") == (0x811C9DC5 ^ 0x03A9) * 0x01000193 % 2**32


def test_hash_v2_and_v1_by_the_spec() -> None:
    # v2: fnv(str(fnv(seed + value))) % 10000 / 10000 — for seed "seed", value "a":
    inner = fnv1a32_by_the_spec("seeda")
    outer = fnv1a32_by_the_spec(str(inner))
    assert hash_v2("seed", "a") == (outer % 10000) / 10000 == 0.0505
    # v1: fnv(value + seed) % 1000 / 1000 — note the order: value first.
    assert hash_v1("", "a") == (0xE40C292C % 1000) / 1000 == 0.22
    assert hash_v1("b", "a") == (fnv1a32_by_the_spec("ab") % 1000) / 1000 == 0.946


# -- GrowthBook's published spec tests (cases.json of its SDK repositories) --------------------------------

# "hash": [seed, value, version, expected]
GB_HASH_CASES = [
    ("", "a", 1, 0.22),
    ("", "b", 1, 0.077),
    ("b", "a", 1, 0.946),
    ("ef", "d", 1, 0.652),
    ("asdf", "8952klfjas09ujk", 1, 0.549),
    ("", "123", 1, 0.011),
    ("", '___)((*":&', 1, 0.563),
    ("seed", "a", 2, 0.0505),
    ("seed", "b", 2, 0.2696),
    ("foo", "ab", 2, 0.2575),
    ("foo", "def", 2, 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 2, 0.124),
    ("90850943850283058242805", "123", 2, 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 2, 0.0128),
]

# "getBucketRange" cases whose weights are valid (our config layer rejects invalid weights before hashing)
GB_RANGE_CASES = [
    ([0.5, 0.5], 1, [(0, 0.5), (0.5, 1)]),
    ([0.5, 0.5], 0.5, [(0, 0.25), (0.5, 0.75)]),
    ([0.5, 0.5], 0, [(0, 0), (0.5, 0.5)]),
    ([0.25] * 4, 1, [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
    ([0.4, 0.6], 1, [(0, 0.4), (0.4, 1)]),
    ([0.2, 0.3, 0.5], 1, [(0, 0.2), (0.2, 0.5), (0.5, 1)]),
    ([0.2, 0.3, 0.5], 0.2, [(0, 0.04), (0.2, 0.26), (0.5, 0.6)]),
    ([0.5, 0.5], -0.2, [(0, 0), (0.5, 0.5)]),
    ([0.5, 0.5], 1.5, [(0, 0.5), (0.5, 1)]),
    ([0.4, 0.5999], 1, [(0, 0.4), (0.4, 0.9999)]),
]

# "chooseVariation": [n, ranges, expected]
GB_CHOOSE_CASES = [
    (0.2, [(0, 0.5), (0.5, 1)], 0),
    (0.6, [(0, 0.5), (0.5, 1)], 1),
    (0.5, [(0, 0.5), (0.5, 1)], 1),
    (0.2, [(0, 0.25), (0.5, 0.75)], 0),
    (0.6, [(0, 0.25), (0.5, 0.75)], 1),
    (0.4, [(0, 0.25), (0.5, 0.75)], -1),
    (0.8, [(0, 0.25), (0.5, 0.75)], -1),
    (0.25, [(0, 0.25), (0.5, 0.75)], -1),
    (0.5, [(0, 0.25), (0.5, 0.75)], 1),
    (0.5, [(0, 0.5), (0.5, 0.5), (0.5, 1)], 2),
]

# "inNamespace": [user id, (namespace, start, end), expected]
GB_NAMESPACE_CASES = [
    ("1", ("namespace1", 0, 0.4), False),
    ("1", ("namespace1", 0.4, 1), True),
    ("1", ("namespace2", 0, 0.4), False),
    ("1", ("namespace2", 0.4, 1), True),
    ("2", ("namespace1", 0, 0.4), False),
    ("2", ("namespace1", 0.4, 1), True),
    ("2", ("namespace2", 0, 0.4), False),
    ("2", ("namespace2", 0.4, 1), True),
    ("3", ("namespace1", 0, 0.4), False),
    ("3", ("namespace1", 0.4, 1), True),
    ("3", ("namespace2", 0, 0.4), True),
    ("3", ("namespace2", 0.4, 1), False),
    ("4", ("namespace1", 0, 0.4), False),
    ("4", ("namespace1", 0.4, 1), True),
    ("4", ("namespace2", 0, 0.4), True),
    ("4", ("namespace2", 0.4, 1), False),
]


@pytest.mark.parametrize(("seed", "value", "version", "expected"), GB_HASH_CASES)
def test_growthbook_hash_cases(seed: str, value: str, version: int, expected: float) -> None:
    ours = hash_v2(seed, value) if version == 2 else hash_v1(seed, value)
    assert ours == expected


@pytest.mark.parametrize(("weights", "coverage", "expected"), GB_RANGE_CASES)
def test_growthbook_bucket_range_cases(
    weights: list[float], coverage: float, expected: list[tuple[float, float]]
) -> None:
    ranges = bucket_ranges(weights, coverage)
    assert [(round(a, 6), round(b, 6)) for a, b in ranges] == expected
    assert ranges == gb_bucket_ranges(len(weights), coverage, weights)


@pytest.mark.parametrize(("n", "ranges", "expected"), GB_CHOOSE_CASES)
def test_growthbook_choose_variation_cases(
    n: float, ranges: list[tuple[float, float]], expected: int
) -> None:
    assert choose_variation(n, ranges) == expected


@pytest.mark.parametrize(("unit", "namespace", "expected"), GB_NAMESPACE_CASES)
def test_growthbook_namespace_cases(unit: str, namespace: tuple[str, float, float], expected: bool) -> None:
    assert in_namespace(unit, *namespace) is expected
    assert gb_in_namespace(unit, namespace) is expected


# -- the SDK itself, on arbitrary strings ------------------------------------------------------------------

ANY_TEXT = st.lists(  # st.text() drops lone surrogates; a list of characters keeps them
    st.one_of(
        st.characters(exclude_categories=()),  # any code point, astral planes included
        st.characters(categories=["Cs"]),  # lone surrogates, which GrowthBook hashes as code units
        st.sampled_from("-_:{}/ é"),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(seed=ANY_TEXT, value=ANY_TEXT)
def test_hashes_equal_the_growthbook_sdk(seed: str, value: str) -> None:
    assert fnv1a32(seed + value) == fnv1a32_by_the_spec(seed + value)
    assert hash_v2(seed, value) == gbhash(seed, value, 2)
    assert hash_v1(seed, value) == gbhash(seed, value, 1)


def test_assignment_equals_growthbook_run_for_the_same_units() -> None:
    rng = random.Random(7)
    units = [f"user-{i}" for i in range(1500)] + [
        "".join(rng.choice("aé日😀-_:{}") for _ in range(rng.randint(1, 12))) for _ in range(500)
    ]
    weights = [0.6, 0.2, 0.2]
    ranges = bucket_ranges(weights, 0.7)
    experiment = Experiment(
        key="checkout", variations=[0, 1, 2], weights=weights, coverage=0.7, hashVersion=2, seed="salt-1"
    )
    namespaced = Experiment(
        key="ns-exp", variations=[0, 1], hashVersion=2, seed="s2", namespace=("pricing", 0.2, 0.7)
    )
    gb = GrowthBook()
    enrolled = 0
    for unit in units:
        gb.set_attributes({"id": unit})
        result = gb.run(experiment)
        ours = choose_variation(hash_v2("salt-1", unit), ranges)
        assert (ours >= 0) is result.inExperiment, unit
        if ours >= 0:
            enrolled += 1
            assert ours == result.variationId, unit
            assert hash_v2("salt-1", unit) == result.bucket
        result = gb.run(namespaced)
        ours_ns = in_namespace(unit, "pricing", 0.2, 0.7)
        if not ours_ns:
            assert not result.inExperiment
        else:
            assert result.variationId == choose_variation(hash_v2("s2", unit), bucket_ranges([0.5, 0.5]))
    assert 0.6 < enrolled / len(units) < 0.8


# -- statistical behaviour -------------------------------------------------------------------------------

N = 100_000


@pytest.mark.parametrize(
    ("weights", "ids"),
    [
        ([0.5, 0.5], "sequential"),
        ([0.8, 0.2], "sequential"),
        ([0.6, 0.2, 0.2], "sequential"),
        ([0.5, 0.5], "random"),
        ([0.8, 0.2], "random"),
        ([0.6, 0.2, 0.2], "random"),
    ],
)
def test_split_proportions_within_three_sigma(weights: list[float], ids: str) -> None:
    if ids == "sequential":
        units = [f"session-{i}" for i in range(N)]
    else:
        rng = random.Random(2024)
        units = [f"{rng.getrandbits(128):032x}" for _ in range(N)]
    ranges = bucket_ranges(weights)
    counts = [0] * len(weights)
    for unit in units:
        counts[choose_variation(hash_v2("split-test", unit), ranges)] += 1
    assert sum(counts) == N  # full coverage: everyone enrolled
    for observed, w in zip(counts, weights, strict=True):
        sigma = math.sqrt(N * w * (1 - w))
        assert abs(observed - N * w) <= 3 * sigma, (weights, counts)


def test_coverage_enrolls_its_share() -> None:
    ranges = bucket_ranges([0.5, 0.5], 0.3)
    enrolled = sum(choose_variation(hash_v2("cov", f"u{i}"), ranges) >= 0 for i in range(N))
    assert abs(enrolled - 0.3 * N) <= 3 * math.sqrt(N * 0.3 * 0.7)


def test_raising_coverage_never_moves_an_enrolled_unit() -> None:
    units = [f"user-{i}" for i in range(20_000)]
    weights = [0.6, 0.2, 0.2]
    buckets = [hash_v2("ramp", u) for u in units]
    previous = [choose_variation(n, bucket_ranges(weights, 0.05)) for n in buckets]
    for coverage in (0.1, 0.25, 0.5, 0.75, 0.99, 1.0):
        current = [choose_variation(n, bucket_ranges(weights, coverage)) for n in buckets]
        for before, after in zip(previous, current, strict=True):
            assert before == -1 or after == before
        assert sum(v >= 0 for v in current) > sum(v >= 0 for v in previous)
        previous = current


@settings(max_examples=300, deadline=None)
@given(
    raw=st.lists(st.integers(min_value=1, max_value=100), min_size=2, max_size=5),
    c1=st.floats(min_value=0, max_value=1),
    c2=st.floats(min_value=0, max_value=1),
    n=st.integers(min_value=0, max_value=9999),
)
def test_raising_coverage_never_moves_a_unit_property(raw: list[int], c1: float, c2: float, n: int) -> None:
    weights = [w / sum(raw) for w in raw]
    low, high = sorted((c1, c2))
    before = choose_variation(n / 10000, bucket_ranges(weights, low))
    after = choose_variation(n / 10000, bucket_ranges(weights, high))
    assert before == -1 or after == before
