"""SQLite observation store: the embedded default. Aggregates are SQL ``GROUP BY`` queries in the database.

One table, ``observations``; ``id`` is UNIQUE so retried batches are idempotent (``INSERT OR IGNORE``). The
connection model of every SQLite store (``routing_agent.stores._sqlite``): one connection per thread, WAL
(readers never wait for the writer), writes queued per process, then on ``busy_timeout_ms`` across
processes. Segments are stored as JSON and filtered with ``json_extract``. Per-unit sums come from a
``GROUP BY variant, unit_id`` subquery, per-variant sufficient statistics from the outer ``GROUP BY
variant``: the evaluator receives a few numbers per variant.
"""

from __future__ import annotations

__all__ = ["SQLiteObservationStore", "from_url"]

import json
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from routing_agent.errors import StoreUnavailable
from routing_agent.stores._sqlite import ThreadConnections, check_path
from routing_agent.stores.capabilities import Capability
from routing_agent.stores.observations.aggregates import (
    EXACT_INTEGER_LIMIT,
    LogHistogram,
    UnitAggregate,
    UnitValue,
    bucket_index,
)
from routing_agent.stores.observations.base import Segment
from routing_agent.stores.observations.observation import Observation, check_observations

if TYPE_CHECKING:
    from routing_agent.stores._url import StoreURL

