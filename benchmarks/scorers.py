"""Scorer throughput, side by side with the named peers, in one run, on one core.

1. Deterministic scorers over N outputs (default 100,000): our scorer API (``score`` per item and the
   vectorised ``score_batch``, also with ``Observation`` records built) vs the plain library call it wraps
   and the standard-library peer: ``difflib.SequenceMatcher.ratio`` for fuzzy matching, a ``json.loads`` +
   ``jsonschema`` loop for JSON validity, ``str.casefold`` equality for exact match.
   Target: >= 50,000 fuzzy scores/s on one core.
2. The judge's async concurrency: the simulated judge with a fixed latency (scaled by ``--time-scale``),
   scored with ``ascore_batch`` at several concurrency limits: wall time against the ideal
   ``calls × latency / concurrency`` and the peak number of calls in flight.

    python benchmarks/scorers.py [--n 100000] [--judge-items 200] [--latency 1.0] [--time-scale 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import Field
from rapidfuzz import fuzz

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing_agent.scoring.base import Sample, observations
from routing_agent.scoring.citations import CitationStabilityScorer
from routing_agent.scoring.exact import ExactScorer
from routing_agent.scoring.fuzzy import FuzzyScorer
from routing_agent.scoring.json_fields import JsonFieldsScorer
from routing_agent.scoring.json_schema import JsonSchemaOptions, JsonSchemaScorer
from routing_agent.scoring.judge import LikertJudge, LikertOptions
from routing_agent.scoring.simulated_judge import SimulatedJudge

WORDS = [
    *[
        "refund",
        "invoice",
        "order",
        "shipping",
        "delay",
        "account",
        "password",
        "reset",
        "card",
        "charge",
        "plan",
        "upgrade",
    ],
    *[
        "cancel",
        "subscription",
        "billing",
        "address",
        "delivery",
        "tracking",
        "number",
        "support",
        "agent",
        "ticket",
    ],
    *[
        "policy",
        "days",
        "within",
        "approved",
        "original",
        "payment",
        "method",
        "customer",
        "service",
        "warranty",
        "return",
    ],
]
SCHEMA = {
    "type": "object",
    "required": ["invoice_number", "total", "currency"],
    "properties": {
        "invoice_number": {"type": "string"},
        "total": {"type": "number", "minimum": 0},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
    },
}


def sentence(rng: random.Random, lo: int = 5, hi: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def perturb(rng: random.Random, text: str) -> str:
    words = text.split()
    if rng.random() < 0.5 and len(words) > 2:
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    if rng.random() < 0.3:
        words.append(rng.choice(WORDS))
    return " ".join(words).capitalize() if rng.random() < 0.3 else " ".join(words)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def row(name: str, n: int, seconds: float, base: float | None = None) -> None:
    ratio = f"{base / seconds:7.2f}×" if base else "        "
    print(f"  {name:<52} {n / seconds:>12,.0f} /s  {ratio}")


def text_benchmarks(n: int, rng: random.Random) -> None:
    refs = [sentence(rng) for _ in range(n)]
    outs = [perturb(rng, r) for r in refs]
    samples = [
        Sample(output=o, reference=r, experiment="b", variant="v", unit_id=str(i))
        for i, (o, r) in enumerate(zip(outs, refs, strict=True))
    ]
    fuzzy = FuzzyScorer("sim")
    print(f"\nFuzzy match (Indel ratio), {n:,} outputs of 5-12 words; × = speed-up over difflib")
    t_difflib = timed(
        lambda: [
            difflib.SequenceMatcher(None, o.lower(), r.lower()).ratio()
            for o, r in zip(outs, refs, strict=True)
        ]
    )
    row("peer: difflib.SequenceMatcher.ratio (stdlib)", n, t_difflib, t_difflib)
    t_raw = timed(lambda: [fuzz.ratio(o.lower(), r.lower()) for o, r in zip(outs, refs, strict=True)])
    row("rapidfuzz fuzz.ratio, bare loop (library alone)", n, t_raw, t_difflib)
    t_one = timed(lambda: [fuzzy.score(s) for s in samples])
    row("FuzzyScorer.score per item (normalise + Score)", n, t_one, t_difflib)
    t_batch = timed(lambda: fuzzy.score_batch(samples))
    row("FuzzyScorer.score_batch (rapidfuzz cpdist)", n, t_batch, t_difflib)
    t_obs = timed(
        lambda: [
            observations(sc, s, ts=0.0) for sc, s in zip(fuzzy.score_batch(samples), samples, strict=True)
        ]
    )
    row("score_batch + Observation records", n, t_obs, t_difflib)
    target = "met" if n / t_batch >= 50_000 else "MISSED"
    print(f"  target >= 50,000 fuzzy scores/s on one core: {target} ({n / t_batch:,.0f}/s)")

    print(f"\nExact match, {n:,} outputs")
    t_peer = timed(
        lambda: [o.strip().casefold() == r.strip().casefold() for o, r in zip(outs, refs, strict=True)]
    )
    row("peer: str.strip().casefold() equality", n, t_peer, t_peer)
    exact = ExactScorer("exact")
    t_exact = timed(lambda: exact.score_batch(samples))
    row("ExactScorer.score_batch (NFKC, case, whitespace)", n, t_exact, t_peer)

    docs = []
    for i in range(n):
        doc: dict[str, Any] = {
            "invoice_number": f"INV-{i}",
            "total": round(rng.uniform(1, 999), 2),
            "currency": rng.choice(["EUR", "USD", "GBP"]),
        }
        kind = rng.random()
        if kind < 0.05:
            docs.append(json.dumps(doc)[:-3])  # cut off: parse error
            continue
        if kind < 0.10:
            doc["total"] = -1  # schema error
        docs.append(json.dumps(doc))
    json_samples = [Sample(output=d, reference=None) for d in docs]
    print(f"\nJSON validity against a schema, {n:,} outputs (5% unparseable, 5% schema errors)")
    validator = Draft202012Validator(SCHEMA)

    def peer() -> None:
        for d in docs:
            with contextlib.suppress(ValueError):
                validator.is_valid(json.loads(d))

    t_peer = timed(peer)
    row("peer: json.loads + jsonschema is_valid loop", n, t_peer, t_peer)
    scorer = JsonSchemaScorer("json_valid", JsonSchemaOptions(json_schema=SCHEMA))
    t_js = timed(lambda: scorer.score_batch(json_samples))
    row("JsonSchemaScorer (parse/schema split, first error)", n, t_js, t_peer)
    ref = {"invoice_number": "INV-1", "total": 12.5, "currency": "EUR"}
    field_samples = [Sample(output=d, reference=ref) for d in docs]
    t_fields = timed(lambda: JsonFieldsScorer("fields").score_batch(field_samples))
    row("JsonFieldsScorer (3 fields, per-field + accuracy)", n, t_fields)

    from routing_agent.scoring.base import Pair

    ids = [f"doc-{k}" for k in range(12)]
    pairs = [Pair(control=rng.sample(ids, 3), test=rng.sample(ids, 3)) for _ in range(n)]
    print(f"\nCitation stability, {n:,} pairs of 3 citations (Jaccard, exact set and RBO each)")
    t_cit = timed(lambda: CitationStabilityScorer("stability").score_batch(pairs))
    row("CitationStabilityScorer", n, t_cit)


class InFlight(SimulatedJudge):
    """The fair simulated judge counting its calls in flight (the counter dict is shared by copies)."""

    counts: dict[str, int] = Field(default_factory=lambda: {"now": 0, "peak": 0})

    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
        self.counts["now"] += 1
        self.counts["peak"] = max(self.counts["peak"], self.counts["now"])
        try:
            return await super()._agenerate(messages, stop, run_manager, **kw)
        finally:
            self.counts["now"] -= 1


def judge_benchmark(items: int, latency: float, time_scale: float) -> None:
    call_s = latency * time_scale
    print(
        f"\nJudge async concurrency: {items} Likert verdicts, simulated judge latency {latency:g} s"
        f" × time scale {time_scale:g} = {call_s * 1000:.0f} ms per call"
    )
    print(
        f"  {'concurrency':>11} {'peak in flight':>15} {'wall s':>8} {'ideal s':>8} {'verdicts/s':>11}"
        f" {'speed-up':>9}"
    )
    rng = random.Random(7)
    samples = [Sample(output=sentence(rng), reference=sentence(rng), input="q") for _ in range(items)]
    base: float | None = None
    for concurrency in (1, 4, 16, 64, 256):
        model = InFlight(latency_s=latency, time_scale=time_scale)
        judge = LikertJudge(
            "quality", LikertOptions(judge_model="simjudge:fair", concurrency=concurrency), model=model
        )
        start = time.perf_counter()
        scores = asyncio.run(judge.ascore_batch(samples))
        wall = time.perf_counter() - start
        assert all(s.valid for s in scores)
        base = base or wall
        ideal = -(-items // concurrency) * call_s
        print(
            f"  {concurrency:>11} {model.counts['peak']:>15} {wall:>8.2f} {ideal:>8.2f}"
            f" {items / wall:>11.0f} {base / wall:>8.1f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--judge-items", type=int, default=200)
    parser.add_argument("--latency", type=float, default=1.0, help="simulated judge latency, seconds")
    parser.add_argument("--time-scale", type=float, default=0.02)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    print(f"Python {sys.version.split()[0]}, pinned to one core")
    text_benchmarks(args.n, random.Random(42))
    judge_benchmark(args.judge_items, args.latency, args.time_scale)


if __name__ == "__main__":
    main()
