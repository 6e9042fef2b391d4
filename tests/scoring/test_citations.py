"""Citation measures (Jaccard, exact set, RBO) by hand, extraction conventions, and both scorers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage

from routing_agent.scoring.base import Pair, Sample, Status, observations
from routing_agent.scoring.citations import (
    CitationCorrectnessScorer,
    CitationOptions,
    CitationStabilityScorer,
    citation_list,
    exact_set,
    jaccard,
    rbo,
)


def test_jaccard_and_exact_by_hand() -> None:
    assert jaccard(["a", "b", "c"], ["b", "c", "d"]) == pytest.approx(2 / 4)
    assert jaccard([], []) == 1.0
    assert jaccard(["a"], []) == 0.0
    assert exact_set(["a", "b"], ["b", "a"]) == 1.0
    assert exact_set(["a", "b"], ["a"]) == 0.0


def test_rbo_even_lists_by_hand() -> None:
    # S = abc, L = acb, p = 0.9: X1 = 1, X2 = 1, X3 = 3.
    # (1-p)/p · (1·0.9 + 1/2·0.81 + 3/3·0.729) + (X3/3)·0.9³ = (2.034)/9 + 0.729 = 0.955
    assert rbo(list("abc"), list("acb"), 0.9) == pytest.approx(0.955)
    assert rbo(list("abc"), list("abc")) == pytest.approx(1.0)
    assert rbo(list("abc"), list("xyz")) == 0.0


def test_rbo_uneven_lists_by_hand() -> None:
    # Webber et al. 2010, eq. 32 with S = ab (s = 2), L = acbd (l = 4), p = 0.5:
    # X1..X4 = 1, 1, 2, 2; sum X_d/d p^d = .5 + .125 + .0833 + .03125 = .739583
    # extrapolation sum_{d=3..4} X_s (d-s)/(s d) p^d = 1/6·.125 + 2/8·.0625 = .036458
    # (1-p)/p = 1; tail ((X_l - X_s)/l + X_s/s) p^l = (1/4 + 1/2)·.0625 = .046875 → 0.822917
    assert rbo(list("ab"), list("acbd"), 0.5) == pytest.approx(0.8229166667)
    assert rbo(list("acbd"), list("ab"), 0.5) == pytest.approx(0.8229166667)
    # a list that is a prefix of the other agrees perfectly as far as it goes: RBO_ext extrapolates that
    assert rbo(list("ab"), list("abcd")) == pytest.approx(1.0)
    assert rbo([], []) == 1.0 and rbo([], ["a"]) == 0.0
    with pytest.raises(ValueError):
        rbo(["a"], ["a"], p=1.0)


def _rbo_reference(a: list[str], b: list[str], p: float) -> float:
    """Eq. 32 written literally with set intersections (no incremental bookkeeping)."""
    a = list(dict.fromkeys(a))
    b = list(dict.fromkeys(b))
    S, L = (a, b) if len(a) <= len(b) else (b, a)
    s, ell = len(S), len(L)
    if ell == 0:
        return 1.0
    if s == 0:
        return 0.0
    X = {d: len(set(S[:d]) & set(L[:d])) for d in range(1, ell + 1)}
    total = sum(X[d] / d * p**d for d in range(1, ell + 1))
    total += sum(X[s] * (d - s) / (s * d) * p**d for d in range(s + 1, ell + 1))
    return (1 - p) / p * total + ((X[ell] - X[s]) / ell + X[s] / s) * p**ell


@given(
    st.lists(st.sampled_from("abcdefghij"), max_size=10),
    st.lists(st.sampled_from("abcdefghij"), max_size=10),
    st.floats(0.05, 0.95),
)
def test_rbo_matches_the_literal_formula_and_is_a_bounded_symmetric_similarity(a, b, p) -> None:
    value = rbo(a, b, p)
    assert value == pytest.approx(_rbo_reference(a, b, p), abs=1e-12)
    assert value == pytest.approx(rbo(b, a, p), abs=1e-12)
    assert -1e-12 <= value <= 1 + 1e-12


def test_citation_list_reads_every_convention_in_order() -> None:
    assert citation_list(["d2", "d1", "d2"]) == ["d2", "d1"]
    assert citation_list({"citations": [{"id": "x"}, {"url": "https://e.org"}, 3]}) == [
        "x",
        "https://e.org",
        "3",
    ]
    assert citation_list('{"answer": "…", "citations": ["b", "a"]}') == ["b", "a"]
    assert citation_list("Paris is the capital [doc-7][doc-2]. See also [doc-7].") == ["doc-7", "doc-2"]
    assert citation_list("no marks here") == []
    assert citation_list("[see] x", pattern=None) == []
    message = AIMessage("text [ignored]", response_metadata={"citations": ["m2", "m1"]})
    assert citation_list(message) == ["m2", "m1"]
    tool = AIMessage("", tool_calls=[{"name": "Answer", "args": {"citations": ["t1"]}, "id": "1"}])
    assert citation_list(tool) == ["t1"]
    assert citation_list(AIMessage("prose [p1] and [p2]")) == ["p1", "p2"]
    assert citation_list(["A", "a"], ignore_case=True) == ["a"]


def test_stability_scorer_values_and_details() -> None:
    scorer = CitationStabilityScorer("citation_stability")
    same = Pair(
        control="x [d1][d2]", test="y [d1][d2]", experiment="rag", test_variant="candidate", unit_id="q1"
    )
    assert scorer.score(same).value == 1.0
    drift = Pair(control=["d1", "d2"], test=["d1", "d3"], experiment="rag", unit_id="q2")
    score = scorer.score(drift)
    assert score.value == pytest.approx(1 / 3)
    assert score.details == {"exact": 0.0, "rbo": pytest.approx(rbo(["d1", "d3"], ["d1", "d2"]))}
    obs = observations(score, drift)
    assert {o.metric for o in obs} == {
        "citation_stability",
        "citation_stability.exact",
        "citation_stability.rbo",
    }
    assert all(o.variant == "test" for o in obs)
    by_rbo = CitationStabilityScorer("s", CitationOptions(metric="rbo"))
    assert by_rbo.score(Pair(control=list("abc"), test=list("acb"))).value == pytest.approx(0.955)


def test_correctness_scorer_against_gold() -> None:
    scorer = CitationCorrectnessScorer("cites_gold", CitationOptions(against="gold"))
    gold = {"citations": ["d1", "d2"]}
    exact = scorer.score(Sample(output="… [d2][d1]", reference=gold))
    assert exact.value == 1.0
    partial = scorer.score(Sample(output="… [d1][d9]", reference=gold))
    assert partial.value == 0.0
    assert partial.details["precision"] == 0.5 and partial.details["recall"] == 0.5
    assert partial.details["jaccard"] == pytest.approx(1 / 3)
    recall = CitationCorrectnessScorer("r", CitationOptions(against="gold", metric="recall"))
    assert recall.score(Sample(output=["d1"], reference=["d1", "d2"])).value == 0.5
    assert scorer.score(Sample(output=["d1"], reference=None)).status is Status.SKIPPED
