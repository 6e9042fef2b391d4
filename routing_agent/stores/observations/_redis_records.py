"""Packed per-unit records of the Redis observation store: the key layout, the codec and the reads.

Keys (``P`` = prefix, ``E`` = escaped experiment id; every key of one experiment shares the hash tag
``{exp:E}``, so one Lua call touches one slot of a Redis Cluster)::

    P:{exp:E}:o:r:<shard>           hash unit id -> packed record (``SHARDS`` hashes, by CRC-32 of the id)
    P:{exp:E}:o:k                   index: ``v:``/``a:``/``m:`` + name -> small integer, ``v#3`` -> name, …
    P:{exp:E}:o:n                   hash ``-:<variant>`` / ``<agent>:<variant>`` -> distinct units
    P:{exp:E}:o:t:<scope><variant>  hash n_units, n_obs, sx, sx2, sy, sy2, sxy (running, y = count)
    P:{exp:E}:o:h:<scope><variant>  hash log-bucket -> count, plus n, sum, min, max (segment always any)
    P:{exp:E}:o:ids:<w>:<k>         sets of observation-id hashes (idempotent retries) by time window and
                                    1 of 1,024 slices (small integer sets); TTL two dedup windows
    P:{exp:E}:o:variants / metrics  sets of what was observed; o:segs: set of JSON [key, value]
    P:{exp:E}:o:span                hash min, max: first and last observation time

``scope`` = metric × agent|any × segment|any; name parts are length-prefixed (``5.calls``). A record is a
run of entries, one per variant × agent (0 = none) × metric-and-segment the unit was observed in::

    <HHI4I4dH  variant id, agent id, metric id, count, sum, number of buckets
    <i4I4      bucket, count   (sorted by bucket; segment-any entries only; -2**31 = the zero bucket)

A unit's any-agent value is the sum of its entries over agents. One field per unit replaces the earlier
layout's ~48 hash fields per unit (per-scope sums, counts and bucket counts, each repeating the unit id):
~0.3 KB per one-call session instead of ~3.5 KB. Reads (``unit_values``, ratio and tail aggregates) scan
the record hashes with ``HSCAN`` and compute in Python, so no read blocks Redis for long.
"""

from __future__ import annotations

__all__ = ["Index", "RecordReader", "decode"]

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from routing_agent.stores.observations._redis_scripts import SHARDS, ZERO_BUCKET, metric_name
from routing_agent.stores.observations.aggregates import UnitAggregate, UnitValue
from routing_agent.stores.observations.base import Segment

_ENTRY = struct.Struct("<HHIIdH")
_BUCKET = struct.Struct("<iI")


@dataclass(frozen=True)
class Entry:
    """One entry of a unit record (ids as interned in the experiment's index)."""

    variant: int
    agent: int
    metric: int
    count: int
    total: float
    buckets: dict[int, int]


def decode(raw: bytes) -> list[Entry]:
    """The entries of a packed record."""
    out: list[Entry] = []
    pos, end = 0, len(raw)
    while pos < end:
        vid, aid, sid, count, total, nb = _ENTRY.unpack_from(raw, pos)
        pos += _ENTRY.size
        buckets: dict[int, int] = {}
        for _ in range(nb):
            bucket, n = _BUCKET.unpack_from(raw, pos)
            pos += _BUCKET.size
            buckets[bucket] = n
        out.append(Entry(vid, aid, sid, count, total, buckets))
    return out


@dataclass
class Index:
    """An experiment's interned names (``o:k``), both ways."""

    ids: dict[str, int] = field(default_factory=dict)
    names: dict[tuple[str, int], str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict[bytes, bytes]) -> Index:
        index = cls()
        for key, value in raw.items():
            k, v = key.decode("utf-8", "surrogatepass"), value.decode("utf-8", "surrogatepass")
            if len(k) > 1 and k[1] == ":":
                index.ids[k] = int(v)
            elif len(k) > 1 and k[1] == "#":
                index.names[(k[0], int(k[2:]))] = v
        return index

    def id(self, kind: str, name: str) -> int | None:
        return self.ids.get(f"{kind}:{name}")

    def name(self, kind: str, ident: int) -> str:
        return self.names[(kind, ident)]


