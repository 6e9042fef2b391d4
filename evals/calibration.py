"""Monte Carlo calibration of the statistics engine: false positives, peeking, power, CUPED.

    python -m evals.calibration                 # CI size (well under a minute on 2 cores)
    python -m evals.calibration --size full     # 10,000 A/A experiments per method
    python -m evals.calibration --experiments 4000 --seed 7
    python -m evals.calibration --no-decisions  # the statistics only

After the statistics, the decision rules are calibrated through ``evaluate()`` itself (``evals/decisions.py``,
issue 12's acceptance table; its own CLI is ``python -m evals.decisions``).

Every experiment is simulated from raw per-unit data and analysed with the library's own functions on
summaries, exactly as the evaluator calls them. The table reports, with the bound each row must meet:

* A/A false-positive rate at α = 5% for every fixed-horizon method (non-inferiority: at the margin, where
  H0 is exactly true). Bounds: [4%, 6%], widened to α ± 3.29·√(α(1−α)/E) when E experiments are too few
  for that (99.9% of a calibrated method's runs fall inside). The naive per-call test of session-clustered
  data is shown for contrast and must *exceed* the bound.
* Peeking after every 100 units per arm: the fixed-horizon z test's "ever significant" rate explodes;
  the mSPRT's stays ≤ 5%.
* Power at the calculator's sample size: within ±3pp of the promise (widened to 3.29 Monte Carlo SEs).
* CUPED: the variance of the adjusted effect over the unadjusted one is 1 − ρ² (bound ±0.02, widened to
  3.29 batch-means SEs), and the mean reported ``variance_reduction`` is ρ².
* Family-wise error of Holm and BH over five null metrics, and SRM false alarms at p < 0.001.
"""

from __future__ import annotations

__all__ = ["Row", "main", "run"]

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from routing_agent.stats import (
    ClusteredValues,
    CovariateSummary,
    RatioSummary,
    SampleSummary,
    adjust_p_values,
    compare_means,
    compare_proportions,
    compare_quantiles,
    compare_ratios,
    cuped,
    non_inferiority,
    plan_sample_size,
    sequential_test,
    srm_test,
)

