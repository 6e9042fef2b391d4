"""Shadow / replay runs: the same input through control and a test variant, scored as a pair.

``ShadowRunner.replay(inputs)`` runs each input through the compiled graph once per variant. The variant is
pinned by pre-filling ``state["routing"]`` with an assignment (reason ``shadow``), so the routing node keeps
it and writes nothing to the assignment store; other experiments of the config are pinned to "not
enrolled". Runs carry ``routing_agent.role = "shadow"`` run metadata (telemetry traces them without
recording experiment observations), unit id ``shadow:<key>`` and LangGraph thread ``shadow:<key>:<variant>``.

The final states become ``OutputRecord``s (experiment ``<id>:shadow`` by default, so shadow numbers never
mix with live traffic), and every scorer of the experiment scores them: per-variant scorers per side (a
paired design: both sides share the unit id), pairwise scorers (pairwise judge, citation stability) per
pair. ``ShadowMirror`` does the same online for a sampled share of live units, in the background, after
the user's response is returned: the response is never changed or delayed by the mirror, and a mirror
failure is counted, never raised.

Shadow runs call real side effects of the workflow twice (tools that write, tickets that close): mirror
only workflows whose tools are read-only, or stub their writes for shadow runs (``routing_agent.role``).
"""

from __future__ import annotations

__all__ = ["SHADOW_TAG", "ShadowMirror", "ShadowResult", "ShadowRunner"]

import asyncio
import hashlib
import logging
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig

from routing_agent.assignment.assigner import Assigner, RoutingDecision
from routing_agent.assignment.types import Reason
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.graph.state import ROUTING_KEY
from routing_agent.scoring.events import ROLE, ROLE_SHADOW
from routing_agent.scoring.factory import build_scorers
from routing_agent.scoring.outputs import OutputRecord
from routing_agent.scoring.runner import ScorerEntry, ScoringResult, ascore_records, score_records
from routing_agent.scoring.sinks import ScoringStats

logger = logging.getLogger("routing_agent.scoring")

SHADOW_TAG = "routing_agent:shadow"
"""LangChain run tag of shadow and replay runs."""


@dataclass
class ShadowResult:
    """Records of every variant run, and the scores of the runs and pairs."""

    records: list[OutputRecord] = field(default_factory=list)
    scoring: ScoringResult = field(default_factory=ScoringResult)
    failures: int = 0


