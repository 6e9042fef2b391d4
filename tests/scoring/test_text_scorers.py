"""Exact and fuzzy scorers against hand-computed values."""

from __future__ import annotations

import difflib

import pytest
from rapidfuzz import fuzz

from routing_agent.scoring.base import Sample, Status, observations
from routing_agent.scoring.exact import ExactOptions, ExactScorer, as_number
from routing_agent.scoring.fuzzy import FuzzyOptions, FuzzyScorer
from routing_agent.scoring.normalize import NormalizeOptions, Normalizer


def s(output, reference, **kw) -> Sample:
    return Sample(output=output, reference=reference, experiment="e", variant="v", unit_id="u", **kw)


def test_normalizer_steps() -> None:
    n = Normalizer(NormalizeOptions(remove_punctuation=True, strip_accents=True))
    assert n("  Café,   CRÈME!  ") == "cafe creme"
    assert Normalizer(NormalizeOptions(ignore_case=False))("ABC") == "ABC"
    assert Normalizer()("ＡＢＣ１２") == "abc12"  # NFKC folds full-width letters and digits


@pytest.mark.parametrize(
    ("output", "reference", "options", "expected"),
    [
        ("Billing", "billing", {}, 1.0),
        ("  billing \n", "Billing", {}, 1.0),
        ("billing.", "billing", {}, 0.0),
        ("billing.", "billing", {"remove_punctuation": True}, 1.0),
        ("Billing", "billing", {"ignore_case": False}, 0.0),
        ("1,234.50", "1234.5", {}, 0.0),
        ("1,234.50", "1234.5", {"numeric_tolerance": 0.0}, 1.0),
        ("$1,234.51", "1234.5", {"numeric_tolerance": 0.02}, 1.0),
        ("1234.6", "1234.5", {"numeric_tolerance": 0.02}, 0.0),
        ("refund", ["billing", "Refund"], {}, 1.0),
        ("shipping", ["billing", "refund"], {}, 0.0),
        ("refund", ["billing", "refund"], {"alternatives": False}, 0.0),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, {}, 1.0),
    ],
)
def test_exact(output, reference, options, expected) -> None:
    score = ExactScorer("cat", ExactOptions(**options)).score(s(output, reference))
    assert score.value == expected
    assert score.label == ("match" if expected else "mismatch")


def test_exact_without_reference_is_skipped_and_records_nothing() -> None:
    sample = s("billing", None)
    score = ExactScorer("cat").score(sample)
    assert score.status is Status.SKIPPED
    assert observations(score, sample) == []


def test_as_number() -> None:
    assert as_number("€1,000") == 1000.0
    assert as_number("-3.5") == -3.5
    assert as_number("12 apples") is None
    assert as_number("1,23") is None


def test_fuzzy_ratio_hand_computed() -> None:
    # Indel distance kitten→sitting: LCS "ittn" (4), 6 + 7 - 2·4 = 5 edits; similarity 1 - 5/13.
    score = FuzzyScorer("sim", FuzzyOptions()).score(s("kitten", "sitting"))
    assert score.value == pytest.approx(1 - 5 / 13)
    assert score.status is Status.OK


def test_fuzzy_methods_and_threshold() -> None:
    token_set = FuzzyScorer("sim", FuzzyOptions(method="token_set_ratio"))
    assert token_set.score(s("refund issued for order 42", "order 42 refund")).value == 1.0
    binary = FuzzyScorer("sim", FuzzyOptions(threshold=0.6))
    hit, miss = binary.score(s("kitten", "sitting")), binary.score(s("kitten", "bus"))
    assert (hit.value, hit.details["similarity"]) == (1.0, pytest.approx(1 - 5 / 13))
    assert miss.value == 0.0
    obs = observations(hit, s("kitten", "sitting"))
    assert {o.metric: o.value for o in obs} == {"sim": 1.0, "sim.similarity": pytest.approx(1 - 5 / 13)}


def test_fuzzy_best_alternative() -> None:
    score = FuzzyScorer("sim").score(s("kitten", ["bus", "sitting", "kitten"]))
    assert score.value == 1.0


def test_fuzzy_batch_equals_single_and_agrees_with_rapidfuzz() -> None:
    scorer = FuzzyScorer("sim", FuzzyOptions(method="token_sort_ratio"))
    pairs = [
        ("The invoice total", "invoice total the"),
        ("abc", "abd"),
        ("", ""),
        ("x", None),
        ("a", ["a", "b"]),
    ]
    samples = [s(o, r) for o, r in pairs]
    batch = scorer.score_batch(samples)
    assert batch == [scorer.score(x) for x in samples]
    assert batch[1].value == pytest.approx(fuzz.token_sort_ratio("abc", "abd") / 100)
    assert batch[3].status is Status.SKIPPED
    # with one matching block, Indel similarity equals difflib's Ratcliff/Obershelp 2M/T
    assert batch[1].value == pytest.approx(difflib.SequenceMatcher(None, "abc", "abd").ratio(), abs=0.01)


async def test_async_twins_match_sync() -> None:
    scorer = FuzzyScorer("sim")
    samples = [s(f"answer {i}", f"answer {i % 3}") for i in range(2500)]
    assert await scorer.ascore_batch(samples) == scorer.score_batch(samples)
    assert await scorer.ascore(samples[0]) == scorer.score(samples[0])
