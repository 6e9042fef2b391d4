"""NaN / inf values are refused at ingestion, counted where a report reads them, never turned into NaN CIs."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest
import redis

from routing_agent.evaluation.evaluator import evaluate
from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore, Observation
from routing_agent.stores.observations.observation import rejected_counts
from routing_agent.stores.observations.redis import RedisObservationStore
from routing_agent.stores.observations.sqlite import SQLiteObservationStore
from tests.evaluation.support import arm, make_spec

BAD_VALUES = (math.nan, math.inf, -math.inf)


def _experiment() -> str:
    return f"ingest-{uuid.uuid4().hex[:8]}"


def test_the_writer_drops_and_counts_non_finite_values_and_keeps_the_rest() -> None:
    exp = _experiment()
    store = MemoryObservationStore()
    writer = BufferedObservationWriter(store, flush_interval_s=0.01)
    good = [Observation(exp, "control", f"u{i}", "score", float(i)) for i in range(5)]
    bad = [Observation(exp, "control", f"b{i}", "score", v) for i, v in enumerate(BAD_VALUES)]
    huge = Observation(exp, "control", "h", "score", 1e200)
    writer.add_many([*good[:2], *bad, huge, *good[2:]])
    assert writer.flush(10.0)
    writer.close()
    stats = writer.stats()
    assert stats["written"] == 5 and stats["invalid"] == 4 and stats["dropped"] == 4
    assert rejected_counts(exp) == {"non_finite": 3, "too_large": 1}
    assert sorted(o.value for o in store.observations(exp)) == [0.0, 1.0, 2.0, 3.0, 4.0]


def _stores(tmp_path: Path, redis_url: str, prefix: str) -> list[object]:
    client = redis.Redis.from_url(redis_url)
    return [
        MemoryObservationStore(),
        SQLiteObservationStore(tmp_path / "obs.db"),
        RedisObservationStore(client, prefix=prefix),
    ]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_every_store_refuses_a_non_finite_batch_and_counts_it(
    value: float, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    for store in _stores(tmp_path, redis_url, redis_prefix):
        exp = _experiment()
        batch = [
            Observation(exp, "control", "u1", "score", 1.0),
            Observation(exp, "control", "u2", "score", value),
        ]
        with pytest.raises(ValueError, match="finite number"):
            store.add(batch)  # type: ignore[attr-defined]
        assert rejected_counts(exp) == {"non_finite": 1}
        assert store.unit_aggregates(exp, "score") == {}  # type: ignore[attr-defined]  # nothing stored
        store.close()  # type: ignore[attr-defined]


def test_evaluate_after_bad_values_reports_finite_numbers_only() -> None:
    spec = make_spec()
    store = MemoryObservationStore()
    writer = BufferedObservationWriter(store, flush_interval_s=0.01)
    writer.add_many(arm("control", 400, seed=1) + arm("candidate", 400, seed=2))
    writer.add_many(
        [Observation(spec.id, "candidate", f"x{i}", "resolved", v) for i, v in enumerate(BAD_VALUES)]
    )
    assert writer.flush(10.0)
    writer.close()
    assert writer.stats()["invalid"] == 3
    ev = evaluate(spec, observations=store)
    text = json.dumps(ev.to_json(), allow_nan=False)  # raises on any NaN / inf left in the report
    assert "NaN" not in text
