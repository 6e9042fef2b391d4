"""Redis observation store: per-unit running aggregates maintained server-side on write, for many workers.

Keys (``P`` = prefix, ``E`` = escaped experiment id; every key of one experiment shares the hash tag
``{exp:E}``, so one Lua call touches one shard of a Redis Cluster)::

    P:{exp:E}:o:ids:<w>:<k>         sets of observation-id hashes (idempotent retries), by time window of
                                    the observation and 1 of 1,024 slices (small integer sets); TTL 2 windows
    P:{exp:E}:o:variants / metrics  sets of what was observed; o:segs: set of JSON [key, value]
    P:{exp:E}:o:u:<agent>:<variant> set of unit ids seen (agent ``-`` = any agent)
    P:{exp:E}:o:s:<scope><variant>  hash unit id -> Σ value        scope = metric × agent|any × segment|any
    P:{exp:E}:o:c:<scope><variant>  hash unit id -> count
    P:{exp:E}:o:t:<scope><variant>  hash n_units, n_obs, sx, sx2, sy, sy2, sxy (running, y = count)
    P:{exp:E}:o:h:<scope><variant>  hash log-bucket -> count, plus n, sum, min, max (segment always any)
    P:{exp:E}:o:ub:<scope><variant> hash "<log bucket> <unit id>" -> count (tail counts)
    P:{exp:E}:o:span                hash min, max: first and last observation time

Name parts are length-prefixed (``5.calls``), so no id can collide with another or break the tag. A batch is
one Lua call: for each new observation it updates the unit's sum and count and the running totals exactly
(``Σx² += v·(old+new)``, ``Σxy += old_sum + v·new_count``), in every scope. ``unit_aggregates`` without a
denominator reads one hash per variant; with a denominator a Lua script joins the two metrics' per-unit hashes
on the server and returns seven numbers per variant; ``tail_aggregates`` counts each unit's buckets at or
below the threshold's bucket in Lua, also seven numbers per variant. No raw rows are kept (no ``RAW_ROWS``).

Writes are O(1) per observation whatever a unit's history. Retention: every key a batch writes expires
``retention_s`` after its last write (``?retention_days=``, default 30), so an experiment's observations
are gone at most that long after it ended; ids are kept for ``dedup_window_s`` (default 1 h) past their
window.
"""

from __future__ import annotations

__all__ = ["RedisObservationStore", "from_url"]

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from routing_agent.errors import StoreUnavailable
from routing_agent.stores._redis import (
    DEFAULT_PREFIX,
    DEFAULT_RETENTION_S,
    check_on_open,
    check_prefix,
    client_factories,
    experiment_tag,
    factories_for,
    redis_errors,
    require_redis,
    retention_of,
)
from routing_agent.stores.capabilities import Capability
from routing_agent.stores.observations._redis_scripts import ADD, PAIRED, TAIL, observation_args
from routing_agent.stores.observations._redis_scripts import enc as _enc
from routing_agent.stores.observations._redis_scripts import scope as _scope
from routing_agent.stores.observations.aggregates import LogHistogram, UnitAggregate, UnitValue, bucket_index
from routing_agent.stores.observations.base import Segment
from routing_agent.stores.observations.observation import Observation, check_observations

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 2.0
"""Observation writes run off the graph's thread (``BufferedObservationWriter``), so they may wait longer."""
DEFAULT_DEDUP_WINDOW_S = 3600.0
"""An observation id is remembered (a retry of it ignored) for at least this long after its time window."""
CHUNK = 16
"""Observations per Lua call: ~40 commands each, so one call holds Redis for well under 5 ms."""