class RecordReader:
    """Per-unit values of one experiment, from its record hashes (``scan`` pages one shard with ``HSCAN``)."""

    def __init__(self, index: Index, scan: Callable[[int], Iterator[tuple[bytes, bytes]]]) -> None:
        self.index = index
        self._scan = scan

    def _units(self) -> Iterator[tuple[str, list[Entry]]]:
        for shard in range(SHARDS):
            seen: dict[bytes, bytes] = {}  # HSCAN may repeat a field while the hash is rehashed
            for unit, raw in self._scan(shard):
                seen[unit] = raw
            for unit, raw in seen.items():
                yield unit.decode("utf-8", "surrogatepass"), decode(raw)

    def _selector(
        self, metric: str, agent: str | None, segment: Segment | None
    ) -> tuple[int, int | None] | None:
        sid = self.index.id("m", metric_name(metric, segment))
        if sid is None:
            return None
        if agent is None:
            return sid, None
        aid = self.index.id("a", agent)
        return None if aid is None else (sid, aid)

    def values(
        self, metric: str, agent: str | None, segment: Segment | None, *, buckets: bool = False
    ) -> dict[str, dict[str, tuple[float, int, dict[int, int]]]]:
        """variant -> unit -> (sum, count, bucket counts) for metric × agent|any × segment|any."""
        wanted = self._selector(metric, agent, segment)
        out: dict[str, dict[str, tuple[float, int, dict[int, int]]]] = {}
        if wanted is None:
            return out
        sid, aid = wanted
        for unit, entries in self._units():
            for e in entries:
                if e.metric != sid or (aid is not None and e.agent != aid) or not e.count:
                    continue
                per = out.setdefault(self.index.name("v", e.variant), {})
                total, count, hist = per.get(unit, (0.0, 0, {}))
                if buckets:
                    hist = dict(hist)
                    for b, n in e.buckets.items():
                        hist[b] = hist.get(b, 0) + n
                per[unit] = (total + e.total, count + e.count, hist)
        return out

    def unit_values(self, metric: str, agent: str | None, segment: Segment | None) -> Iterator[UnitValue]:
        """Each unit's sum and count per variant."""
        for variant, units in sorted(self.values(metric, agent, segment).items()):
            for unit, (total, count, _) in units.items():
                yield UnitValue(variant, unit, total, count)

    def paired(
        self, metric: str, denominator: str, agent: str | None, segment: Segment | None
    ) -> dict[str, UnitAggregate]:
        """Per variant: units' (Σ metric, Σ denominator); a unit with the denominator only has x = 0."""
        xs = self.values(metric, agent, segment)
        ys = self.values(denominator, agent, segment)
        out: dict[str, UnitAggregate] = {}
        for variant in sorted(set(xs) | set(ys)):
            x, y = xs.get(variant, {}), ys.get(variant, {})
            units = set(x) | set(y)
            if not units:
                continue
            pairs = [(x[u][0] if u in x else 0.0, y[u][0] if u in y else 0.0) for u in units]
            out[variant] = UnitAggregate.of(pairs, n_obs=sum(x[u][1] for u in x))
        return out

    def tail(self, metric: str, limits: dict[str, int | None], agent: str | None) -> dict[str, UnitAggregate]:
        """Per variant: units' (values in buckets ≤ the limit, all values); limit None = the zero bucket."""
        units_by_variant = self.values(metric, agent, None, buckets=True)
        out: dict[str, UnitAggregate] = {}
        for variant, limit in limits.items():
            pairs: list[tuple[float, float]] = []
            for _, count, hist in units_by_variant.get(variant, {}).values():
                below = sum(
                    n for b, n in hist.items() if b == ZERO_BUCKET or (limit is not None and b <= limit)
                )
                pairs.append((float(below), float(count)))
            if pairs:
                out[variant] = UnitAggregate.of(pairs)
        return out


def text(value: Any) -> str:
    """A Redis reply as text."""
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else str(value)