class ShadowRunner:
    """Runs inputs through control and test variants of one experiment of a graph, and scores them.

    Args:
        graph: the compiled LangGraph graph (routing node first), as served to users.
        config: the experiments config (or the single experiment) the graph's routing node uses.
        experiment: the experiment id (default: the only one in ``config``).
        variants: the test variants to compare with control (default: every non-control variant).
        unit_key: the state key of the unit id, if the routing node was given a ``unit_key``.
        label: experiment name on shadow records and observations (default ``<id>:shadow``).
        sink: where observations go; ``scorers``: prebuilt ``(spec, scorer)`` entries.
        run_config: extra LangChain run config for shadow runs (callbacks, recursion_limit, metadata).
    """

    def __init__(
        self,
        graph: Any,
        config: ExperimentsConfig | ExperimentSpec,
        experiment: str | None = None,
        *,
        variants: Sequence[str] | None = None,
        unit_key: str | None = None,
        label: str | None = None,
        sink: Any = None,
        scorers: Sequence[ScorerEntry] | None = None,
        concurrency: int = 4,
        run_config: RunnableConfig | None = None,
    ) -> None:
        self.graph = graph
        self.config = (
            config if isinstance(config, ExperimentsConfig) else ExperimentsConfig(experiments=(config,))
        )
        if experiment is None and len(self.config.experiments) != 1:
            raise ValueError("the config has several experiments: name one with experiment=")
        self.spec = self.config.get(experiment) if experiment else self.config.experiments[0]
        self.control = self.spec.control.name
        self.variants = list(variants or [v.name for v in self.spec.variants if not v.control])
        for name in self.variants:
            self.spec.variant(name)  # KeyError for an unknown variant
        self.unit_key = unit_key or self.spec.state_key
        self.label = label or f"{self.spec.id}:shadow"
        self.sink = sink
        self.scorers = list(scorers) if scorers is not None else build_scorers(self.spec)
        self.concurrency = concurrency
        self.run_config: RunnableConfig = dict(run_config or {})  # type: ignore[assignment]
        self._assigner = Assigner(self.config, None)
        self.stats = ScoringStats()

    # -- one input -------------------------------------------------------------------------------------

    def pinned(
        self, state: Mapping[str, Any], variant: str, key: str
    ) -> tuple[dict[str, Any], RunnableConfig]:
        """The graph input and run config that run ``state`` as ``variant`` off the books."""
        unit_id = f"shadow:{key}"
        pinned = dict(state)
        pinned[self.unit_key] = unit_id
        segments = {name: str(state[name]) for name in self.spec.segments if state.get(name) is not None}
        routing = {}
        for spec in self.config.experiments:
            target = variant if spec.id == self.spec.id else None
            decision = RoutingDecision(target, Reason.SHADOW)
            routing[spec.id] = self._assigner.assignment(spec, unit_id, decision, segments)
        pinned[ROUTING_KEY] = routing
        extra = self.run_config
        config: RunnableConfig = {
            **extra,
            "metadata": {**(extra.get("metadata") or {}), ROLE: ROLE_SHADOW, "routing_agent.shadow.key": key},
            "tags": [*(extra.get("tags") or []), SHADOW_TAG],
            "configurable": {**(extra.get("configurable") or {}), "thread_id": f"{unit_id}:{variant}"},
            "run_name": f"shadow:{self.spec.id}:{variant}",
        }
        return pinned, config

    def _record(self, key: str, variant: str, state: Mapping[str, Any], final: Any) -> OutputRecord:
        return OutputRecord(
            experiment=self.label,
            variant=variant,
            unit_id=f"shadow:{key}",
            output=final,
            input=dict(state),
            reference=state.get("reference"),
            key=key,
            segments={name: str(state[name]) for name in self.spec.segments if state.get(name) is not None},
        )

    def _failed(self, key: str, exc: BaseException) -> None:
        self.stats.error("shadow_run", exc)
        logger.debug("shadow run of %s failed: %s", key, exc)

    def run(self, state: Mapping[str, Any], key: str) -> list[OutputRecord]:
        """Run one input through control and every test variant; [] if any run fails (counted)."""
        out = []
        for variant in [self.control, *self.variants]:
            pinned, config = self.pinned(state, variant, key)
            try:
                final = self.graph.invoke(pinned, config)
            except Exception as exc:
                self._failed(key, exc)
                return []
            out.append(self._record(key, variant, state, final))
        return out

    async def arun(self, state: Mapping[str, Any], key: str) -> list[OutputRecord]:
        """Async twin of ``run``: the variants run concurrently."""
        runs = [self.pinned(state, v, key) for v in [self.control, *self.variants]]
        finals = await asyncio.gather(*(self.graph.ainvoke(p, c) for p, c in runs), return_exceptions=True)
        out = []
        for variant, final in zip([self.control, *self.variants], finals, strict=True):
            if isinstance(final, BaseException):
                self._failed(key, final)
                return []
            out.append(self._record(key, variant, state, final))
        return out

    # -- many inputs -----------------------------------------------------------------------------------

    @staticmethod
    def _keyed(
        inputs: Iterable[Mapping[str, Any] | tuple[str, Mapping[str, Any]]],
    ) -> list[tuple[str, Mapping[str, Any]]]:
        out = []
        for i, item in enumerate(inputs):
            if isinstance(item, tuple):
                out.append((str(item[0]), item[1]))
            else:
                key = item.get("id") or item.get("key") or f"item-{i}"
                out.append((str(key), item))
        return out

    def replay(self, inputs: Iterable[Mapping[str, Any] | tuple[str, Mapping[str, Any]]]) -> ShadowResult:
        """Run every input (a state, or ``(key, state)``) through each variant and score the outputs."""
        result = ShadowResult()
        for key, state in self._keyed(inputs):
            records = self.run(state, key)
            result.failures += not records
            result.records.extend(records)
        result.scoring = score_records(result.records, self.scorers, control=self.control, sink=self.sink)
        return result

    async def areplay(
        self, inputs: Iterable[Mapping[str, Any] | tuple[str, Mapping[str, Any]]]
    ) -> ShadowResult:
        """Async twin of ``replay``: at most ``concurrency`` inputs in flight."""
        limit = asyncio.Semaphore(self.concurrency)

        async def one(key: str, state: Mapping[str, Any]) -> list[OutputRecord]:
            async with limit:
                return await self.arun(state, key)

        keyed = self._keyed(inputs)
        runs = await asyncio.gather(*(one(k, s) for k, s in keyed))
        result = ShadowResult(failures=sum(1 for r in runs if not r))
        result.records = [r for batch in runs for r in batch]
        result.scoring = await ascore_records(
            result.records, self.scorers, control=self.control, sink=self.sink
        )
        return result


