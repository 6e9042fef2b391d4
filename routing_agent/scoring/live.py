"""Live scoring: every scorer an experiment declares, run on each finished session, recorded on it.

::

    live = LiveScorer(config, graph, sink=observation_store)
    final = graph.invoke(request, run_config)
    live.score(request, final, run_config)        # after the response is ready; never raises

Why inline after the session rather than a follower worker (``score --follow``): the final state — the
agent outputs, the reference, the unit's assignment — is in hand when the session ends, so no output has to
be persisted (or leak content) for a second process to read, and a score lands seconds after the outcome it
explains. The cost is bounded: scoring runs *after* ``graph.invoke`` returned (the user's latency is not
affected), every scorer runs under ``budget_s`` for the whole session (a scorer that would start past the
budget is skipped and counted ``over_budget``), and judges keep their own ``timeout_s``.

* Per-output scorers (exact, fuzzy, JSON, judge Likert, citation correctness) score the unit's own output,
  under the experiment's id and the unit's variant and unit id, with the unit's segments.
* Pairwise scorers (citation stability, pairwise judge) need control's answer to the same input: for a
  sampled share (``mirror_rate``) of units the input is replayed off the books (``ShadowRunner``: reason
  ``shadow``, unit ``shadow:<unit>``, no assignment written, no telemetry observation) once pinned to
  control and once pinned to the unit's own variant — identical inputs on both sides — and the pair is
  scored and recorded on the unit, in both arms: control's figure is control's own run-to-run stability
  (1.0 for a deterministic model), the baseline the candidate's is read against.

Units not enrolled, or placed by a rollback/ship (not randomized), are not scored. Observation ids are
``<unit>:<agent>:<metric>``, so scoring a retried session twice counts it once.
"""

from __future__ import annotations

__all__ = ["LiveScorer"]

import hashlib
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from routing_agent.assignment.types import NOT_RANDOMIZED, Reason
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, ScorerSpec
from routing_agent.graph.state import ROUTING_KEY
from routing_agent.scoring.base import Pair, Sample, Score, observations
from routing_agent.scoring.factory import build_scorers
from routing_agent.scoring.outputs import lookup
from routing_agent.scoring.runner import ScorerEntry, output_of, question_of
from routing_agent.scoring.shadow import ShadowRunner
from routing_agent.scoring.sinks import ScoringStats, emit
from routing_agent.stores.observations.observation import Observation

logger = logging.getLogger("routing_agent.scoring")

_NOT_SCORED = NOT_RANDOMIZED | {Reason.SHADOW.value}


