"""The scorer protocol and the records it consumes and produces.

A scorer reads one ``Sample`` (an agent's output, its reference and input, and where it came from) or one
``Pair`` (the control and the test output for the same input) and returns a ``Score``. ``observations``
turns a score into ``Observation`` records for the evaluator:

* the score's value under the scorer's name, when the score is valid;
* every detail (``<name>.<suffix>``), e.g. ``json_valid.parse_error`` or ``judge.invalid``.

An ``invalid`` score (a judge that never produced a usable verdict) records no value, only its details, so
it is counted (``<name>.invalid`` = 1) and excluded from the metric. A ``skipped`` score (no reference to
compare with) records nothing. Pair observations carry the *test* variant: their metric compares test with
control inside one pair, so it is a one-sample quantity (a win rate against 0.5, a stability against 1.0).
"""

from __future__ import annotations

__all__ = [
    "EMPTY",
    "BaseScorer",
    "Pair",
    "Sample",
    "Score",
    "Scorer",
    "Status",
    "observations",
]

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from routing_agent.stores.observations.observation import Observation

EMPTY: Mapping[str, Any] = MappingProxyType({})
"""A shared empty mapping (no per-score allocation on the hot path)."""


class Status(StrEnum):
    """Whether a score counts."""

    OK = "ok"
    INVALID = "invalid"  # the scorer could not produce a value (judge garbage after one retry): counted
    SKIPPED = "skipped"  # nothing to score against (no reference): no observation at all


@dataclass(frozen=True, slots=True)
class Sample:
    """One output to score, with its reference and the experiment coordinates of the run that made it."""

    output: Any
    reference: Any = None
    input: Any = None
    experiment: str = ""
    variant: str = ""
    unit_id: str = ""
    agent: str | None = None
    segments: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    trace_id: str | None = None
    span_id: str | None = None
    key: str | None = None
    """Idempotency key (e.g. dataset row id): observation ids become ``<key>:<metric>``."""


@dataclass(frozen=True, slots=True)
class Pair:
    """The control and the test output for the same input (a replayed, shadow or mirrored pair)."""

    control: Any
    test: Any
    input: Any = None
    reference: Any = None
    experiment: str = ""
    control_variant: str = "control"
    test_variant: str = "test"
    unit_id: str = ""
    agent: str | None = None
    segments: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    trace_id: str | None = None
    span_id: str | None = None
    key: str | None = None

    def swapped(self) -> Pair:
        """The same pair with control and test exchanged (for symmetry checks)."""
        return replace(
            self,
            control=self.test,
            test=self.control,
            control_variant=self.test_variant,
            test_variant=self.control_variant,
        )

    def side(self, which: str) -> Sample:
        """One side (``"control"`` or ``"test"``) as a ``Sample`` of its own variant."""
        output, variant = (
            (self.control, self.control_variant) if which == "control" else (self.test, self.test_variant)
        )
        return Sample(
            output=output,
            reference=self.reference,
            input=self.input,
            experiment=self.experiment,
            variant=variant,
            unit_id=self.unit_id,
            agent=self.agent,
            segments=self.segments,
            key=f"{self.key}:{which}" if self.key is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Score:
    """What a scorer says about one sample or pair."""

    name: str
    value: float | None
    label: str | None = None
    """A short verdict (``match``, ``4``, ``test``, ``tie``, ``invalid``) for the span event."""
    explanation: str | None = None
    status: Status = Status.OK
    details: Mapping[str, float] = field(default_factory=lambda: EMPTY)
    """Extra metrics recorded as ``<name>.<suffix>``: ``parse_error``, ``invalid``, ``field.total`` …"""

    @property
    def valid(self) -> bool:
        """True when the value counts in the metric."""
        return self.status is Status.OK and self.value is not None


ItemT = TypeVar("ItemT", Sample, Pair)
ItemT_contra = TypeVar("ItemT_contra", Sample, Pair, contravariant=True)


@runtime_checkable
class Scorer(Protocol[ItemT_contra]):
    """Scores samples (or pairs); sync and async twins, one at a time or in batches."""

    name: str
    pairwise: bool
    """True when the scorer reads ``Pair`` items (pairwise judge, citation stability)."""

    def score(self, item: ItemT_contra) -> Score:
        """Score one item. Never raises for a bad output: a bad output is a low or invalid score."""
        ...

    async def ascore(self, item: ItemT_contra) -> Score:
        """Async twin of ``score``."""
        ...

    def score_batch(self, items: Sequence[ItemT_contra]) -> list[Score]:
        """Score many items, in order."""
        ...

    async def ascore_batch(
        self, items: Sequence[ItemT_contra], *, concurrency: int | None = None
    ) -> list[Score]:
        """Score many items with at most ``concurrency`` in flight (I/O-bound scorers), in order."""
        ...


class BaseScorer(Generic[ItemT]):
    """Base of the deterministic (CPU-only) scorers: async and batch forms derive from ``score``."""

    pairwise = False

    def __init__(self, name: str) -> None:
        self.name = name

    def score(self, item: ItemT) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError

    async def ascore(self, item: ItemT) -> Score:
        """Deterministic scorers are CPU-bound: scored inline, no thread hop."""
        return self.score(item)

    def score_batch(self, items: Sequence[ItemT]) -> list[Score]:
        """Score each item (subclasses vectorise where a library allows)."""
        return [self.score(item) for item in items]

    async def ascore_batch(self, items: Sequence[ItemT], *, concurrency: int | None = None) -> list[Score]:
        """Same as ``score_batch``; yields to the event loop every 1,000 items."""
        out: list[Score] = []
        for start in range(0, len(items), 1000):
            out.extend(self.score_batch(items[start : start + 1000]))
            await asyncio.sleep(0)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def observations(score: Score, item: Sample | Pair, *, ts: float | None = None) -> list[Observation]:
    """The observations a score records for ``item`` (see the module docstring)."""
    if score.status is Status.SKIPPED:
        return []
    when = time.time() if ts is None else ts
    variant = item.test_variant if isinstance(item, Pair) else item.variant
    common: dict[str, Any] = {
        "experiment": item.experiment,
        "variant": variant,
        "unit_id": item.unit_id,
        "agent": item.agent,
        "segments": item.segments,
        "ts": when,
        "trace_id": item.trace_id,
        "span_id": item.span_id,
    }
    out: list[Observation] = []
    if score.valid:
        assert score.value is not None
        out.append(
            Observation(metric=score.name, value=float(score.value), id=_id(item, score.name), **common)
        )
    for suffix, value in score.details.items():
        metric = f"{score.name}.{suffix}"
        out.append(Observation(metric=metric, value=float(value), id=_id(item, metric), **common))
    return out


def _id(item: Sample | Pair, metric: str) -> str | None:
    return f"{item.key}:{metric}" if item.key is not None else None
