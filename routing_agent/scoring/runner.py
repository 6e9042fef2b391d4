"""Offline scoring over stored outputs, and how a scorer entry finds output, reference and question.

``score_records(records, experiment=spec)`` scores stored ``OutputRecord``s with the experiment's scorers;
records of the control and of a test variant that share a ``key`` (the input's id) form the pairs of the
pairwise scorers (pairwise judge, citation stability). ``ascore_records`` is the async twin: scorers run
concurrently and judges keep at most ``concurrency`` calls in flight. Observations go to ``sink`` as well
as into the returned ``ScoringResult``; with ``events=True`` each score is attached to the record's span.
A scorer that fails is counted and logged once; the others go on.
"""

from __future__ import annotations

__all__ = ["ScorerEntry", "ScoringResult", "ascore_records", "output_of", "question_of", "score_records"]

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry._logs import LoggerProvider

from routing_agent.config.spec import ExperimentSpec, ScorerSpec
from routing_agent.scoring.base import Pair, Sample, Score, Status, observations
from routing_agent.scoring.events import record_evaluation
from routing_agent.scoring.factory import AnyScorer, build_scorers, select
from routing_agent.scoring.outputs import INPUT_KEYS, OutputRecord, lookup
from routing_agent.scoring.sinks import ScoringStats, emit
from routing_agent.stores.observations.observation import Observation

logger = logging.getLogger("routing_agent.scoring")

ScorerEntry = tuple[ScorerSpec, AnyScorer]


def question_of(spec: ScorerSpec, scorer: AnyScorer, roots: Sequence[Any]) -> Any:
    """The judge's question: the scorer's ``input_field``, else the first of ``INPUT_KEYS`` found."""
    field_name = getattr(getattr(scorer, "options", None), "input_field", None)
    if field_name is not None:
        return lookup(field_name, *roots)
    for key in INPUT_KEYS:
        found = lookup(key, *roots)
        if found is not None:
            return found
    return None


def output_of(spec: ScorerSpec, roots: Sequence[Any]) -> Any:
    """The scored output in a state (or a stored final state); None when there is none.

    ``output_field`` when given; otherwise the key named like the agent, else the last of ``messages``;
    a ``citations`` scorer without either reads the state itself (its ``key`` option, ``citations``).
    """
    if spec.output_field is not None:
        return lookup(spec.output_field, *roots)
    found = lookup(spec.agent, *roots)
    if found is not None:
        return found
    for root in roots:
        messages = root.get("messages") if isinstance(root, Mapping) else None
        if isinstance(messages, list) and messages:
            return messages[-1]
    if spec.type == "citations" and roots:
        return roots[0]
    return None


@dataclass
class ScoringResult:
    """What a scoring run produced."""

    observations: list[Observation] = field(default_factory=list)
    scores: list[tuple[Sample | Pair, Score]] = field(default_factory=list)
    stats: ScoringStats = field(default_factory=ScoringStats)

    def summary(self) -> list[dict[str, Any]]:
        """Per metric and variant: valid values, their mean, and invalid and skipped counts.

        Details appear as their own metrics (``preference.position_bias``: its mean is the position-bias
        rate; ``quality.invalid``: the invalid-verdict rate; ``json_valid.parse_error`` …).
        """
        rows: dict[tuple[str, str], dict[str, Any]] = {}

        def row(metric: str, variant: str) -> dict[str, Any]:
            key = (metric, variant)
            if key not in rows:
                rows[key] = {
                    "scorer": metric,
                    "variant": variant,
                    "n": 0,
                    "sum": 0.0,
                    "invalid": 0,
                    "skipped": 0,
                }
            return rows[key]

        for item, score in self.scores:
            variant = item.test_variant if isinstance(item, Pair) else item.variant
            main = row(score.name, variant)
            if score.valid:
                assert score.value is not None
                main["n"] += 1
                main["sum"] += score.value
            elif score.status is Status.INVALID:
                main["invalid"] += 1
            else:
                main["skipped"] += 1
            for suffix, value in score.details.items():
                detail = row(f"{score.name}.{suffix}", variant)
                detail["n"] += 1
                detail["sum"] += value
        out = []
        for entry in rows.values():
            total = entry.pop("sum")
            entry["mean"] = total / entry["n"] if entry["n"] else None
            out.append(entry)
        return sorted(out, key=lambda r: (r["scorer"], r["variant"]))

    def values(self, name: str, variant: str | None = None) -> list[float]:
        """The valid values of scorer ``name`` (optionally of one variant's items)."""
        out = []
        for item, score in self.scores:
            item_variant = item.test_variant if isinstance(item, Pair) else item.variant
            if score.name == name and score.valid and (variant is None or item_variant == variant):
                assert score.value is not None
                out.append(score.value)
        return out


def _sample(spec: ScorerSpec, scorer: AnyScorer, record: OutputRecord) -> Sample:
    roots = record.roots()
    output = output_of(spec, (record.output,)) if isinstance(record.output, Mapping) else record.output
    reference = lookup(spec.reference_field, *roots) if spec.reference_field else record.reference
    return Sample(
        output=output,
        reference=reference,
        input=question_of(spec, scorer, roots) if isinstance(record.input, Mapping) else record.input,
        experiment=record.experiment,
        variant=record.variant,
        unit_id=record.unit_id,
        agent=record.agent or spec.agent,
        segments=record.segments,
        trace_id=record.trace_id,
        span_id=record.span_id,
        key=f"{record.key}:{record.variant}:{record.agent or spec.agent or '-'}" if record.key else None,
    )


