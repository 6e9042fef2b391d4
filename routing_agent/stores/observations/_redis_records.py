"""Packed per-unit records of the Redis observation store: the key layout, the codec and the reads.

Keys (``P`` = prefix, ``E`` = escaped experiment id; every key of one experiment shares the hash tag
``{exp:E}``, so one Lua call touches one slot of a Redis Cluster)::

    P:{exp:E}:o:r:<shard>           hash unit id -> packed record (``SHARDS`` hashes, by CRC-32 of the id)
    P:{exp:E}:o:k                   index: ``v:``/``a:``/``m:`` + name -> small integer, ``v#3`` -> name, …
    P:{exp:E}:o:n                   hash ``-:<variant>`` / ``<agent>:<variant>`` -> distinct units
    P:{exp:E}:o:t:<scope><variant>  hash n_units, n_obs, sx, sx2, sy, sy2, sxy (running, y = count)
    P:{exp:E}:o:h:<scope><variant>  hash log-bucket -> count, plus n, sum, min, max (segment always any)
    P:{exp:E}:o:ids:<w>:<l>:<k>     sets of observation-id hashes (idempotent retries) by time window, level
                                    and slice: 1,024·2^l slices at level l, ≤ 512 ids each (compact intsets;
                                    a full slice sends new ids one level down); TTL two dedup windows
    P:{exp:E}:o:variants / metrics  sets of what was observed; o:segs: set of JSON [key, value]
    P:{exp:E}:o:span                hash min, max: first and last observation time

``scope`` = metric × agent|any × segment|any; name parts are length-prefixed (``5.calls``). A record is a
run of entries, one per variant × agent (0 = none) × metric-and-segment the unit was observed in::

    <HHI4I4dH  variant id, agent id, metric id, count, sum, number of buckets
    <i4I4      bucket, count   (sorted by bucket; segment-any entries only; -2**31 = the zero bucket)

A unit's any-agent value is the sum of its entries over agents. One field per unit replaces the earlier
layout's ~48 hash fields per unit (per-scope sums, counts and bucket counts, each repeating the unit id):
~0.3 KB per one-call session instead of ~3.5 KB. Reads: per-unit values page the record hashes with
``HSCAN``; ratio and tail aggregates run ``SUMS`` on each record hash (the data stays on the server; one call
blocks Redis for one shard only).
"""

from __future__ import annotations

__all__ = ["SUMS", "Index", "RecordReader"]

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from routing_agent.errors import StoreUnavailable
from routing_agent.stores.observations._redis_scripts import SHARDS, ZERO_BUCKET, metric_name
from routing_agent.stores.observations.aggregates import UnitAggregate, UnitValue
from routing_agent.stores.observations.base import Segment

SUMS = """
local function f(x) return string.format('%.17g', x) end
local mode, sx_id, sy_id, aid = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local limits = {}
for k = 5, #ARGV, 2 do limits[tonumber(ARGV[k])] = tonumber(ARGV[k + 1]) end
local rows = redis.call('HGETALL', KEYS[1])
local out = {}
for r = 2, #rows, 2 do
  local s, pos = rows[r], 1
  local xs, ys, ns, seen = {}, {}, {}, {}
  while pos <= #s do
    local vid, a, sid, c, sum, nb, p = struct.unpack('<HHI4I4dH', s, pos)
    pos = p + 8 * nb
    if c > 0 and (aid < 0 or a == aid) then
      if mode == 'tail' then
        local limit = limits[vid]
        if sid == sx_id and limit then
          local below = 0
          for k = 0, nb - 1 do
            local bi, bn = struct.unpack('<i4I4', s, p + 8 * k)
            if bi == ZERO or bi <= limit then below = below + bn else break end
          end
          seen[vid] = true
          xs[vid] = (xs[vid] or 0) + below
          ys[vid] = (ys[vid] or 0) + c
          ns[vid] = (ns[vid] or 0) + c
        end
      else
        if sid == sx_id then
          seen[vid] = true; xs[vid] = (xs[vid] or 0) + sum; ns[vid] = (ns[vid] or 0) + c
        end
        if sid == sy_id then seen[vid] = true; ys[vid] = (ys[vid] or 0) + sum end
      end
    end
  end
  for vid in pairs(seen) do
    local x, y = xs[vid] or 0, ys[vid] or 0
    local o = out[vid]
    if not o then o = {0, 0, 0, 0, 0, 0, 0}; out[vid] = o end
    o[1] = o[1] + 1; o[2] = o[2] + (ns[vid] or 0)
    o[3] = o[3] + x; o[4] = o[4] + x * x; o[5] = o[5] + y; o[6] = o[6] + y * y; o[7] = o[7] + x * y
  end
end
local reply = {}
for vid, o in pairs(out) do
  reply[#reply + 1] = tostring(vid)
  for k = 1, 7 do reply[#reply + 1] = f(o[k]) end
end
return reply
""".replace("ZERO", str(ZERO_BUCKET))
"""Per-variant sums over one record hash, on the server (the data stays there; a call blocks Redis for one
shard). ARGV: ``paired`` (x = Σ metric, y = Σ denominator; x = 0 for a unit with only the denominator) or
``tail`` (x = values in buckets ≤ the variant's limit, y = all values: ARGV[5…] = variant id, limit pairs,
``-2**31`` = the zero bucket only), metric id, denominator id, agent id (-1 = any). Returns variant id and
units, observations, Σx, Σx², Σy, Σy², Σxy, repeated."""