_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE,
    experiment TEXT NOT NULL,
    variant TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    agent TEXT,
    segments TEXT NOT NULL DEFAULT '{}',
    ts REAL NOT NULL,
    trace_id TEXT,
    span_id TEXT
);
CREATE INDEX IF NOT EXISTS observations_by_metric ON observations (experiment, metric, variant, unit_id);
"""

_COLUMNS = "id, experiment, variant, unit_id, metric, value, agent, segments, ts, trace_id, span_id"


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _filters(agent: str | None, segment: Segment | None) -> tuple[str, list[Any]]:
    sql = ""
    args: list[Any] = []
    if agent is not None:
        sql += " AND agent = ?"
        args.append(agent)
    if segment is not None:
        sql += " AND json_extract(segments, ?) = ?"
        args.extend([_json_path(segment[0]), segment[1]])
    return sql, args


_WINDOW = "OVER (PARTITION BY variant)"


def _small_integers_sql(column: str) -> str:
    return (
        f"MAX(ABS({column})) {_WINDOW} <= {EXACT_INTEGER_LIMIT} "
        f"AND SUM({column} <> ROUND({column})) {_WINDOW} = 0"
    )


def _shifted_sums(inner: str) -> str:
    """Per-variant sums of per-unit ``(x, y, n)`` rows around each variant's shifts (see ``UnitAggregate``):
    ``u = x − c·y`` with ``c = Σx / Σy`` and ``w = y − AVG(y)``, each 0 for small-integer data."""
    c = (
        f"CASE WHEN {_small_integers_sql('x')} OR SUM(y) {_WINDOW} = 0 THEN 0.0 "
        f"ELSE CAST(SUM(x) {_WINDOW} AS REAL) / SUM(y) {_WINDOW} END"
    )
    e = f"CASE WHEN {_small_integers_sql('y')} THEN 0.0 ELSE AVG(y) {_WINDOW} END"
    shifted = (
        "SELECT variant, x - c * y AS u, y - e AS w, n, c, e FROM "
        f"(SELECT variant, x, y, n, {c} AS c, {e} AS e FROM ({inner}))"
    )
    return (
        "SELECT variant, COUNT(*), SUM(n), SUM(u), SUM(u * u), SUM(w), SUM(w * w), SUM(u * w), "
        f"MAX(c), MAX(e) FROM ({shifted}) GROUP BY variant"
    )


def _shifted_aggregates(rows: list[Any]) -> dict[str, UnitAggregate]:
    return {
        str(r[0]): UnitAggregate(int(r[1]), int(r[2] or 0), *(float(v or 0.0) for v in r[3:])) for r in rows
    }


class SQLiteObservationStore:
    """Observations in one SQLite file (WAL), shared by the threads and processes of one machine."""

    capabilities = frozenset({Capability.MULTI_PROCESS, Capability.RAW_ROWS})

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 5000) -> None:
        """Open (creating if needed) the table in the database at ``path``; its folder is created too.

        ``busy_timeout_ms``: how long a write waits for another writer before it raises ``StoreUnavailable``.
        """
        self.path = check_path(path, "SQLiteObservationStore")
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._connections = ThreadConnections(
            self.path, self.busy_timeout_ms, owner="SQLite observation store"
        )
        with self._connections.write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        self._identity = self._file_identity()

    def spool_key(self) -> str | None:
        """The file, naming the writers' default spool folder (None: an in-memory database, no spool)."""
        where = str(self.path)
        if where == ":memory:" or where.startswith("file::memory:"):
            return None
        return f"sqlite:{os.path.realpath(where)}"

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return info.st_dev, info.st_ino

    def check_file(self) -> None:
        """Raise ``StoreUnavailable`` when the file was deleted or replaced since this store opened it.

        An open SQLite connection keeps writing into a deleted (or renamed-over) file's inode, which no
        reader will ever see: every write checks the file's identity first, so such a loss is reported and
        the writer keeps the observations (spooled or buffered, retried) instead of writing into the void."""
        now = self._file_identity()
        if now != self._identity:
            what = "deleted" if now is None else "replaced by another file"
            raise StoreUnavailable(
                f"the observation store file {self.path} was {what} since it was opened; nothing is written "
                "into the old file. Restore it, or restart the workers so they open the new one"
            )

    def __repr__(self) -> str:
        return f"SQLiteObservationStore({str(self.path)!r})"

    def _query(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._connections.read():
            return list(self._connections.get().execute(sql, args))

    def add(self, observations: Sequence[Observation]) -> int:
        """Insert a batch in one transaction; rows whose id exists are skipped.

        ``ValueError`` (nothing stored) when an observation is invalid (``observation_problem``)."""
        observations = list(observations)
        check_observations(observations)
        self.check_file()
        rows = [
            (
                o.id,
                o.experiment,
                o.variant,
                o.unit_id,
                o.metric,
                float(o.value),
                o.agent,
                json.dumps(dict(o.segments), sort_keys=True),
                o.ts,
                o.trace_id,
                o.span_id,
            )
            for o in observations
        ]
        with self._connections.write() as conn:
            before = conn.total_changes
            conn.executemany(
                f"INSERT OR IGNORE INTO observations ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows
            )
            return int(conn.total_changes - before)

    def unit_aggregates(
        self,
        experiment: str,
        metric: str,
        *,
        denominator: str | None = None,
        agent: str | None = None,
        segment: Segment | None = None,
    ) -> dict[str, UnitAggregate]:
        """Per-variant sufficient statistics over units, computed by SQLite."""
        where, args = _filters(agent, segment)
        if denominator is None:
            inner = (
                "SELECT variant, SUM(value) AS x, COUNT(*) AS y, COUNT(*) AS n FROM observations "
                f"WHERE experiment = ? AND metric = ?{where} GROUP BY variant, unit_id"
            )
            params: list[Any] = [experiment, metric, *args]
        else:
            inner = (
                "SELECT variant, SUM(CASE WHEN metric = ? THEN value ELSE 0 END) AS x, "
                "SUM(CASE WHEN metric = ? THEN value ELSE 0 END) AS y, "
                "SUM(CASE WHEN metric = ? THEN 1 ELSE 0 END) AS n FROM observations "
                f"WHERE experiment = ? AND metric IN (?, ?){where} GROUP BY variant, unit_id"
            )
            params = [metric, denominator, metric, experiment, metric, denominator, *args]
        return _shifted_aggregates(self._query(_shifted_sums(inner), params))

    def unit_values(
        self, experiment: str, metric: str, *, agent: str | None = None, segment: Segment | None = None
    ) -> Iterator[UnitValue]:
        """Per-unit sums and counts, grouped by SQLite."""
        where, args = _filters(agent, segment)
        sql = (
            "SELECT variant, unit_id, SUM(value), COUNT(*) FROM observations "
            f"WHERE experiment = ? AND metric = ?{where} GROUP BY variant, unit_id"
        )
        for variant, unit, value, n in self._query(sql, [experiment, metric, *args]):
            yield UnitValue(str(variant), str(unit), float(value), int(n))

    def histogram(self, experiment: str, metric: str, *, agent: str | None = None) -> dict[str, LogHistogram]:
        """Per-variant histogram: values are bucketed by SQL (one row per distinct value and variant)."""
        where, args = _filters(agent, None)
        sql = (
            "SELECT variant, value, COUNT(*) FROM observations "
            f"WHERE experiment = ? AND metric = ?{where} GROUP BY variant, value"
        )
        buckets: dict[str, dict[int, int]] = defaultdict(dict)
        zero: dict[str, int] = defaultdict(int)
        total: dict[str, float] = defaultdict(float)
        lo: dict[str, float] = {}
        hi: dict[str, float] = {}
        for variant, value, n in self._query(sql, [experiment, metric, *args]):
            v, count = float(value), int(n)
            index = bucket_index(v)
            if index is None:
                zero[variant] += count
            else:
                buckets[variant][index] = buckets[variant].get(index, 0) + count
            total[variant] += v * count
            lo[variant] = min(lo.get(variant, v), v)
            hi[variant] = max(hi.get(variant, v), v)
        return {v: LogHistogram.from_counts(buckets[v], zero[v], total[v], lo[v], hi[v]) for v in lo}

    def tail_aggregates(
        self, experiment: str, metric: str, thresholds: Mapping[str, float], *, agent: str | None = None
    ) -> dict[str, UnitAggregate]:
        """Per-variant sums over units of (observations ≤ the variant's threshold, observations), in SQL."""
        if not thresholds:
            return {}
        where, args = _filters(agent, None)
        cases = " ".join("WHEN ? THEN ?" for _ in thresholds)
        marks = ", ".join("?" for _ in thresholds)
        inner = (
            f"SELECT variant, SUM(value <= (CASE variant {cases} END)) AS x, COUNT(*) AS y FROM observations "
            f"WHERE experiment = ? AND metric = ? AND variant IN ({marks}){where} GROUP BY variant, unit_id"
        )
        inner = f"SELECT variant, x, y, y AS n FROM ({inner})"
        params: list[Any] = [item for pair in thresholds.items() for item in (pair[0], float(pair[1]))]
        params += [experiment, metric, *thresholds, *args]
        return _shifted_aggregates(self._query(_shifted_sums(inner), params))

    def time_span(self, experiment: str) -> tuple[float, float] | None:
        """First and last observation time."""
        rows = self._query("SELECT MIN(ts), MAX(ts) FROM observations WHERE experiment = ?", [experiment])
        low, high = rows[0] if rows else (None, None)
        return None if low is None else (float(low), float(high))

    def counts_by_variant(
        self, experiment: str, metric: str | None = None, *, agent: str | None = None
    ) -> dict[str, int]:
        """Distinct units per variant."""
        where, args = _filters(agent, None)
        if metric is not None:
            where = " AND metric = ?" + where
            args = [metric, *args]
        sql = (
            "SELECT variant, COUNT(DISTINCT unit_id) FROM observations "
            f"WHERE experiment = ?{where} GROUP BY variant"
        )
        return {str(v): int(n) for v, n in self._query(sql, [experiment, *args])}

    def metrics(self, experiment: str) -> set[str]:
        """Metric names observed."""
        rows = self._query("SELECT DISTINCT metric FROM observations WHERE experiment = ?", [experiment])
        return {str(r[0]) for r in rows}

    def segments(self, experiment: str) -> dict[str, set[str]]:
        """Segment keys and values observed."""
        sql = (
            "SELECT DISTINCT j.key, j.value FROM observations, json_each(observations.segments) AS j "
            "WHERE experiment = ?"
        )
        out: dict[str, set[str]] = defaultdict(set)
        for key, value in self._query(sql, [experiment]):
            out[str(key)].add(str(value))
        return dict(out)

    def observations(self, experiment: str, metric: str | None = None) -> Iterator[Observation]:
        """Raw rows in insertion order."""
        sql = f"SELECT {_COLUMNS} FROM observations WHERE experiment = ?"
        args: list[Any] = [experiment]
        if metric is not None:
            sql += " AND metric = ?"
            args.append(metric)
        for row in self._query(sql + " ORDER BY seq", args):
            yield Observation(
                id=row[0],
                experiment=row[1],
                variant=row[2],
                unit_id=row[3],
                metric=row[4],
                value=float(row[5]),
                agent=row[6],
                segments=json.loads(row[7]),
                ts=float(row[8]),
                trace_id=row[9],
                span_id=row[10],
            )

    def close(self) -> None:
        """Close every connection this store opened (idempotent); later calls raise ``StoreUnavailable``."""
        self._connections.close()


def from_url(url: StoreURL) -> SQLiteObservationStore:
    """The registry's opener: the file at ``url.location``, ``?busy_timeout_ms=`` (default 5000)."""
    return SQLiteObservationStore(url.location, busy_timeout_ms=url.get("busy_timeout_ms", 5000))