def _sampled(unit_id: str, rate: float, salt: str) -> bool:
    if rate >= 1.0:
        return True
    digest = hashlib.blake2b(f"{salt}:mirror:{unit_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


class LiveScorer:
    """Scores finished sessions with every declared scorer of every experiment (see the module docstring).

    Args:
        config: the experiments config the graph's routing node uses.
        graph: the compiled graph (needed only for pairwise scorers' control re-runs).
        sink: where observations go (store, ``BufferedObservationWriter``, list, callable).
        budget_s: wall-clock budget for all scorers of one session.
        mirror_rate: share of units re-run on control for pairwise scorers (sampled by unit id).
        segments: extra segment values for a final state (e.g. read from an agent's output).
        base_dir: where scorer files (rubrics, schemas) are resolved from.
        modes: the scorer modes run here (default both; pass ``("offline",)`` when the graph already runs
            its ``inline`` scorers in a ``ScoringNode``, so nothing is scored twice).
    """

    def __init__(
        self,
        config: ExperimentsConfig,
        graph: Any = None,
        *,
        sink: Any = None,
        budget_s: float = 30.0,
        mirror_rate: float = 1.0,
        segments: Any = None,
        base_dir: Any = None,
        modes: Collection[str] = ("inline", "offline"),
    ) -> None:
        if not 0.0 <= mirror_rate <= 1.0:
            raise ValueError(f"mirror_rate must be in [0, 1], got {mirror_rate}")
        self.config = config
        self.graph = graph
        self.sink = sink
        self.budget_s = budget_s
        self.mirror_rate = mirror_rate
        self.segments = segments
        self.counters = ScoringStats()
        self._entries: dict[str, list[ScorerEntry]] = {
            spec.id: [e for e in build_scorers(spec, base_dir=base_dir) if e[0].mode in modes]
            for spec in config.experiments
        }
        self._runners: dict[str, ShadowRunner] = {}
        if graph is not None:
            for spec in config.experiments:
                if any(scorer.pairwise for _, scorer in self._entries[spec.id]):
                    self._runners[spec.id] = ShadowRunner(
                        graph, config, spec.id, variants=[], label=spec.id, scorers=[]
                    )

    def stats(self) -> dict[str, dict[str, int]]:
        """Counts per scorer (scored, invalid, skipped, errors, over_budget) and of control re-runs."""
        snapshot = self.counters.snapshot()
        for runner in self._runners.values():
            for name, counts in runner.stats.snapshot().items():
                merged = snapshot.setdefault(name, {})
                for kind, n in counts.items():
                    merged[kind] = merged.get(kind, 0) + n
        return snapshot

    def score(
        self, request: Mapping[str, Any], final: Mapping[str, Any], run_config: RunnableConfig | None = None
    ) -> int:
        """Score one finished session (its input and final state); the observations written. Never raises."""
        deadline = time.monotonic() + self.budget_s
        written = 0
        for spec in self.config.experiments:
            try:
                batch = self._experiment(spec, request, final, run_config, deadline)
            except Exception as exc:  # a scorer bug never reaches the caller
                self.counters.error("live", exc)
                continue
            emit(self.sink, batch, self.counters)
            written += len(batch)
        return written

    def _experiment(
        self,
        spec: ExperimentSpec,
        request: Mapping[str, Any],
        final: Mapping[str, Any],
        run_config: RunnableConfig | None,
        deadline: float,
    ) -> list[Observation]:
        record = (final.get(ROUTING_KEY) or {}).get(spec.id)
        if not isinstance(record, Mapping) or record.get("variant") is None:
            return []
        if record.get("reason") in _NOT_SCORED:
            self.counters.count("live", "not_randomized")
            return []
        unit_id = str(record.get("unit_id") or "")
        segments = {str(k): str(v) for k, v in (record.get("segments") or {}).items()}
        for name in spec.segments:  # a segment learnt mid-session (an agent's output) is in the final state
            if final.get(name) is not None:
                segments[name] = str(final[name])
        if self.segments is not None:
            segments.update(self.segments(spec, final))
        variant = str(record["variant"])
        unit = _Unit(spec, variant, unit_id, segments)
        batch: list[Observation] = []
        replays: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None
        for entry in self._entries[spec.id]:
            scorer_spec, scorer = entry
            if time.monotonic() >= deadline:
                self.counters.count(scorer_spec.name, "over_budget")
                continue
            agent = scorer_spec.agent or "-"
            key = f"{unit_id}:{agent}"
            if scorer.pairwise:
                if spec.id not in self._runners or not _sampled(unit_id, self.mirror_rate, spec.id):
                    continue
                if replays is None:
                    replays = self._replays(spec, request, unit_id, variant, run_config)
                    if replays is None:
                        continue
                item: Sample | Pair | None = self._pair(entry, unit, replays[0], replays[1], key)
            else:
                item = self._sample(entry, unit, final, key)
            if item is None:
                self.counters.missing(scorer_spec.name, scorer_spec.output_field or scorer_spec.agent)
                continue
            try:
                outcome: Score = scorer.score(item)
            except Exception as exc:
                self.counters.error(scorer_spec.name, exc)
                continue
            self.counters.add(scorer_spec.name, outcome)
            batch.extend(observations(outcome, item))
        return batch

    def _replays(
        self,
        spec: ExperimentSpec,
        request: Mapping[str, Any],
        unit_id: str,
        variant: str,
        run_config: RunnableConfig | None,
    ) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
        """The unit's input run off the books on control and on its own variant (identical inputs)."""
        runner = self._runners[spec.id]
        finals = []
        for which, pinned_variant in (("control", runner.control), ("test", variant)):
            pinned, config = runner.pinned(request, pinned_variant, unit_id)
            config = {**config, "configurable": {"thread_id": f"shadow:{unit_id}:{which}"}}
            if run_config and run_config.get("callbacks") is not None:
                config["callbacks"] = run_config["callbacks"]
            try:
                final = self.graph.invoke(pinned, config)
            except Exception as exc:
                runner.stats.error("replay", exc)
                return None
            if not isinstance(final, Mapping):
                return None
            finals.append(final)
        runner.stats.count("replay", "pairs")
        return finals[0], finals[1]

    @staticmethod
    def _sample(entry: ScorerEntry, unit: _Unit, final: Mapping[str, Any], key: str) -> Sample | None:
        scorer_spec, scorer = entry
        roots: Sequence[Any] = (final,)
        output = output_of(scorer_spec, roots)
        if output is None:
            return None
        return Sample(
            output=output,
            reference=_reference(scorer_spec, final),
            input=question_of(scorer_spec, scorer, roots),
            experiment=unit.experiment.id,
            variant=unit.variant,
            unit_id=unit.unit_id,
            agent=scorer_spec.agent,
            segments=unit.segments,
            key=key,
        )

    @staticmethod
    def _pair(
        entry: ScorerEntry, unit: _Unit, control_final: Mapping[str, Any], final: Mapping[str, Any], key: str
    ) -> Pair | None:
        scorer_spec, scorer = entry
        control, test = output_of(scorer_spec, (control_final,)), output_of(scorer_spec, (final,))
        if control is None or test is None:
            return None
        return Pair(
            control=control,
            test=test,
            input=question_of(scorer_spec, scorer, (final,)),
            reference=_reference(scorer_spec, final),
            experiment=unit.experiment.id,
            control_variant=unit.experiment.control.name,
            test_variant=unit.variant,
            unit_id=unit.unit_id,
            agent=scorer_spec.agent,
            segments=unit.segments,
            key=key,
        )


@dataclass(frozen=True)
class _Unit:
    """The scored unit's coordinates in one experiment."""

    experiment: ExperimentSpec
    variant: str
    unit_id: str
    segments: dict[str, str]


def _reference(spec: ScorerSpec, final: Mapping[str, Any]) -> Any:
    return lookup(spec.reference_field, final) if spec.reference_field else None