class RedisObservationStore:
    """Observations aggregated inside Redis; inject a client (``redis.Redis``/``RedisCluster``) or a URL."""

    capabilities = frozenset(
        {
            Capability.MULTI_PROCESS,
            Capability.MULTI_HOST,
            Capability.SERVER_SIDE,
        }
    )

    def __init__(
        self,
        client: Any = None,
        *,
        prefix: str = DEFAULT_PREFIX,
        client_factory: Callable[[], Any] | None = None,
        retention_s: float | None = DEFAULT_RETENTION_S,
        dedup_window_s: float = DEFAULT_DEDUP_WINDOW_S,
    ) -> None:
        """Use ``client``, or build one with ``client_factory`` on first use (a ``RedisCluster`` connects when
        built, and an unreachable cluster must fail the first writes, counted, not the constructor).

        ``retention_s``: every key expires this long after its last write (None: never); ``dedup_window_s``:
        how long an observation id is remembered at least (retries later than that would count twice)."""
        check_prefix(prefix)
        if not dedup_window_s > 0:
            raise ValueError(f"dedup_window_s must be positive, not {dedup_window_s!r}")
        self.retention_s = retention_s
        self.dedup_window_s = float(dedup_window_s)
        if client is None and client_factory is None:
            raise ValueError(
                "RedisObservationStore needs a client (or use from_url / open_observation_store)"
            )
        self.prefix = prefix
        self._factory = client_factory
        self._build_lock = threading.Lock()
        self._bound: Any = None
        self._scripts: tuple[Any, Any, Any] | None = None
        self._owns_client = False
        self._closed = False
        if client is not None:
            self._bind(client)

    def _bind(self, client: Any) -> None:
        self._scripts = (
            client.register_script(ADD),
            client.register_script(PAIRED),
            client.register_script(TAIL),
        )
        self._bound = client

    @property
    def _client(self) -> Any:
        if self._closed:
            raise StoreUnavailable(f"Redis observation store ({self.prefix}) is closed")
        if self._bound is None:
            assert self._factory is not None
            with self._build_lock:
                if self._bound is None:
                    self._bind(self._call(self._factory))
        return self._bound

    def _bound_scripts(self) -> tuple[Any, Any, Any]:
        if self._scripts is None or self._closed:
            _ = self._client  # builds and binds the client on first use (or raises StoreUnavailable)
        assert self._scripts is not None
        return self._scripts

    @property
    def _add(self) -> Any:
        return self._bound_scripts()[0]

    @property
    def _paired(self) -> Any:
        return self._bound_scripts()[1]

    @property
    def _tail(self) -> Any:
        return self._bound_scripts()[2]

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        password: str | None = None,
        cluster: bool = False,
        retention_s: float | None = DEFAULT_RETENTION_S,
    ) -> RedisObservationStore:
        """Build a client from a ``redis://`` / ``rediss://`` / ``unix://`` URL under the one client policy of
        every Redis store (``routing_agent.stores._redis``: timeouts, one retry on a broken connection).

        ``password`` overrides the URL's; ``cluster`` uses ``RedisCluster``. Every key of one experiment
        shares a hash tag, so each Lua call touches one cluster slot.
        """
        require_redis()
        build_sync, _ = client_factories(url, timeout_s=timeout_s, password=password, cluster=cluster)
        return cls._owning(build_sync, prefix=prefix, cluster=cluster, retention_s=retention_s)

    @classmethod
    def _owning(
        cls, build: Callable[[], Any], *, prefix: str, cluster: bool, retention_s: float | None
    ) -> RedisObservationStore:
        # A cluster client connects when built: build it on first use, so an unreachable cluster fails the
        # first writes (counted by the writer), not the constructor.
        store = (
            cls(prefix=prefix, client_factory=build, retention_s=retention_s)
            if cluster
            else cls(build(), prefix=prefix, retention_s=retention_s)
        )
        store._owns_client = True
        return store

    def spool_key(self) -> str:
        """Server, database and prefix (never the password), naming the writers' default spool folder."""
        kwargs = getattr(getattr(self._bound, "connection_pool", None), "connection_kwargs", None)
        if not kwargs:  # a cluster: its key prefix names it
            return f"redis-cluster:{self.prefix}"
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"redis:{where}/{kwargs.get('db', 0)}/{self.prefix}"

    def __repr__(self) -> str:
        return f"RedisObservationStore(prefix={self.prefix!r})"

    def _base(self, experiment: str) -> str:
        return f"{self.prefix}:{{exp:{experiment_tag(experiment)}}}:o:"

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._closed:
            raise StoreUnavailable(f"Redis observation store ({self.prefix}) is closed")
        try:
            return fn(*args, **kwargs)
        except redis_errors() as exc:
            raise StoreUnavailable(f"Redis observation store ({self.prefix}): {exc}") from exc

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
        calls: list[tuple[list[str], list[str]]] = []
        for experiment, rows in by_experiment.items():
            keys = [self._base(experiment)]
            for start in range(0, len(rows), CHUNK):
                calls.append((keys, ttls + [a for row in rows[start : start + CHUNK] for a in row]))
        if len(calls) == 1 or self._cluster:
            return sum(int(self._call(self._add, keys=k, args=a)) for k, a in calls)
        add = self._add
        pipe = self._client.pipeline(transaction=False)
        for keys, args in calls:
            add(keys=keys, args=args, client=pipe)
        return sum(int(n) for n in self._call(pipe.execute))

    @property
    def _cluster(self) -> bool:
        import redis as _redis

        return isinstance(self._client, _redis.RedisCluster)

    # -- read ------------------------------------------------------------------------------------------

    def _variants(self, experiment: str) -> list[str]:
        raw = self._call(self._client.smembers, self._base(experiment) + "variants")
        return sorted(_text(v) for v in raw)

    def unit_aggregates(
        self,
        experiment: str,
        metric: str,
        *,
        denominator: str | None = None,
        agent: str | None = None,
        segment: Segment | None = None,
    ) -> dict[str, UnitAggregate]:
        """Per-variant sufficient statistics, read from running totals or joined by Lua on the server."""
        base = self._base(experiment)
        out: dict[str, UnitAggregate] = {}
        for variant in self._variants(experiment):
            sfx = _scope(metric, agent, segment) + _enc(variant)
            if denominator is None:
                raw = self._call(self._client.hgetall, base + "t:" + sfx)
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
            else:
                dsfx = _scope(denominator, agent, segment) + _enc(variant)
                keys = [base + "s:" + sfx, base + "c:" + sfx, base + "s:" + dsfx]
                res = self._call(self._paired, keys=keys, args=[])
                vals = [_text(v) for v in res]
                agg = UnitAggregate(int(vals[0]), int(vals[1]), *(float(v) for v in vals[2:]))
            if agg.n_units:
                out[variant] = agg
        return out

    def unit_values(
        self, experiment: str, metric: str, *, agent: str | None = None, segment: Segment | None = None
    ) -> Iterator[UnitValue]:
        """Per-unit sums and counts, paged with HSCAN; each page's sums and counts are read in one MULTI, so a
        unit's value and count always come from the same write (writers run concurrently)."""
        base = self._base(experiment)
        for variant in self._variants(experiment):
            sfx = _scope(metric, agent, segment) + _enc(variant)
            sums_key, counts_key = base + "s:" + sfx, base + "c:" + sfx
            cursor = 0
            while True:
                cursor, page = self._call(self._client.hscan, sums_key, cursor, count=1000)
                units = list(page)
                if units:
                    pipe = self._client.pipeline(transaction=True)
                    pipe.hmget(sums_key, units)
                    pipe.hmget(counts_key, units)
                    sums, counts = self._call(pipe.execute)
                    for unit, value, count in zip(units, sums, counts, strict=True):
                        if value is not None and count is not None:
                            yield UnitValue(variant, _text(unit), float(_text(value)), int(_text(count)))
                if int(cursor) == 0:
                    break

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
        """Per variant, each unit's values in buckets at or below the threshold's bucket, counted in Lua."""
        base = self._base(experiment)
        out: dict[str, UnitAggregate] = {}
        for variant, threshold in thresholds.items():
            index = bucket_index(float(threshold))
            key = base + "ub:" + _scope(metric, agent, None) + _enc(variant)
            limit = "z" if index is None else str(index)
            vals = [_text(v) for v in self._call(self._tail, keys=[key], args=[limit])]
            agg = UnitAggregate(int(vals[0]), int(vals[1]), *(float(v) for v in vals[2:]))
            if agg.n_units:
                out[variant] = agg
        return out

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
        base = self._base(experiment)
        out: dict[str, int] = {}
        for variant in self._variants(experiment):
            key = base + "u:" + ("-" if agent is None else _enc(agent)) + ":" + _enc(variant)
            n = int(self._call(self._client.scard, key))
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

    def close(self) -> None:
        """Close the client when this store built it (idempotent)."""
        if not self._closed:
            self._closed = True
            if self._owns_client and self._bound is not None:
                self._bound.close()


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
