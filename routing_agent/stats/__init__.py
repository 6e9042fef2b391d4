"""The statistics engine: pure functions over mergeable sufficient statistics, returning frozen records.

Nothing here does I/O or reads a store. The evaluator aggregates observations per unit, sums them per
variant (SQL ``GROUP BY``, a Redis hash, or ``Summary.from_values`` on arrays), and calls:

=============================  =====================================================================
question                       function (module)
=============================  =====================================================================
how many units, how long?      ``plan_sample_size`` (power)
did a rate move?               ``compare_proportions`` (frequentist): Wald z where reliable, else the
                               Miettinen–Nurminen score test and interval (proportions), valid at 0/1
did a per-unit mean move?      ``compare_means`` (frequentist): Welch's t
per-call ratio, clustered      ``compare_ratios`` (ratio): delta method over units
p50/p95/p99 latency            ``compare_quantiles`` (quantiles): clustered quantile delta method
with a pre-period covariate    ``cuped`` (cuped)
no worse than control?         ``non_inferiority`` (noninferiority): absolute or relative margin
the same, within ±margin?      ``equivalence`` (noninferiority): TOST
guardrail after every batch    ``sequential_test`` (sequential): mSPRT, always-valid; two-sided, or
                               one-sided against a margin (non-inferiority)
is the split what we set?      ``srm_test`` (srm)
many metrics / arms            ``adjust_p_values`` (multiplicity): Holm, Benjamini–Hochberg
does it hold per segment?      ``analyze_segments`` (segments)
=============================  =====================================================================

Every comparison returns an ``EffectResult`` (or a subclass with extra fields): control and treatment
estimates, absolute effect with CI, relative effect (on |control|) with a delta-method CI and p-value,
statistic, p-value, method name and ``method_id``, and ``reliable`` / ``warnings``. Data never makes a
function raise or return NaN: a zero variance or a tiny sample gives a result with ``reliable=False`` and the
reason in ``warnings``; an all-success arm switches a proportion to the score test, which stays valid.
"""

from __future__ import annotations

__all__ = [
    "ClusteredValues",
    "CovariateSummary",
    "EffectResult",
    "QuantileEstimate",
    "RatioSummary",
    "SampleSizePlan",
    "SampleSummary",
    "SegmentAnalysis",
    "SequentialResult",
    "SrmResult",
    "adjust_p_values",
    "analyze_segments",
    "as_json",
    "compare_means",
    "compare_proportions",
    "compare_quantiles",
    "compare_ratios",
    "cuped",
    "dunnett_critical_value",
    "equivalence",
    "estimate_quantile",
    "non_inferiority",
    "parse_allocation",
    "plan_sample_size",
    "power_means",
    "power_proportions",
    "rule_of_thumb",
    "score_interval",
    "score_test_proportions",
    "sequential_test",
    "srm_test",
    "validate_plan_arguments",
]

from routing_agent.stats.cuped import cuped
from routing_agent.stats.frequentist import compare_means, compare_proportions
from routing_agent.stats.multiplicity import adjust_p_values, dunnett_critical_value
from routing_agent.stats.noninferiority import equivalence, non_inferiority
from routing_agent.stats.power import (
    SampleSizePlan,
    parse_allocation,
    plan_sample_size,
    power_means,
    power_proportions,
    rule_of_thumb,
    validate_plan_arguments,
)
from routing_agent.stats.proportions import score_interval, score_test_proportions
from routing_agent.stats.quantiles import (
    ClusteredValues,
    QuantileEstimate,
    compare_quantiles,
    estimate_quantile,
)
from routing_agent.stats.ratio import compare_ratios
from routing_agent.stats.results import EffectResult, as_json
from routing_agent.stats.segments import SegmentAnalysis, analyze_segments
from routing_agent.stats.sequential import SequentialResult, sequential_test
from routing_agent.stats.srm import SrmResult, srm_test
from routing_agent.stats.summaries import CovariateSummary, RatioSummary, SampleSummary