_ENTRY = struct.Struct("<HHIIdH")
_BUCKET = struct.Struct("<iI")


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
    """Per-unit values of one experiment from its record hashes: ``scan(shard)`` pages one hash (``HSCAN``),
    ``sums(args)`` runs ``SUMS`` on every shard and returns the replies."""

    def __init__(
        self,
        load_index: Callable[[], Index],
        scan: Callable[[int], Iterator[tuple[bytes, bytes]]],
        sums: Callable[[list[str]], list[list[Any]]],
    ) -> None:
        self._load_index = load_index
        self.index = load_index()
        self._scan = scan
        self._sums = sums

    def _variant(self, vid: int) -> str:
        """A variant's name; the index is read again for one interned since (writers run concurrently)."""
        if ("v", vid) not in self.index.names:
            self.index = self._load_index()
            if ("v", vid) not in self.index.names:
                raise StoreUnavailable(
                    f"Redis observation store: variant #{vid} is missing from the index o:k"
                )
        return self.index.name("v", vid)

    def _agent(self, agent: str | None) -> int | None:
        """The agent id to match (-1 = any), None when the agent was never observed."""
        return -1 if agent is None else self.index.id("a", agent)

    def unit_values(self, metric: str, agent: str | None, segment: Segment | None) -> Iterator[UnitValue]:
        """Each unit's sum and count per variant (entries of other metrics are skipped undecoded)."""
        sid, aid = self.index.id("m", metric_name(metric, segment)), self._agent(agent)
        if sid is None or aid is None:
            return
        for shard in range(SHARDS):
            seen: dict[bytes, bytes] = {}  # HSCAN may repeat a field while the hash is rehashed
            for unit, raw in self._scan(shard):
                seen[unit] = raw
            for unit, raw in seen.items():
                per: dict[int, tuple[float, int]] = {}
                pos, end = 0, len(raw)
                while pos < end:
                    vid, a, s, count, total, nb = _ENTRY.unpack_from(raw, pos)
                    pos += _ENTRY.size + _BUCKET.size * nb
                    if s == sid and count and (aid < 0 or a == aid):
                        old = per.get(vid, (0.0, 0))
                        per[vid] = (old[0] + total, old[1] + count)
                for vid, (total, count) in per.items():
                    yield UnitValue(self._variant(vid), text(unit), total, count)

    def _aggregates(self, args: list[str]) -> dict[str, UnitAggregate]:
        out: dict[str, UnitAggregate] = {}
        for reply in self._sums(args):
            for k in range(0, len(reply), 8):
                vals = [text(v) for v in reply[k : k + 8]]
                agg = UnitAggregate(int(float(vals[1])), int(float(vals[2])), *(float(v) for v in vals[3:]))
                variant = self._variant(int(vals[0]))
                out[variant] = out[variant] + agg if variant in out else agg
        return {v: a for v, a in sorted(out.items()) if a.n_units}

    def paired(
        self, metric: str, denominator: str, agent: str | None, segment: Segment | None
    ) -> dict[str, UnitAggregate]:
        """Per variant: units' (Σ metric, Σ denominator); a unit with the denominator only has x = 0."""
        sx, sy = (
            self.index.id("m", metric_name(metric, segment)),
            self.index.id("m", metric_name(denominator, segment)),
        )
        aid = self._agent(agent)
        if (sx is None and sy is None) or aid is None:
            return {}
        return self._aggregates(
            ["paired", str(-1 if sx is None else sx), str(-1 if sy is None else sy), str(aid)]
        )

    def tail(self, metric: str, limits: dict[str, int | None], agent: str | None) -> dict[str, UnitAggregate]:
        """Per variant: units' (values in buckets ≤ the limit, all values); limit None = the zero bucket."""
        sid, aid = self.index.id("m", metric_name(metric, None)), self._agent(agent)
        if sid is None or aid is None:
            return {}
        args = ["tail", str(sid), "-1", str(aid)]
        for variant, limit in limits.items():
            vid = self.index.id("v", variant)
            if vid is not None:
                args += [str(vid), str(ZERO_BUCKET if limit is None else limit)]
        return self._aggregates(args) if len(args) > 4 else {}


def text(value: Any) -> str:
    """A Redis reply as text."""
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else str(value)