ALPHA = 0.05
Z999 = 3.29  # two-sided 99.9% normal quantile: Monte Carlo bounds
SIZES = {
    "ci": {"main": 5000, "heavy": 1500, "peek": 1500, "power": 2000},
    "full": dict.fromkeys(("main", "heavy", "peek", "power"), 10_000),
}


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, the value, the target, and the bound it must meet."""

    section: str
    name: str
    value: float
    target: float
    low: float
    high: float
    experiments: int

    @property
    def ok(self) -> bool:
        """Whether the value is inside its bound."""
        return self.low <= self.value <= self.high


def _mc(p: float, e: int) -> float:
    return Z999 * math.sqrt(p * (1 - p) / e)


def _fpr_row(name: str, hits: int, e: int) -> Row:
    se = _mc(ALPHA, e)
    return Row("A/A false positives", name, hits / e, ALPHA, min(0.04, ALPHA - se), max(0.06, ALPHA + se), e)


def _rates(c: int, n_c: int, t: int, n_t: int) -> tuple[SampleSummary, SampleSummary]:
    """Control and treatment summaries of a 0/1 outcome: ``c`` of ``n_c`` units, ``t`` of ``n_t``."""
    return SampleSummary.from_counts(c, n_c), SampleSummary.from_counts(t, n_t)


def _count(e: int, trial: Callable[[], bool]) -> int:
    return sum(1 for _ in range(e) if trial())


def _sessions(
    rng: np.random.Generator, n: int, calls_mean: float, rate: float, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    calls = 1.0 + rng.poisson(calls_mean - 1, n)
    errors = rng.binomial(calls.astype(np.int64), rng.beta(rate * spread, (1 - rate) * spread, n))
    return errors.astype(np.float64), calls


def _latencies(rng: np.random.Generator, n: int) -> ClusteredValues:
    calls = 1 + rng.poisson(4, n)
    units = np.repeat(np.arange(n), calls)
    return ClusteredValues(rng.lognormal(0, 0.4, n)[units] * rng.lognormal(0, 0.5, units.size), units)


def aa_rows(rng: np.random.Generator, e: int, e_heavy: int) -> list[Row]:
    """False-positive rates of every fixed-horizon method on A/A data."""
    rows = []
    counts = rng.binomial(1000, 0.3, (e, 2))
    for pooled in (False, True):
        hits = sum(
            compare_proportions(*_rates(c, 1000, t, 1000), pooled=pooled).p_value < ALPHA for c, t in counts
        )
        rows.append(_fpr_row(f"two-proportion z ({'pooled' if pooled else 'unpooled'}), n=1000", hits, e))

    def welch() -> bool:
        x, y = rng.lognormal(0, 1, 500), rng.lognormal(0, 1, 500)
        return compare_means(SampleSummary.from_values(x), SampleSummary.from_values(y)).p_value < ALPHA

    rows.append(_fpr_row("Welch's t, lognormal(0, 1), n=500", _count(e, welch), e))

    naive_hits = unit_hits = 0
    for _ in range(e):
        (ec, cc), (et, ct) = (_sessions(rng, 500, 10, 0.1, 4.0) for _ in range(2))
        naive = compare_proportions(*_rates(ec.sum(), cc.sum(), et.sum(), ct.sum()))
        naive_hits += naive.p_value < ALPHA
        unit_hits += (
            compare_ratios(RatioSummary.from_values(ec, cc), RatioSummary.from_values(et, ct)).p_value < ALPHA
        )
    rows.append(_fpr_row("delta-method ratio, 500 sessions x ~10 calls", unit_hits, e))
    naive_row = _fpr_row("naive per-call z on the same data (must FAIL)", naive_hits, e)
    rows.append(Row(naive_row.section, naive_row.name, naive_row.value, ALPHA, naive_row.high, 1.0, e))

    def cuped_trial() -> bool:
        x = rng.normal(0, 1, (2, 500))
        y = 0.7 * x + math.sqrt(1 - 0.49) * rng.normal(0, 1, (2, 500))
        r = cuped(CovariateSummary.from_values(y[0], x[0]), CovariateSummary.from_values(y[1], x[1]))
        return r.p_value < ALPHA

    rows.append(_fpr_row("CUPED + Welch, rho=0.7, n=500", _count(e, cuped_trial), e))

    for q in (0.5, 0.95):
        hits = _count(
            e_heavy,
            lambda q=q: compare_quantiles(_latencies(rng, 500), _latencies(rng, 500), q=q).p_value < ALPHA,
        )
        rows.append(_fpr_row(f"p{100 * q:g} quantile delta, 500 sessions x ~5 calls", hits, e_heavy))

    ni = rng.binomial(2000, [0.85, 0.83], (e, 2))  # true difference = -margin: H0 holds with equality
    hits = sum(
        non_inferiority(*_rates(c, 2000, t, 2000), margin=0.02, kind="proportion").p_value < ALPHA
        for c, t in ni
    )
    rows.append(_fpr_row("non-inferiority, rate, margin 0.02 at the boundary", hits, e))

    def ni_relative() -> bool:  # latency 10% slower, margin 10% relative, lower is better
        c, t = rng.lognormal(0, 0.5, 1000), rng.lognormal(math.log(1.1), 0.5, 1000)
        r = non_inferiority(
            SampleSummary.from_values(c),
            SampleSummary.from_values(t),
            margin=0.1,
            relative=True,
            direction="decrease",
        )
        return r.p_value < ALPHA

    rows.append(_fpr_row("non-inferiority, mean, 10% relative, lower-better", _count(e, ni_relative), e))
    return rows


def peeking_rows(rng: np.random.Generator, e: int, looks: int = 30, batch: int = 100) -> list[Row]:
    """Look after every ``batch`` units per arm: fixed-horizon z vs the mSPRT."""
    fixed_hits = seq_hits = mean_hits = 0
    for _ in range(e):
        xs = np.cumsum(rng.binomial(1, 0.2, (2, looks * batch)), axis=1)
        v = rng.lognormal(0, 0.6, (2, looks * batch))
        sums, squares = np.cumsum(v, axis=1), np.cumsum(v * v, axis=1)
        fixed = seq = seq_mean = False
        prev = prev_mean = None
        for k in range(1, looks + 1):
            n = k * batch
            c, t = _rates(xs[0, n - 1], n, xs[1, n - 1], n)
            fixed |= compare_proportions(c, t).p_value < ALPHA
            prev = sequential_test(c, t, kind="proportion", previous=prev)
            seq |= prev.p_value < ALPHA
            mc = SampleSummary(n, sums[0, n - 1], squares[0, n - 1])
            mt = SampleSummary(n, sums[1, n - 1], squares[1, n - 1])
            prev_mean = sequential_test(mc, mt, previous=prev_mean)
            seq_mean |= prev_mean.p_value < ALPHA
        fixed_hits += fixed
        seq_hits += seq
        mean_hits += seq_mean
    section = f"peeking: {looks} looks, every {batch} units/arm"
    return [
        Row(section, "fixed-horizon z, ever p<0.05 (must explode)", fixed_hits / e, ALPHA, 0.15, 1.0, e),
        Row(section, "mSPRT rate, ever p<0.05", seq_hits / e, ALPHA, 0.0, ALPHA, e),
        Row(section, "mSPRT mean (lognormal), ever p<0.05", mean_hits / e, ALPHA, 0.0, ALPHA, e),
    ]


def power_rows(rng: np.random.Generator, e: int) -> list[Row]:
    """Empirical power at the calculator's sample size vs the promised power."""
    rows = []

    def row(name: str, hits: int, promised: float) -> Row:
        slack = max(0.03, _mc(promised, e))
        return Row("power at the planned n", name, hits / e, promised, promised - slack, promised + slack, e)

    for weights in ((0.5, 0.5), (0.8, 0.2)):
        plan = plan_sample_size(baseline=0.85, mde=0.02, weights=weights)
        nc, nt = plan.n_per_arm
        cs, ts = rng.binomial(nc, 0.85, e), rng.binomial(nt, 0.83, e)  # the drop: the binding direction
        hits = sum(
            compare_proportions(*_rates(c, nc, t, nt)).p_value < ALPHA for c, t in zip(cs, ts, strict=True)
        )
        split = "/".join(f"{100 * w:g}" for w in weights)
        rows.append(row(f"rate 0.85 -> 0.83, {split}, n={nc}/{nt}", hits, plan.achieved_power))

    plan = plan_sample_size(baseline=0.85, mde=0.02, test="non-inferiority", margin=0.02)
    n = plan.n_per_arm[0]
    cs, ts = rng.binomial(n, 0.85, e), rng.binomial(n, 0.85, e)
    hits = sum(
        non_inferiority(*_rates(c, n, t, n), margin=0.02, kind="proportion").p_value < ALPHA
        for c, t in zip(cs, ts, strict=True)
    )
    rows.append(row(f"non-inferiority, margin 0.02, n={n}", hits, plan.achieved_power))

    plan = plan_sample_size(baseline=2.0, sd=1.5, mde=0.1)
    n = plan.n_per_arm[0]

    def welch() -> bool:
        c, t = rng.normal(2.0, 1.5, n), rng.normal(2.1, 1.5, n)
        return compare_means(SampleSummary.from_values(c), SampleSummary.from_values(t)).p_value < ALPHA

    rows.append(row(f"mean +0.1 (sd 1.5), Welch, n={n}", _count(e, welch), plan.achieved_power))

    plan = plan_sample_size(baseline=0.85, mde=0.02, arms=3)
    n = plan.n_per_arm[0]
    hits = 0
    for c, t1, t2 in zip(
        rng.binomial(n, 0.85, e), rng.binomial(n, 0.83, e), rng.binomial(n, 0.85, e), strict=True
    ):
        control = SampleSummary.from_counts(c, n)
        ps = [compare_proportions(control, SampleSummary.from_counts(t, n)).p_value for t in (t1, t2)]
        hits += adjust_p_values(ps, method="bonferroni").reject[0]
    rows.append(row(f"3 arms, Bonferroni, n={n}/arm (treatment-1 vs control)", hits, plan.achieved_power))
    return rows


