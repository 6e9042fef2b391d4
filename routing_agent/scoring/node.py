"""``ScoringNode``: score an agent's output inside the graph, right after the agent ran.

    graph.add_node("score_extractor", ScoringNode(spec, agent="extractor", sink=observation_store))
    graph.add_edge("extractor", "score_extractor")

The node reads the unit's assignment from ``state["routing"]``, the agent's output from ``output_field``
(default: the state key named like the agent, else the last message), the reference from
``reference_field``, and scores with every ``mode: inline`` scorer of that agent. Observations go to the
sink; each score is attached to the current span as a ``gen_ai.evaluation.result`` event. It never raises
into the graph: a failing scorer or sink is logged once and counted (``stats()``). Each score is bounded by
the scorer's ``limits`` (``timeout_s``, ``max_chars``; see ``routing_agent.scoring.bounds``): the graph
never waits past the budget, and a limited score is counted as ``invalid`` with its kind as a detail.
Units not enrolled in the experiment are not scored. Pairwise scorers need both variants' outputs for one
input: see ``shadow``.
"""

from __future__ import annotations

__all__ = ["ScoringNode"]

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from opentelemetry import trace
from opentelemetry._logs import LoggerProvider

from routing_agent.assignment.types import NOT_RANDOMIZED
from routing_agent.config.spec import ExperimentSpec
from routing_agent.graph.resolution import live
from routing_agent.graph.state import ROUTING_KEY
from routing_agent.scoring.base import BaseScorer, Sample, Score, observations
from routing_agent.scoring.bounds import abounded_score, bounded_score
from routing_agent.scoring.events import record_evaluation
from routing_agent.scoring.factory import build_scorers, select
from routing_agent.scoring.outputs import lookup
from routing_agent.scoring.runner import ScorerEntry, output_of, question_of
from routing_agent.scoring.sinks import ScoringStats, emit
from routing_agent.stores.observations.observation import Observation


def _bounded(entry: ScorerEntry, sample: Sample) -> Score:
    """Deterministic scorers run under a deadline; judges (bounded by their request timeout) size-capped."""
    spec, scorer = entry
    return bounded_score(scorer, sample, spec.limits, deadline=isinstance(scorer, BaseScorer))


class ScoringNode(Runnable[Any, dict[str, Any]]):
    """A LangGraph node that scores one agent's output with the experiment's inline scorers.

    Args:
        experiment: the experiment whose ``scorers`` (``mode: inline``, this ``agent``) run here.
        agent: the agent whose output is scored (default: every inline scorer of the experiment).
        sink: where observations go (``ObservationStore``, ``BufferedObservationWriter``, list, callable).
        state_key: if set, the node also returns ``{state_key: {scorer name: value}}`` into the state.
        events: attach each score to the current OTel span (``gen_ai.evaluation.result``).
        scorers: prebuilt ``(spec, scorer)`` entries (default: built from ``experiment``).
        capture_content: put score explanations (which may quote the output) on spans (default: the
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` env var; off).
    """

    def __init__(
        self,
        experiment: ExperimentSpec,
        *,
        agent: str | None = None,
        sink: Any = None,
        state_key: str | None = None,
        events: bool = True,
        scorers: Sequence[ScorerEntry] | None = None,
        logger_provider: LoggerProvider | None = None,
        name: str | None = None,
        capture_content: bool | None = None,
    ) -> None:
        self.experiment = experiment
        self.agent = agent
        self.sink = sink
        self.state_key = state_key
        self.events = events
        self.logger_provider = logger_provider
        self.capture_content = capture_content
        entries = scorers if scorers is not None else build_scorers(experiment)
        self.entries = [e for e in select(entries, agent=agent, mode="inline") if not e[1].pairwise]
        self.name = name or (f"score_{agent}" if agent else "score")
        self.counters = ScoringStats()

    def stats(self) -> dict[str, dict[str, int]]:
        """Counts per scorer (scored, invalid, skipped, errors) and of units not enrolled."""
        return self.counters.snapshot()

    def _samples(self, state: Any) -> list[tuple[ScorerEntry, Sample]] | None:
        routing = (
            state.get(ROUTING_KEY) if isinstance(state, Mapping) else getattr(state, ROUTING_KEY, None)
        ) or {}
        record = routing.get(self.experiment.id)
        if record is not None:
            record = live(record)  # a checkpointed thread after a rollback / ship: not in the comparison
        if record is None or record.get("variant") is None:
            self.counters.count("node", "not_enrolled")
            return None
        if record.get("reason") in NOT_RANDOMIZED:  # rolled back / shipped: not part of the comparison
            self.counters.count("node", "not_randomized")
            return None
        context = trace.get_current_span().get_span_context()
        trace_id = format(context.trace_id, "032x") if context.is_valid else None
        span_id = format(context.span_id, "016x") if context.is_valid else None
        out = []
        for entry in self.entries:
            spec, scorer = entry
            roots = (state,)
            output = output_of(spec, roots)
            if output is None:
                self.counters.missing(spec.name, spec.output_field or spec.agent)
                continue
            reference = lookup(spec.reference_field, *roots) if spec.reference_field else None
            out.append(
                (
                    entry,
                    Sample(
                        output=output,
                        reference=reference,
                        input=question_of(spec, scorer, roots),
                        experiment=self.experiment.id,
                        variant=str(record["variant"]),
                        unit_id=str(record.get("unit_id") or ""),
                        agent=spec.agent or self.agent,
                        segments=dict(record.get("segments") or {}),
                        trace_id=trace_id,
                        span_id=span_id,
                    ),
                )
            )
        return out

    def _finish(self, done: Sequence[tuple[ScorerEntry, Sample, Score | BaseException]]) -> dict[str, Any]:
        batch: list[Observation] = []
        values: dict[str, float | None] = {}
        span = trace.get_current_span()
        for (spec, _), sample, outcome in done:
            if isinstance(outcome, BaseException):
                self.counters.error(spec.name, outcome)
                continue
            self.counters.add(spec.name, outcome)
            batch.extend(observations(outcome, sample))
            values[spec.name] = outcome.value if outcome.valid else None
            if self.events:
                record_evaluation(
                    outcome,
                    span=span,
                    logger_provider=self.logger_provider,
                    capture_content=self.capture_content,
                )
        emit(self.sink, batch, self.counters)
        return {self.state_key: values} if self.state_key else {}

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        """Score the agent's output in ``input`` (the graph state); never raises."""
        try:
            samples = self._samples(input)
        except Exception as exc:
            self.counters.error("node", exc)
            return {}
        if not samples:
            return {}
        done: list[tuple[ScorerEntry, Sample, Score | BaseException]] = []
        for entry, sample in samples:
            try:
                done.append((entry, sample, _bounded(entry, sample)))
            except Exception as exc:
                done.append((entry, sample, exc))
        return self._finish(done)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Async twin of ``invoke``: the scorers (judge calls) run concurrently."""
        try:
            samples = self._samples(input)
        except Exception as exc:
            self.counters.error("node", exc)
            return {}
        if not samples:
            return {}
        outcomes = await asyncio.gather(
            *(
                abounded_score(e[1], s, e[0].limits, deadline=isinstance(e[1], BaseScorer))
                for e, s in samples
            ),
            return_exceptions=True,
        )
        return self._finish([(e, s, o) for (e, s), o in zip(samples, outcomes, strict=True)])
