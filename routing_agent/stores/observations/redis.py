"""Redis observation store: per-unit packed records and running totals kept server-side, for many workers.

Key layout and record format: ``_redis_records``; the write script: ``_redis_scripts``. A batch is one Lua
call per ``CHUNK`` observations: for each new observation it updates the unit's record and the running
totals exactly, in every scope. ``unit_aggregates`` without a denominator reads one hash per variant; with a
denominator, and ``tail_aggregates``, run ``SUMS`` on every record hash (on the server); ``unit_values``
pages the record hashes with ``HSCAN``. No raw rows are kept (no ``RAW_ROWS``). Client plumbing:
``_redis_client``.

Writes are O(1) per observation whatever a unit's history. Retention: every key a batch writes expires
``retention_s`` after its last write (``?retention_days=``, default 30), so an experiment's observations
are gone at most that long after it ended; ids are kept for ``dedup_window_s`` (default 1 h) past their
window. An experiment written by the earlier layout (per-scope hashes of unit ids) is refused with
``StoreMisconfigured`` naming ``routing-agent purge``: its running totals cannot be continued.
"""

from __future__ import annotations

__all__ = ["RedisObservationStore", "from_url"]

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from routing_agent.errors import StoreMisconfigured
from routing_agent.stores._redis import DEFAULT_PREFIX, check_on_open, factories_for, retention_of
from routing_agent.stores.capabilities import Capability
from routing_agent.stores.observations._redis_client import (
    DEFAULT_TIMEOUT_S,
    RedisObservationClient,
)
from routing_agent.stores.observations._redis_records import Index, RecordReader
from routing_agent.stores.observations._redis_scripts import SHARDS, observation_args
from routing_agent.stores.observations._redis_scripts import enc as _enc
from routing_agent.stores.observations._redis_scripts import scope as _scope
from routing_agent.stores.observations.aggregates import LogHistogram, UnitAggregate, UnitValue, bucket_index
from routing_agent.stores.observations.base import Segment
from routing_agent.stores.observations.observation import Observation, check_observations

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL

CHUNK = 16
"""Observations per Lua call (a few commands each, increments applied once per call): one call holds Redis
for well under 5 ms whatever the units' histories."""


