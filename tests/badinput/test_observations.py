"""Hostile observations (NaN/inf values, lone surrogates, wrong types): refused whole by every store before
anything is written, and dropped one by one — counted, never silently — by the buffered writer."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routing_agent.stores.observations import BufferedObservationWriter, Observation, open_observation_store
from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.observation import observation_problem

GOOD = Observation("exp", "control", "u1", "calls", 1.0, agent="a", segments={"tier": "gold"})

BAD: dict[str, dict[str, Any]] = {
    "nan": {"value": float("nan")},
    "inf": {"value": float("inf")},
    "minus-inf": {"value": float("-inf")},
    "text-value": {"value": "1.0"},
    "square-overflows": {"value": -1e200},
    "none-value": {"value": None},
    "nan-ts": {"ts": float("nan")},
    "surrogate-unit": {"unit_id": "u\ud800"},
    "surrogate-variant": {"variant": "\udfff"},
    "surrogate-experiment": {"experiment": "e\ud83d"},
    "surrogate-metric": {"metric": "m\udc00"},
    "surrogate-agent": {"agent": "\ud800"},
    "surrogate-id": {"id": "id-\ud800"},
    "surrogate-segment-key": {"segments": {"k\ud800": "v"}},
    "surrogate-segment-value": {"segments": {"k": "v\ud800"}},
    "int-unit": {"unit_id": 7},
    "bytes-unit": {"unit_id": b"u1"},
    "empty-unit": {"unit_id": ""},
    "empty-metric": {"metric": ""},
    "none-variant": {"variant": None},
    "segments-list": {"segments": [("k", "v")]},
    "segment-int-value": {"segments": {"k": 3}},
}

ODD_BUT_VALID: dict[str, dict[str, Any]] = {
    "unicode": {"unit_id": "ユーザー-🙂", "segments": {"pays": "Côte d'Ivoire"}},
    "nul-and-newlines": {"unit_id": "a\x00b\nc", "metric": "m:1\t{x}"},
    "10kB-unit": {"unit_id": "u" * 10_000},
    "huge-finite": {"value": 1e150},
    "negative-zero": {"value": -0.0},
    "bool-value": {"value": True},
    "empty-segment-value": {"segments": {"tier": ""}},
    "braces": {"experiment": "a{b}c", "unit_id": "{exp:x}:o:ids"},
}


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObservationStore]:
    if request.param == "memory":
        opened = open_observation_store("memory://")
    elif request.param == "sqlite":
        opened = open_observation_store(f"sqlite:///{tmp_path}/obs.db")
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        opened = open_observation_store(f"{url}?prefix={prefix}")
    yield opened
    opened.close()


def total_calls(store: ObservationStore, experiment: str = "exp", metric: str = "calls") -> int:
    return sum(a.n_obs for a in store.unit_aggregates(experiment, metric).values())


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_store_refuses_an_invalid_observation_before_writing_anything(
    store: ObservationStore, case: str
) -> None:
    bad = dataclasses.replace(GOOD, **BAD[case])
    assert observation_problem(bad) is not None
    good = [dataclasses.replace(GOOD, unit_id=f"g{i}") for i in range(5)]
    with pytest.raises(ValueError, match="cannot be stored"):
        store.add([*good, bad, *good])  # good rows before the bad one must not be kept (no partial write)
    assert total_calls(store) == 0
    assert store.add(good) == 5  # the store is fine afterwards
    assert total_calls(store) == 5


@pytest.mark.parametrize("case", sorted(ODD_BUT_VALID))
def test_odd_but_valid_observations_round_trip(store: ObservationStore, case: str) -> None:
    obs = dataclasses.replace(GOOD, **ODD_BUT_VALID[case])
    assert observation_problem(obs) is None
    assert store.add([obs]) == 1
    [agg] = store.unit_aggregates(obs.experiment, obs.metric).values()
    assert (agg.n_units, agg.n_obs, agg.total_x) == (1, 1, float(obs.value))
    [value] = store.unit_values(obs.experiment, obs.metric)
    assert value.unit_id == obs.unit_id


def test_the_writer_drops_only_the_invalid_ones_counted_and_logged_once(
    store: ObservationStore, caplog: pytest.LogCaptureFixture
) -> None:
    writer = BufferedObservationWriter(store, batch_size=50, flush_interval_s=0.01, retry_backoff_s=0.001)
    batch: list[Observation] = []
    for i in range(60):
        batch.append(dataclasses.replace(GOOD, unit_id=f"g{i}", id=f"g{i}"))
        if i % 3 == 0:
            case = sorted(BAD)[i % len(BAD)]
            batch.append(dataclasses.replace(GOOD, **BAD[case]))
    with caplog.at_level(logging.WARNING, logger="routing_agent.observations"):
        writer.add_many(batch)
        assert writer.flush(10)
    stats = writer.stats()
    assert stats["dropped"] == 20 and stats["written"] == 60 and stats["retries"] == 0
    assert stats["written"] + stats["dropped"] == len(batch)  # accepted = written + dropped
    assert total_calls(store) == 60
    warnings = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(warnings) == 1 and "invalid" in warnings[0]
    writer.close()