def cuped_rows(rng: np.random.Generator, e: int, n: int = 500, batches: int = 20) -> list[Row]:
    """CUPED's variance reduction vs the theoretical 1 − ρ² ratio of variances."""
    rows = []
    for rho in (0.3, 0.5, 0.7, 0.9):
        adjusted, raw, reported = np.empty(e), np.empty(e), np.empty(e)
        for i in range(e):
            x = rng.normal(0, 1, (2, n))
            y = rho * x + math.sqrt(1 - rho * rho) * rng.normal(0, 1, (2, n))
            r = cuped(CovariateSummary.from_values(y[0], x[0]), CovariateSummary.from_values(y[1], x[1]))
            adjusted[i], raw[i], reported[i] = (
                r.absolute_effect,
                y[1].mean() - y[0].mean(),
                r.variance_reduction,
            )
        achieved = 1 - adjusted.var() / raw.var()
        per_batch = [
            1 - a.var() / b.var()
            for a, b in zip(np.array_split(adjusted, batches), np.array_split(raw, batches), strict=True)
        ]
        slack = max(0.02, Z999 * float(np.std(per_batch, ddof=1)) / math.sqrt(batches))
        section = "CUPED variance reduction"
        rows.append(
            Row(
                section,
                f"rho={rho}: 1 - Var(adj)/Var(raw) across runs",
                achieved,
                rho * rho,
                rho * rho - slack,
                rho * rho + slack,
                e,
            )
        )
        rows.append(
            Row(
                section,
                f"rho={rho}: mean reported variance_reduction",
                float(reported.mean()),
                rho * rho,
                rho * rho - 0.02,
                rho * rho + 0.02,
                e,
            )
        )
    return rows


