"""The playbook's worked example, end to end through a SQLite observation store and the real evaluator.

"Support team runs Claude Sonnet. Considers Haiku to cut costs. Primary: ticket resolution rate (binary,
baseline ~0.87). MDE: 0.02 (2pp). Per-arm sample: ~3,600. [...] After 5 days: resolution rate on Haiku is
0.859, Sonnet is 0.871. 95% CI for the difference: [-0.024, 0.000]. Not statistically significant. Cost on
Haiku is 4.2x cheaper per ticket. Guardrails all held." The decision the article reaches — no significant
difference, so the cheaper model can be picked with confidence — is what the evaluator must reach.

Where the article's own figures disagree (pinned below):

* Its formula ``n = 16·p(1−p)/MDE²`` at p = 0.87, MDE = 0.02 gives **4,524** per arm, not ~3,600. 3,600 is
  what the formula gives at p = 0.90 (16·0.9·0.1/0.0004). The exact figure for the test the evaluator runs
  (two-sided unpooled z, 80% power against 0.87 → 0.89 *and* 0.87 → 0.85, the drop binding) is **4,722** per
  arm (4,141 against the rise alone).
* The CI [-0.024, 0.000] is not what ~3,600 per arm gives: at 3,600 per arm the 95% CI of 0.859 − 0.871 is
  **[-0.028, +0.004]**. Half-width 0.012 needs about **6,000 per arm** (1.96·√((0.871·0.129 + 0.859·0.141)/n)
  = 0.012 → n ≈ 6,200; n = 6,000 gives [-0.0242, +0.0002], which rounds to the article's interval).
* With that interval the two-sided p-value is **0.054**: not significant, but only just — the article's
  "[-0.024, 0.000]" sits on the boundary. And the CI still contains −0.02, so "no difference" here means *no
  difference detected*, not "no 2-point loss": the report says so instead of overstating it.
* ~5 days at 12,000 sessions means about 2,400 sessions a day; at that traffic the 9,444 sessions the
  exact plan needs take about 3.9 days.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from routing_agent.evaluation import DecisionKind, evaluate
from routing_agent.stats import compare_proportions, rule_of_thumb
from routing_agent.stats.summaries import SampleSummary
from routing_agent.stores.observations.sqlite import SQLiteObservationStore
from tests.evaluation.support import arm, make_spec

PER_ARM = 6000
FIVE_DAYS_S = 5 * 86_400


def spec(margin: float | None = None):  # type: ignore[no-untyped-def]
    primary = {"name": "resolved", "kind": "binary", "mde": 0.02, "baseline": 0.87}
    if margin is not None:
        primary["margin"] = margin
    return make_spec(
        variants=[
            {"name": "sonnet", "model": "anthropic:claude-sonnet", "control": True},
            {"name": "haiku", "model": "anthropic:claude-haiku"},
        ],
        primary_metric=primary,
        guardrails=[
            {"metric": "latency_s", "statistic": "p95", "max_ratio_to_control": 1.3},  # within 1.3x
            {"metric": "refusal", "max_ratio_to_control": 2.0},  # must not double
            {"metric": "cost_usd", "max_ratio_to_control": 1.0},  # must not rise
        ],
    )


def test_the_articles_figures_checked_against_its_formula() -> None:
    assert rule_of_thumb(0.02, baseline=0.87) == 4524  # not ~3,600
    assert rule_of_thumb(0.02, baseline=0.90) == 3600  # what "~3,600" corresponds to
    at_3600 = compare_proportions(
        SampleSummary.from_counts(3136, 3600), SampleSummary.from_counts(3092, 3600)
    )
    assert (round(at_3600.ci_low, 3), round(at_3600.ci_high, 3)) == (-0.028, 0.004)
    needed = 1.96**2 * (0.871 * 0.129 + 0.859 * 0.141) / 0.012**2
    assert 6200 < needed < 6250  # the sample that gives a ±0.012 interval


def test_worked_example_stays_on_sonnet_without_a_margin_and_picks_haiku_with_one(tmp_path: Path) -> None:
    store = SQLiteObservationStore(tmp_path / "observations.sqlite3")
    pace = FIVE_DAYS_S / PER_ARM  # both arms arrive over five days: 2,400 sessions a day
    store.add(arm("sonnet", PER_ARM, seed=1, rate=0.871, cost=0.042, latency=1.0, calls=2, refusal=0.004,
                  seconds_per_unit=pace))  # fmt: skip
    store.add(arm("haiku", PER_ARM, seed=2, rate=0.859, cost=0.010, latency=0.6, calls=2, refusal=0.004,
                  seconds_per_unit=pace))  # fmt: skip
    ev = evaluate(spec(), observations=store, timeline=True)
    at_mde = evaluate(spec(margin=0.02), observations=store).decision  # the CI still contains −0.02
    supported = evaluate(spec(margin=0.025), observations=store).decision  # the CI's bad edge is −0.0242
    store.close()
    assert at_mde.kind is DecisionKind.NO_DIFFERENCE and at_mde.winner == "sonnet", at_mde.summary
    assert "not shown non-inferior at margin 0.0200" in at_mde.summary
    assert supported.kind is DecisionKind.NO_DIFFERENCE and supported.winner == "haiku", supported.summary
    assert "non-inferior at margin 0.0250" in supported.summary

    d = ev.decision
    assert d.kind is DecisionKind.NO_DIFFERENCE and d.winner == "sonnet", d.summary  # no margin: stay
    (c,) = ev.primary
    r = c.result
    assert r is not None and c.verdict == "no_difference"
    assert (r.control_mean, r.treatment_mean) == (pytest.approx(0.871), pytest.approx(0.859))
    assert (round(r.ci_low, 3), round(r.ci_high, 3)) == (-0.024, 0.0)  # the article's interval
    assert 0.05 < r.p_value < 0.06  # not significant, but only just
    assert "does not rule out a 0.02" in c.note  # the CI still contains a 2-point loss: said, not hidden
    assert ev.cost is not None
    times, low, high = ev.cost.times_cheaper("haiku")  # type: ignore[misc]
    assert 4.0 < low < times < high < 4.4  # "4.2x cheaper per ticket", with its interval
    assert all(not g.breached for g in d.guardrails) and len(d.guardrails) == 3  # "guardrails all held"
    assert "not significant" in d.summary and "guardrails held (3 of 3)" in d.summary
    assert "no difference detected — stay on sonnet" in d.summary and d.summary.endswith("pick sonnet.")
    assert "rules out a loss larger than 0.0242" in d.summary  # what a margin would need
    # the plan and the traffic behind "~5 days"
    assert ev.plan is not None and ev.plan.planned == {"sonnet": 4722, "haiku": 4722} and ev.plan.reached
    assert ev.plan.traffic_per_day is not None and math.isclose(ev.plan.traffic_per_day, 2400, rel_tol=0.01)
    assert math.isclose(9444 / ev.plan.traffic_per_day, 3.93, abs_tol=0.05)
    # the over-time plots replay the five days from the stored rows
    assert ev.timeline and ev.timeline[-1].units == {"sonnet": PER_ARM, "haiku": PER_ARM}
