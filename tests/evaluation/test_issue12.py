"""Issue 12, item by item, through ``evaluate()``: the issue's own figures are the regression cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing_agent.config.loader import load_experiments
from routing_agent.evaluation import DecisionKind, EvaluationSettings
from routing_agent.evaluation.text import ci
from tests.evaluation.issue12 import binary, moved, planned, rows, run, spec

K = DecisionKind
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize(("control", "candidate", "n"), [(4000, 3960, 4000), (5996, 5940, 6000)])
@pytest.mark.parametrize("margin", [None, 0.02])
def test_1_near_one_a_cheaper_candidate_never_takes_traffic(
    control: int, candidate: int, n: int, margin: float | None
) -> None:
    """4,000/4,000 vs 3,960/4,000 (Fisher p ≈ 1.6e-12) used to read "not significant … pick candidate"."""
    s = spec(baseline=0.9, mde=0.05, **({"margin": margin} if margin else {}))
    ev = run(s, rows("control", binary(control, n)), rows("candidate", binary(candidate, n), cost=0.01))
    d = ev.decision
    assert not moved(ev), d.summary
    assert d.kind in (K.ROLLBACK, K.KEEP_RUNNING), d.summary
    c = ev.primary[0]
    assert c.result is not None
    if c.result.reliable:  # a method valid at 0/1 rates: the loss is significant
        assert c.verdict == "loss" and c.result.p_value < 1e-6 and d.kind is K.ROLLBACK
    assert "not significant" not in d.summary


@pytest.mark.parametrize("margin", [None, 0.02])
@pytest.mark.parametrize("worse", [0.02, 0.01])
def test_2_no_difference_after_superiority_is_not_evidence_of_no_loss(
    margin: float | None, worse: float
) -> None:
    """0.85 → 0.83 (one MDE worse) moved traffic in 31.5 % of runs; 1 pp worse in 76 %."""
    s = spec(**({"margin": margin} if margin else {}))
    n = planned(s)
    ev = run(
        s,
        rows("control", binary(round(0.85 * n), n)),
        rows("candidate", binary(round((0.85 - worse) * n), n), cost=0.01),
    )
    assert not moved(ev), ev.decision.summary
    assert ev.decision.winner in (None, "control")
    if ev.decision.kind is K.NO_DIFFERENCE:
        assert "stay on control" in ev.decision.summary
        text = "declare margin" if margin is None else "not shown non-inferior at margin 0.0200"
        assert text in ev.decision.summary


def test_2_with_a_margin_the_cheaper_candidate_is_picked_only_when_non_inferiority_is_shown() -> None:
    s = spec(margin=0.02)
    n = planned(s)
    ev = run(
        s,
        rows("control", binary(round(0.85 * n), n)),
        rows("candidate", binary(round(0.85 * n), n), cost=0.01),
    )
    c = ev.primary[0]
    assert c.ni is not None and c.ni.p_value < 0.025 and c.shown_non_inferior
    assert ev.decision.kind is K.NO_DIFFERENCE and ev.decision.winner == "candidate", ev.decision.summary


JSON_VALID = {"metric": "json_valid", "min": 0.9, "agent": "extractor"}


def test_3_a_guardrail_without_data_is_insufficient_and_blocks_the_ship() -> None:
    """A guardrail scoped to an agent never observed read "held" and the experiment shipped."""
    s = spec(guardrails=[JSON_VALID])
    n = planned(s)
    ev = run(s, rows("control", binary(round(0.85 * n), n)), rows("candidate", binary(round(0.89 * n), n)))
    (g,) = ev.decision.guardrails
    assert g.status == "insufficient_data" and not g.breached
    assert ev.primary[0].verdict == "win"  # the primary alone would ship
    d = ev.decision
    assert d.kind is K.KEEP_RUNNING and d.winner is None, d.summary
    assert "no observations of json_valid from agent 'extractor'" in d.summary
    assert "guardrails: 0 of 1 held, 1 without enough data" in d.summary and "held (" not in d.summary


def test_3_at_50_percent_validity_the_guardrail_rolls_back() -> None:
    s = spec(guardrails=[JSON_VALID])
    n = planned(s)
    valid = [float(i % 2) for i in range(n)]  # 50 % valid
    ev = run(
        s,
        rows("control", binary(round(0.85 * n), n)),
        rows("candidate", binary(round(0.89 * n), n))
        + rows("candidate", valid, metric="json_valid", cost=None, agent="extractor"),
    )
    assert ev.decision.kind is K.ROLLBACK, ev.decision.summary
    assert ev.decision.guardrails[0].status == "breached"


def test_3_below_min_sample_is_insufficient_not_held() -> None:
    s = spec(guardrails=[{"metric": "cost_usd", "max_ratio_to_control": 1.0, "min_sample": 100_000}])
    n = planned(s)
    ev = run(
        s,
        rows("control", binary(round(0.85 * n), n)),
        rows("candidate", binary(round(0.89 * n), n), cost=0.01),
    )
    (g,) = ev.decision.guardrails
    assert g.status == "insufficient_data" and "of the 100,000 units it needs" in g.why_insufficient()
    assert ev.decision.kind is K.KEEP_RUNNING


def test_3_the_shipped_invoice_config_reads_insufficient_data_without_json_validity() -> None:
    s = load_experiments(CONFIGS / "invoice.yaml").get("invoice-extractor")
    n = 2000
    accuracy = [0.95 - 0.1 * (i % 3 == 0) for i in range(n)]
    better = [min(1.0, a + 0.05) for a in accuracy]
    ev = run(
        s,
        rows("control", accuracy, metric="field_accuracy", agent="extractor"),
        rows("candidate", better, metric="field_accuracy", agent="extractor", cost=0.01),
    )
    json_bound = next(g for g in ev.decision.guardrails if g.metric == "json_valid")
    assert json_bound.status == "insufficient_data"
    assert ev.decision.kind is not K.SHIP and not moved(ev), ev.decision.summary


def _crashing(n: int = 5000) -> tuple[list[float | None], list[float | None]]:
    """Control 0.85; the candidate truly 0.83, crashing on 10 % of units — all of them would-be failures."""
    return binary(round(0.85 * n), n), binary(round(0.83 * n), n, lost_failures=n // 10)


@pytest.mark.parametrize("missing", ["failure", "exclude"])
def test_4_a_candidate_that_loses_outcomes_does_not_ship_and_attrition_fires(missing: str) -> None:
    """10 % crashes, truly 2 pp worse: it shipped as a "+7.3 pp win"."""
    control, candidate = _crashing()
    ev = run(spec(missing=missing), rows("control", control), rows("candidate", candidate, cost=0.01))
    check = next(c for c in ev.checks if c.name == "attrition")
    assert not check.passed and "differential attrition" in check.message
    assert check.detail["missing"] == {"candidate": 500, "control": 0}
    assert ev.decision.kind is K.INVALID and not moved(ev)
    c = ev.primary[0]
    assert c.result is not None
    if missing == "failure":  # intention to treat: the crashed units count as failures
        assert c.result.treatment_mean == pytest.approx(0.83) and c.result.treatment_n == 5000
    else:
        assert c.result.treatment_mean == pytest.approx(4150 / 4500)


def test_4_balanced_missingness_is_counted_as_failures_without_an_alarm() -> None:
    n = 5000
    lost = [None if i % 100 == 0 else 1.0 if i % 20 else 0.0 for i in range(n)]
    ev = run(spec(), rows("control", lost), rows("candidate", lost, cost=0.01))
    check = next(c for c in ev.checks if c.name == "attrition")
    assert check.passed and "attrition balanced" in check.message
    c = ev.primary[0]
    assert c.result is not None and c.result.control_n == n
    assert c.result.control_mean == pytest.approx(sum(v or 0.0 for v in lost) / n)


def test_4_a_continuous_metric_counts_a_missing_unit_as_the_worst_value_seen() -> None:
    s = spec(kind="continuous", baseline=0.9, baseline_sd=0.1, mde=0.05)
    values = [0.9 + 0.01 * (i % 10 - 5) for i in range(1000)]
    with_gaps = [None if i % 50 == 0 else v for i, v in enumerate(values)]
    ev = run(s, rows("control", values), rows("candidate", with_gaps, cost=0.01))
    c = ev.primary[0]
    assert c.result is not None and c.result.treatment_n == 1000
    kept = [v for v in with_gaps if v is not None]
    assert c.result.treatment_mean == pytest.approx((sum(kept) + 20 * min(values)) / 1000)
    declared = run(spec(kind="continuous", baseline=0.9, baseline_sd=0.1, mde=0.05, missing_value=0.0),
                   rows("control", values), rows("candidate", with_gaps, cost=0.01))  # fmt: skip
    r = declared.primary[0].result
    assert r is not None and r.treatment_mean == pytest.approx(sum(kept) / 1000)


def test_5_a_significant_gain_smaller_than_the_mde_ships() -> None:
    """Ship required the estimate ≥ MDE: P(ship | +MDE, planned n) was 0.48–0.56; +0.015 < MDE now ships."""
    s = spec()
    n = planned(s)
    ev = run(s, rows("control", binary(round(0.85 * n), n)), rows("candidate", binary(round(0.865 * n), n)))
    c = ev.primary[0]
    assert c.result is not None and c.result.absolute_effect < 0.02 and c.result.p_value < 0.05
    assert c.verdict == "win" and ev.decision.kind is K.SHIP, ev.decision.summary


def test_5_a_gain_shown_smaller_than_the_mde_is_trivial() -> None:
    s = spec(mde=0.1, baseline=0.5)
    ev = run(s, rows("control", binary(2500, 5000)), rows("candidate", binary(2700, 5000)))
    c = ev.primary[0]
    assert c.result is not None and c.result.ci_high < 0.1 and c.verdict == "trivial"
    assert ev.decision.kind is K.NO_DIFFERENCE and ev.decision.winner == "control"


def test_6_an_early_ship_quotes_the_always_valid_ci_and_p() -> None:
    """Early stops quoted fixed-horizon CI [+0.016, +0.054], p < 0.001, not [+0.005, +0.064], p = 0.011."""
    s = spec()
    ev = run(s, rows("control", binary(1275, 1500)), rows("candidate", binary(1410, 1500)))
    c = ev.primary[0]
    assert c.early and c.verdict == "win" and c.sequential is not None and c.result is not None
    d = ev.decision
    assert d.kind is K.SHIP, d.summary
    headline = d.summary.split("; fixed-horizon")[0]
    assert f"always-valid 95% CI {ci(c.sequential.ci_low, c.sequential.ci_high)}" in headline
    assert "fixed-horizon figures, not valid for an early stop" in d.summary
    assert any(r.startswith("early stop: an estimate read when") for r in d.reasons)
    assert c.sequential.ci_low < c.result.ci_low  # the always-valid interval is the wider one


def test_7_the_non_inferiority_primary_sequential_test_is_against_the_margin() -> None:
    """The demo printed "always-valid p = 0.75" (a test of equality) beside an NI p of 0.056."""
    s = spec(test="non_inferiority", margin=0.02)
    ev = run(s, rows("control", binary(1275, 1500)), rows("candidate", binary(1275, 1500)))
    q = ev.primary[0].sequential
    assert q is not None and q.null_value == pytest.approx(-0.02)
    assert q.alternative == "larger" and q.ci_high == float("inf")  # one-sided against the margin
    assert q.p_value < 0.5  # equal arms: evidence against "worse by the margin", not p ≈ 1 of equality


def test_8_guardrails_form_a_bonferroni_family() -> None:
    guardrails = [
        {"metric": "cost_usd", "max_ratio_to_control": 1.0},
        {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_ratio_to_control": 0.1},
    ]
    n = 300
    extra = {"latency_s": 1.0}
    ev = run(spec(guardrails=guardrails), rows("control", binary(255, n), extra=extra),
             rows("candidate", binary(255, n), extra=extra))  # fmt: skip
    tests = [g.test for g in ev.guardrails if g.test is not None]
    assert len(tests) == 3 and all(t.alpha == pytest.approx(0.05 / 3) for t in tests)
    per_bound = run(spec(guardrails=guardrails), rows("control", binary(255, n), extra=extra),
                    rows("candidate", binary(255, n), extra=extra),
                    settings=EvaluationSettings(guardrail_family="per_bound"))  # fmt: skip
    assert all(g.test is not None and g.test.alpha == pytest.approx(0.05) for g in per_bound.guardrails)


def test_8_a_breach_on_an_unreliable_test_does_not_roll_back() -> None:
    s = spec(
        guardrails=[{"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3, "min_sample": 1}]
    )
    ev = run(s, rows("control", binary(7, 8), extra={"latency_s": 1.0}),
             rows("candidate", binary(7, 8), extra={"latency_s": 3.0}))  # fmt: skip
    (g,) = ev.decision.guardrails
    assert g.beyond_bound and not g.breached and g.status == "insufficient_data"
    assert ev.decision.kind is not K.ROLLBACK


def test_9_a_plan_exists_near_one() -> None:
    """Baseline 0.995, MDE 0.005 had no plan at all, so the experiment kept running forever."""
    assert planned(spec(baseline=0.995, mde=0.005)) > 0


def test_10_negative_costs_are_refused_as_a_ratio_with_a_clear_message() -> None:
    """Negative costs read "−1.78× control, CI [0, 0]"."""
    s = spec(guardrails=[{"metric": "cost_usd", "max_ratio_to_control": 1.0, "min_sample": 10}])
    n = planned(s)
    ev = run(s, rows("control", binary(round(0.85 * n), n), cost=-0.02),
             rows("candidate", binary(round(0.89 * n), n), cost=0.035))  # fmt: skip
    (g,) = ev.decision.guardrails
    assert g.ratio is None and g.status == "insufficient_data"
    assert any("negative cost_usd values" in w for w in g.warnings)
    assert "CI [0, 0]" not in ev.decision.summary and "−1.78×" not in ev.decision.summary
    assert ev.decision.kind is not K.SHIP


def test_4_units_the_assignment_store_knows_count_even_without_any_observation() -> None:
    """A candidate that crashes before recording anything: only the assignment store knows those units."""
    from routing_agent.stores.assignments.memory import MemoryStore

    s = spec()
    n = planned(s)
    assignments = MemoryStore()
    for variant in ("control", "candidate"):
        for i in range(n):
            assignments.get_or_set(s.id, f"{variant}-{i}", variant)
    survivors = n - n // 10  # the crashed tenth left no observation at all, not even a cost
    ev = run(
        s,
        rows("control", binary(round(0.85 * n), n)),
        rows("candidate", binary(round(0.85 * survivors), survivors)),  # units candidate-0 … survivors-1
        assignments=assignments,
    )
    check = next(c for c in ev.checks if c.name == "attrition")
    assert check.detail["assigned"] == {"candidate": n, "control": n}
    assert check.detail["missing"]["candidate"] == n // 10 and not check.passed
    assert ev.decision.kind is K.INVALID and not moved(ev)


def test_10_observations_refused_at_ingestion_are_named_in_every_report_format() -> None:
    """NaN/inf values gave NaN CIs; now they are refused at ingestion, counted, and the report says so."""
    import math

    from routing_agent.evaluation import evaluate
    from routing_agent.evaluation.report import render
    from routing_agent.stores.observations import MemoryObservationStore
    from routing_agent.stores.observations.observation import Observation

    s = spec().model_copy(update={"id": "exp-refused"})
    store = MemoryObservationStore()
    store.add(
        [
            Observation(s.id, v, f"{v}-{i}", "resolved", float(i % 2))
            for v in ("control", "candidate")
            for i in range(50)
        ]
    )
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError):
            store.add([Observation(s.id, "candidate", "candidate-x", "resolved", bad)])
    ev = evaluate(s, observations=store)
    check = next(c for c in ev.checks if c.name == "ingestion")
    assert check.passed and check.value == 2
    for fmt in ("md", "html", "json"):
        assert "2 observations refused at ingestion" in render(ev, fmt)
    r = ev.primary[0].result
    assert r is not None and math.isfinite(r.ci_low) and math.isfinite(r.ci_high)