def family_rows(rng: np.random.Generator, e: int) -> list[Row]:
    """Family-wise error of Holm / BH over five null metrics; SRM false alarms."""
    holm = bh = 0
    for _ in range(e):
        counts = rng.binomial(1000, 0.3, (5, 2))
        ps = [compare_proportions(*_rates(c, 1000, t, 1000)).p_value for c, t in counts]
        holm += any(adjust_p_values(ps, method="holm").reject)
        bh += any(adjust_p_values(ps, method="bh").reject)
    counts = rng.multinomial(10_000, [0.8, 0.2], e)
    srm = sum(srm_test(list(c), [0.8, 0.2]).mismatch for c in counts)
    section = "families and SRM"
    return [
        Row(
            section,
            "Holm, 5 null metrics: any rejection (FWER)",
            holm / e,
            ALPHA,
            0.0,
            ALPHA + _mc(ALPHA, e),
            e,
        ),
        Row(
            section, "BH, 5 null metrics: any rejection (= FDR)", bh / e, ALPHA, 0.0, ALPHA + _mc(ALPHA, e), e
        ),
        Row(
            section,
            "SRM at p<0.001, 80/20 split: false alarms",
            srm / e,
            0.001,
            0.0,
            0.001 + _mc(0.001, e),
            e,
        ),
    ]


def run(size: str = "ci", experiments: int | None = None, seed: int = 20240601) -> list[Row]:
    """Run every section; ``experiments`` overrides the size preset for every section."""
    preset = dict(SIZES[size])
    if experiments is not None:
        preset = dict.fromkeys(preset, experiments)
    rng = np.random.default_rng(seed)
    return (
        aa_rows(rng, preset["main"], preset["heavy"])
        + peeking_rows(rng, preset["peek"])
        + power_rows(rng, preset["power"])
        + cuped_rows(rng, preset["power"])
        + family_rows(rng, preset["main"])
    )


def format_table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table grouped by section."""
    lines, section = [], None
    head = f"{'':2}{'method':58} {'value':>8} {'target':>8} {'bound':>17} {'runs':>6}  ok"
    for r in rows:
        if r.section != section:
            section = r.section
            lines += ["", section, head]
        bound = f"[{r.low:.4f}, {r.high:.4f}]"
        lines.append(
            f"  {r.name:58} {r.value:8.4f} {r.target:8.4f} {bound:>17} {r.experiments:6d}  "
            f"{'yes' if r.ok else 'NO'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the calibration table; exit 1 if any row is outside its bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="ci")
    parser.add_argument("--experiments", type=int, default=None, help="A/A experiments per method")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--no-decisions", action="store_true", help="skip the decision-level table (evals/decisions.py)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = run(args.size, args.experiments, args.seed)
    print(format_table(rows))
    failed = [r for r in rows if not r.ok]
    print(
        f"\n{len(rows) - len(failed)}/{len(rows)} rows within bounds in {time.perf_counter() - start:.1f} s"
    )
    decided = 0
    if not args.no_decisions:
        from evals import decisions

        print("\ndecision rules, through evaluate()\n")
        decided = decisions.main(["--size", args.size])
    return 1 if failed or decided else 0


if __name__ == "__main__":
    sys.exit(main())