class RedisObservationStore(RedisObservationClient):
    """Observations aggregated inside Redis; inject a client (``redis.Redis``/``RedisCluster``) or a URL."""

    capabilities = frozenset(
        {
            Capability.MULTI_PROCESS,
            Capability.MULTI_HOST,
            Capability.SERVER_SIDE,
        }
    )

    def spool_key(self) -> str:
        """Server, database and prefix (never the password), naming the writers' default spool folder."""
        kwargs = getattr(getattr(self._bound, "connection_pool", None), "connection_kwargs", None)
        if not kwargs:  # a cluster: its key prefix names it
            return f"redis-cluster:{self.prefix}"
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"redis:{where}/{kwargs.get('db', 0)}/{self.prefix}"

    def __repr__(self) -> str:
        return f"RedisObservationStore(prefix={self.prefix!r})"

    # -- write -----------------------------------------------------------------------------------------

    def _args(self, obs: Observation) -> list[str]:
        return observation_args(obs, self.dedup_window_s)

    def add(self, observations: Sequence[Observation]) -> int:
        """Store a batch: Lua calls of at most ``CHUNK`` observations each, pipelined (one round trip).

        A script blocks Redis while it runs, so a chunk bounds how long a write can make any other command
        (a routing decision, a PING) wait, whatever the batch size. The whole batch is checked first
        (``ValueError``, nothing stored, for an invalid observation): a Lua error half-way would keep the
        writes made before it, and a retry would count them twice (ids make retried chunks idempotent)."""
        observations = list(observations)
        check_observations(observations)
        by_experiment: dict[str, list[list[str]]] = {}
        for obs in observations:
            by_experiment.setdefault(obs.experiment, []).append(self._args(obs))
        keep_ms = 0 if self.retention_s is None else max(1, round(self.retention_s * 1000))
        ttls = [str(keep_ms), str(round(self.dedup_window_s * 2000))]
        calls: list[tuple[str, list[str], list[str]]] = []
        for experiment, rows in by_experiment.items():
            keys = [self._base(experiment)]
            for start in range(0, len(rows), CHUNK):
                args = ttls + [a for row in rows[start : start + CHUNK] for a in row]
                calls.append((experiment, keys, args))
        if len(calls) == 1 or self._cluster:
            replies = [self._call(self._add, keys=k, args=a) for _, k, a in calls]
        else:
            add = self._add
            pipe = self._client.pipeline(transaction=False)
            for _, keys, args in calls:
                add(keys=keys, args=args, client=pipe)
            replies = self._call(pipe.execute)
        for (experiment, _, _), n in zip(calls, replies, strict=True):
            if int(n) < 0:
                raise self._old_layout(experiment)
        return sum(int(n) for n in replies)

    def _old_layout(self, experiment: str) -> StoreMisconfigured:
        return StoreMisconfigured(
            f"Redis observation store ({self.prefix}): experiment {experiment!r} holds observations in the "
            "layout before per-unit records (or lost its index o:k); its totals cannot be continued. Run "
            f"`routing-agent purge -e {experiment} --store <this store URL>` (export what you need first), "
            "or use another ?prefix="
        )

    # -- read ------------------------------------------------------------------------------------------

    def _variants(self, experiment: str) -> list[str]:
        """The variants observed (``StoreMisconfigured`` for an experiment in the earlier layout)."""
        base = self._base(experiment)
        pipe = self._client.pipeline(transaction=False)
        pipe.smembers(base + "variants")
        pipe.exists(base + "k")
        raw, indexed = self._call(pipe.execute)
        if raw and not indexed:
            raise self._old_layout(experiment)
        return sorted(_text(v) for v in raw)

    def _records(self, experiment: str) -> RecordReader:
        base = self._base(experiment)

        def index() -> Index:
            return Index.parse(self._call(self._client.hgetall, base + "k"))

        def scan(shard: int) -> Iterator[tuple[bytes, bytes]]:
            key, cursor = f"{base}r:{shard}", 0
            while True:
                cursor, page = self._call(self._client.hscan, key, cursor, count=1000)
                yield from page.items()
                if int(cursor) == 0:
                    return

        def sums(args: list[str]) -> list[list[Any]]:
            script = self._sum_script
            keys = [[f"{base}r:{shard}"] for shard in range(SHARDS)]
            if self._cluster:
                return [self._call(script, keys=k, args=args) for k in keys]
            pipe = self._client.pipeline(transaction=False)
            for k in keys:
                script(keys=k, args=args, client=pipe)
            return list(self._call(pipe.execute))

        return RecordReader(index, scan, sums)

    def unit_aggregates(
        self,
        experiment: str,
        metric: str,
        *,
        denominator: str | None = None,
        agent: str | None = None,
        segment: Segment | None = None,
    ) -> dict[str, UnitAggregate]:
        """Per-variant sufficient statistics: running totals, or (with a denominator) joined per unit."""
        base = self._base(experiment)
        variants = self._variants(experiment)
        if denominator is not None:
            if not variants:
                return {}
            return self._records(experiment).paired(metric, denominator, agent, segment)
        out: dict[str, UnitAggregate] = {}
        for variant in variants:
            key = base + "t:" + _scope(metric, agent, segment) + _enc(variant)
            raw = self._call(self._client.hgetall, key)
            if not raw:
                continue
            t = {_text(k): float(_text(v)) for k, v in raw.items()}
            agg = UnitAggregate(
                int(t.get("n_units", 0)),
                int(t.get("n_obs", 0)),
                t.get("sx", 0.0),
                t.get("sx2", 0.0),
                t.get("sy", 0.0),
                t.get("sy2", 0.0),
                t.get("sxy", 0.0),
            )
            if agg.n_units:
                out[variant] = agg
        return out

    def unit_values(
        self, experiment: str, metric: str, *, agent: str | None = None, segment: Segment | None = None
    ) -> Iterator[UnitValue]:
        """Per-unit sums and counts, from the unit records (each record is written atomically, so a unit's
        value and count always come from the same write while writers run)."""
        if not self._variants(experiment):
            return iter(())
        return self._records(experiment).unit_values(metric, agent, segment)

    def histogram(self, experiment: str, metric: str, *, agent: str | None = None) -> dict[str, LogHistogram]:
        """Per-variant log histograms maintained on write."""
        base = self._base(experiment)
        out: dict[str, LogHistogram] = {}
        for variant in self._variants(experiment):
            key = base + "h:" + _scope(metric, agent, None) + _enc(variant)
            raw = {
                _text(k): _text(v) for k, v in self._call(lambda key=key: self._client.hgetall(key)).items()
            }
            if not raw:
                continue
            buckets = {int(k): int(v) for k, v in raw.items() if k.lstrip("-").isdigit()}
            out[variant] = LogHistogram.from_counts(
                buckets, int(raw.get("z", 0)), float(raw["sum"]), float(raw["min"]), float(raw["max"])
            )
        return out

    def tail_aggregates(
        self, experiment: str, metric: str, thresholds: Mapping[str, float], *, agent: str | None = None
    ) -> dict[str, UnitAggregate]:
        """Per variant, each unit's values in buckets at or below the threshold's bucket (from its record)."""
        if not thresholds or not self._variants(experiment):
            return {}
        limits = {variant: bucket_index(float(t)) for variant, t in thresholds.items()}
        return self._records(experiment).tail(metric, limits, agent)

    def time_span(self, experiment: str) -> tuple[float, float] | None:
        """First and last observation time, kept on write."""
        raw = self._call(self._client.hmget, self._base(experiment) + "span", ["min", "max"])
        return None if raw[0] is None else (float(_text(raw[0])), float(_text(raw[1])))

    def counts_by_variant(
        self, experiment: str, metric: str | None = None, *, agent: str | None = None
    ) -> dict[str, int]:
        """Distinct units per variant (set cardinality, or the metric's running unit count)."""
        if metric is not None:
            return {v: a.n_units for v, a in self.unit_aggregates(experiment, metric, agent=agent).items()}
        variants = self._variants(experiment)
        raw = self._call(self._client.hgetall, self._base(experiment) + "n")
        units = {_text(k): int(v) for k, v in raw.items()}
        who = "-" if agent is None else _enc(agent)
        out: dict[str, int] = {}
        for variant in variants:
            n = units.get(who + ":" + _enc(variant), 0)
            if n:
                out[variant] = n
        return out

    def metrics(self, experiment: str) -> set[str]:
        """Metric names observed."""
        return {
            _text(m) for m in self._call(lambda: self._client.smembers(self._base(experiment) + "metrics"))
        }

    def segments(self, experiment: str) -> dict[str, set[str]]:
        """Segment keys and values observed."""
        out: dict[str, set[str]] = {}
        for raw in self._call(self._client.smembers, self._base(experiment) + "segs"):
            key, value = json.loads(_text(raw))
            out.setdefault(str(key), set()).add(str(value))
        return out

    def observations(self, experiment: str, metric: str | None = None) -> Iterator[Observation]:
        """Not kept: Redis stores aggregates only."""
        raise NotImplementedError("RedisObservationStore keeps aggregates, not raw rows (no RAW_ROWS)")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else value


def from_url(url: StoreURL) -> RedisObservationStore:
    """The registry's opener (``routing_agent.stores._url``); ``?timeout=`` defaults to 2 s."""
    build_sync, _ = factories_for(url, default_timeout_s=DEFAULT_TIMEOUT_S)
    store = RedisObservationStore._owning(
        build_sync,
        prefix=url.get("prefix", DEFAULT_PREFIX),
        cluster=bool(url.get("cluster", False)),
        retention_s=retention_of(url),
    )
    check_on_open(lambda: store._client, url, f"Redis observation store ({store.prefix})")
    return store