def _pairs(spec: ScorerSpec, scorer: AnyScorer, records: Sequence[OutputRecord], control: str) -> list[Pair]:
    groups: dict[tuple[str, str, str | None], dict[str, OutputRecord]] = defaultdict(dict)
    for record in records:
        groups[(record.experiment, record.key or record.unit_id, record.agent)][record.variant] = record
    pairs = []
    for (experiment, key, agent), by_variant in groups.items():
        base = by_variant.get(control)
        if base is None:
            continue
        for variant, other in sorted(by_variant.items()):
            if variant == control:
                continue
            c, t = _sample(spec, scorer, base), _sample(spec, scorer, other)
            pairs.append(
                Pair(
                    control=c.output,
                    test=t.output,
                    input=c.input,
                    reference=c.reference,
                    experiment=experiment,
                    control_variant=control,
                    test_variant=variant,
                    unit_id=other.unit_id,
                    agent=agent or spec.agent,
                    segments=other.segments,
                    trace_id=other.trace_id,
                    span_id=other.span_id,
                    key=f"{key}:{control}:{variant}:{agent or spec.agent or '-'}",
                )
            )
    return pairs


def _items(
    entry: ScorerEntry, records: Sequence[OutputRecord], control: str | None, stats: ScoringStats
) -> list[Any]:
    """The samples (or pairs) of one scorer; those whose output is missing are counted, not scored."""
    spec, scorer = entry
    mine = [r for r in records if spec.agent is None or r.agent in (None, spec.agent)]
    if scorer.pairwise:
        if control is None:
            raise ValueError(f"scorer '{spec.name}' compares variants: pass experiment= or control=")
        items: list[Any] = _pairs(spec, scorer, mine, control)
        kept = [p for p in items if p.control is not None and p.test is not None]
    else:
        items = [_sample(spec, scorer, r) for r in mine]
        kept = [s for s in items if s.output is not None]
    stats.missing(spec.name, spec.output_field or spec.agent, len(items) - len(kept))
    return kept


def _collect(
    result: ScoringResult,
    name: str,
    *,
    items: Sequence[Any],
    scores: Sequence[Score],
    events: bool,
    logger_provider: LoggerProvider | None,
) -> list[Observation]:
    batch: list[Observation] = []
    for item, score in zip(items, scores, strict=True):
        result.stats.add(name, score)
        result.scores.append((item, score))
        batch.extend(observations(score, item))
        if events and item.trace_id and item.span_id:
            record_evaluation(
                score, trace_id=item.trace_id, span_id=item.span_id, logger_provider=logger_provider
            )
    return batch


def _entries(
    scorers: Sequence[ScorerEntry] | None, experiment: ExperimentSpec | None, mode: str | None
) -> list[ScorerEntry]:
    if scorers is None:
        if experiment is None:
            raise ValueError("pass scorers= or experiment=")
        scorers = build_scorers(experiment)
    return select(scorers, mode=mode)


def score_records(
    records: Iterable[OutputRecord],
    scorers: Sequence[ScorerEntry] | None = None,
    *,
    experiment: ExperimentSpec | None = None,
    control: str | None = None,
    mode: str | None = None,
    sink: Any = None,
    events: bool = False,
    logger_provider: LoggerProvider | None = None,
) -> ScoringResult:
    """Score stored outputs with every scorer (or those of ``mode``); observations go to ``sink`` too."""
    rows = list(records)
    control = control or (experiment.control.name if experiment is not None else None)
    result = ScoringResult()
    for entry in _entries(scorers, experiment, mode):
        items = _items(entry, rows, control, result.stats)
        try:
            scores = entry[1].score_batch(items)
        except Exception as exc:
            result.stats.error(entry[0].name, exc)
            continue
        batch = _collect(
            result, entry[0].name, items=items, scores=scores, events=events, logger_provider=logger_provider
        )
        result.observations.extend(batch)
        emit(sink, batch, result.stats)
    return result


async def ascore_records(
    records: Iterable[OutputRecord],
    scorers: Sequence[ScorerEntry] | None = None,
    *,
    experiment: ExperimentSpec | None = None,
    control: str | None = None,
    mode: str | None = None,
    sink: Any = None,
    events: bool = False,
    concurrency: int | None = None,
    logger_provider: LoggerProvider | None = None,
) -> ScoringResult:
    """Async twin of ``score_records``: scorers run concurrently, judges with bounded calls in flight."""
    rows = list(records)
    control = control or (experiment.control.name if experiment is not None else None)
    result = ScoringResult()
    entries = _entries(scorers, experiment, mode)
    item_lists = [_items(entry, rows, control, result.stats) for entry in entries]
    outcomes = await asyncio.gather(
        *(
            entry[1].ascore_batch(items, concurrency=concurrency)
            for entry, items in zip(entries, item_lists, strict=True)
        ),
        return_exceptions=True,
    )
    for entry, items, outcome in zip(entries, item_lists, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            result.stats.error(entry[0].name, outcome)
            continue
        batch = _collect(
            result, entry[0].name, items=items, scores=outcome, events=events, logger_provider=logger_provider
        )
        result.observations.extend(batch)
        emit(sink, batch, result.stats)
    return result