def _sampled(unit_id: str, rate: float, salt: str) -> bool:
    digest = hashlib.blake2b(f"{salt}:{unit_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


class ShadowMirror:
    """Serves a graph as usual and mirrors a sampled share of live units through ``runner`` afterwards.

    ``invoke``/``ainvoke`` return exactly what the graph returns; mirroring starts after it has returned,
    in a worker thread (sync) or a background task (async). Units are sampled by a hash of their id, so a
    sampled unit is mirrored on every request. At most ``max_pending`` mirrors wait; beyond that a mirror is
    dropped and counted (``stats()["mirror"]["dropped"]``). ``drain()`` / ``adrain()`` wait for pending ones.
    """

    def __init__(
        self, graph: Any, runner: ShadowRunner, *, sample_rate: float, max_pending: int = 64
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in [0, 1], got {sample_rate}")
        self.graph = graph
        self.runner = runner
        self.sample_rate = sample_rate
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="routing-agent-shadow")
        self._futures: set[Future[Any]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lock = threading.Lock()
        self.records: list[OutputRecord] = []

    def stats(self) -> dict[str, dict[str, int]]:
        """Mirror counters (``mirrored``, ``dropped``, ``skipped``) and the runner's scoring counters."""
        return self.runner.stats.snapshot()

    def _key(self, state: Any) -> str | None:
        unit = state.get(self.runner.unit_key) if isinstance(state, Mapping) else None
        if unit is None or not _sampled(str(unit), self.sample_rate, self.runner.spec.id):
            self.runner.stats.count("mirror", "skipped")
            return None
        return f"{unit}-{uuid.uuid4().hex[:8]}"

    def _pending(self) -> int:
        return len(self._futures) + len(self._tasks)

    def _keep(self, records: list[OutputRecord]) -> None:
        with self._lock:
            self.records.extend(records)

    def _mirror(self, state: Mapping[str, Any], key: str) -> None:
        records = self.runner.run(state, key)
        if records:
            self.runner.stats.count("mirror", "mirrored")
            score_records(records, self.runner.scorers, control=self.runner.control, sink=self.runner.sink)
            self._keep(records)

    async def _amirror(self, state: Mapping[str, Any], key: str) -> None:
        records = await self.runner.arun(state, key)
        if records:
            self.runner.stats.count("mirror", "mirrored")
            await ascore_records(
                records, self.runner.scorers, control=self.runner.control, sink=self.runner.sink
            )
            self._keep(records)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The graph's result for the user; a sampled unit is mirrored afterwards in the background."""
        result = self.graph.invoke(input, config, **kwargs)
        try:
            key = self._key(input)
            if key is not None:
                if self._pending() >= self.max_pending:
                    self.runner.stats.count("mirror", "dropped")
                else:
                    future = self._pool.submit(self._guarded, dict(input), key)
                    with self._lock:
                        self._futures.add(future)
                    future.add_done_callback(self._discard)
        except Exception as exc:  # the user's response never depends on the mirror
            self.runner.stats.error("mirror", exc)
        return result

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async twin of ``invoke``: the mirror is a background task on the running loop."""
        result = await self.graph.ainvoke(input, config, **kwargs)
        try:
            key = self._key(input)
            if key is not None:
                if self._pending() >= self.max_pending:
                    self.runner.stats.count("mirror", "dropped")
                else:
                    task = asyncio.get_running_loop().create_task(self._aguarded(dict(input), key))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        except Exception as exc:
            self.runner.stats.error("mirror", exc)
        return result

    def _guarded(self, state: Mapping[str, Any], key: str) -> None:
        try:
            self._mirror(state, key)
        except Exception as exc:
            self.runner.stats.error("mirror", exc)

    async def _aguarded(self, state: Mapping[str, Any], key: str) -> None:
        try:
            await self._amirror(state, key)
        except Exception as exc:
            self.runner.stats.error("mirror", exc)

    def _discard(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def drain(self, timeout_s: float | None = None) -> None:
        """Wait for the pending sync mirrors."""
        with self._lock:
            pending = list(self._futures)
        for future in pending:
            future.result(timeout=timeout_s)

    async def adrain(self) -> None:
        """Wait for the pending async mirrors."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def close(self) -> None:
        """Wait for pending sync mirrors and stop the worker thread."""
        self._pool.shutdown(wait=True)
