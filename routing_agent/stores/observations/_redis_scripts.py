"""The write script of the Redis observation store and its arguments (layout: ``_redis_records``).

``ADD`` stores a batch. Per new observation (its id not yet in its time-bucketed id set) it updates the unit's
packed record (one hash field per unit, decoded once per call and written back once), the running totals of
every scope (exact: ``Σx² += v·(2·old + v)``, ``Σxy += old_sum + v·new_count``, where the any-agent values are
the sums of the unit's per-agent entries), the histograms, the distinct-unit counters, the sets of variants,
metrics and segments, and the experiment's first/last time. Names are interned to small integers in the
index hash ``k`` the first time they are seen. Every write is O(1) in a unit's history (a record holds one
entry per variant × agent × metric × segment, and at most one bucket counter per log bucket). Every key
written gets the retention TTL (``ARGV[1]`` ms, 0 = none), an id set the dedup TTL (``ARGV[2]``) when made.
Returns the number of observations added, or -1 when the experiment holds the pre-record layout.
"""

from __future__ import annotations

__all__ = ["ADD", "SHARDS", "enc", "observation_args", "scope", "shard_of"]

import hashlib
import json
import zlib

from routing_agent.stores.observations.aggregates import bucket_index
from routing_agent.stores.observations.base import Segment
from routing_agent.stores.observations.observation import Observation

SHARDS = 64
"""Unit records are spread over this many hashes per experiment (bounded ``HSCAN``/``DEL`` work per key)."""
ZERO_BUCKET = -(2**31)
"""The bucket number standing for the zero bucket (values ≤ the smallest positive) in a record."""

ADD = """
local base = KEYS[1]
local keep, id_ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local K = base .. 'k'
if redis.call('EXISTS', K) == 0 and redis.call('EXISTS', base .. 'variants') == 1 then return -1 end
local function f(x) return string.format('%.17g', x) end
local touched = {}
local function t(key) touched[key] = true; return key end
local names = {}
local function intern(kind, name)
  local field = kind .. ':' .. name
  local id = names[field]
  if id then return id end
  id = redis.call('HGET', K, field)
  if id then
    id = tonumber(id)
  else
    id = redis.call('HINCRBY', K, '#' .. kind, 1)
    if kind ~= 'm' and id > 65535 then error('more than 65535 names of kind ' .. kind) end
    redis.call('HSET', K, field, id, kind .. '#' .. id, name)
  end
  names[field] = id
  return id
end
-- an entry's bucket counters stay packed (8 bytes each, sorted by bucket): a bump is a binary search and
-- one splice, so a unit that met many buckets costs no more to write than one that met a few
local function decode(s)
  local entries, pos = {}, 1
  while s and pos <= #s do
    local vid, aid, sid, c, sum, nb, p = struct.unpack('<HHI4I4dH', s, pos)
    pos = p + 8 * nb
    entries[#entries + 1] = {vid = vid, aid = aid, sid = sid, c = c, s = sum, nb = nb,
      raw = string.sub(s, p, pos - 1)}
  end
  return entries
end
local function bump(e, bucket)
  local lo, hi = 0, e.nb - 1
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    local bi, bn = struct.unpack('<i4I4', e.raw, mid * 8 + 1)
    if bi == bucket then
      local at = mid * 8
      e.raw = string.sub(e.raw, 1, at + 4) .. struct.pack('<I4', bn + 1) .. string.sub(e.raw, at + 9)
      return
    elseif bi < bucket then lo = mid + 1 else hi = mid - 1 end
  end
  e.raw = string.sub(e.raw, 1, lo * 8) .. struct.pack('<i4I4', bucket, 1) .. string.sub(e.raw, lo * 8 + 1)
  e.nb = e.nb + 1
end
local function encode(entries)
  local out = {}
  for _, e in ipairs(entries) do
    out[#out + 1] = struct.pack('<HHI4I4dH', e.vid, e.aid, e.sid, e.c, e.s, e.nb) .. e.raw
  end
  return table.concat(out)
end
local records, order = {}, {}
local function record(shard, unit)
  local rk = shard .. ' ' .. unit
  local r = records[rk]
  if not r then
    r = {shard = shard, unit = unit, e = decode(redis.call('HGET', shard, unit))}
    records[rk] = r
    order[#order + 1] = r
  end
  return r
end
-- increments are summed per key and field over the call and applied once at its end (a chunk of a hot
-- unit's observations costs a few commands, not a few per observation)
local ints, floats, lows, highs = {}, {}, {}, {}
local function add_to(acc, key, field, x)
  local h = acc[key]
  if not h then h = {}; acc[key] = h end
  h[field] = (h[field] or 0) + x
end
local function totals(tot, old_s, old_c, v)
  if old_c == 0 then add_to(ints, tot, 'n_units', 1) end
  add_to(ints, tot, 'n_obs', 1)
  add_to(floats, tot, 'sx', v)
  add_to(floats, tot, 'sx2', v * (2 * old_s + v))
  add_to(ints, tot, 'sy', 1)
  add_to(ints, tot, 'sy2', 2 * old_c + 1)
  add_to(floats, tot, 'sxy', old_s + v * (old_c + 1))
end
-- ids: sets of one time window, 1,024 slices at level 0; a full slice (an intset holds 512 members) sends
-- new ids to level k + 1, twice as many slices; a retry finds its id at the level it was stored at
local function first_time(prefix, id)
  local low, member = string.match(id, '^(%d+):(%d+)$')
  low = tonumber(low)
  local level, slices = 0, 1024
  while true do
    local key = prefix .. level .. ':' .. (low % slices)
    if redis.call('SISMEMBER', key, member) == 1 then return 0 end
    if level >= 10 or redis.call('SCARD', key) < 512 then
      redis.call('SADD', key, member)
      if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, id_ttl) end
      return 1
    end
    level, slices = level + 1, slices * 2
  end
end
local added = 0
local tmin, tmax = nil, nil
local i = 3
while i <= #ARGV do
  local idkey, id, variant, unit, vs, metric = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5]
  local bucket, ts, agent, shard = tonumber(ARGV[i+6]), tonumber(ARGV[i+7]), ARGV[i+8], ARGV[i+9]
  local u_any, u_agent, n_seg = ARGV[i+10], ARGV[i+11], tonumber(ARGV[i+12])
  local j = i + 13
  local fresh = 1
  if idkey ~= '' then fresh = first_time(base .. idkey, id) end
  if fresh == 1 then
    local v = tonumber(vs)
    added = added + 1
    if tmin == nil or ts < tmin then tmin = ts end
    if tmax == nil or ts > tmax then tmax = ts end
    t(K)
    redis.call('SADD', t(base .. 'variants'), variant)
    redis.call('SADD', t(base .. 'metrics'), metric)
    local vid = intern('v', variant)
    local aid = 0
    if u_agent ~= '' then aid = intern('a', agent) end
    local r = record(t(base .. 'r:' .. shard), unit)
    local had_v, had_va = false, false
    for _, e in ipairs(r.e) do
      if e.vid == vid then
        had_v = true
        if e.aid == aid then had_va = true end
      end
    end
    local counters = t(base .. 'n')
    if not had_v then add_to(ints, counters, u_any, 1) end
    if u_agent ~= '' and not had_va then add_to(ints, counters, u_agent, 1) end
    for k = 0, n_seg - 1 do
      local sid = intern('m', ARGV[j + 3 * k])
      local any_scope, agent_scope = ARGV[j + 3 * k + 1], ARGV[j + 3 * k + 2]
      local any_s, any_c, mine = 0, 0, nil
      for _, e in ipairs(r.e) do
        if e.vid == vid and e.sid == sid then
          any_s = any_s + e.s; any_c = any_c + e.c
          if e.aid == aid then mine = e end
        end
      end
      if not mine then
        mine = {vid = vid, aid = aid, sid = sid, c = 0, s = 0, nb = 0, raw = ''}
        r.e[#r.e + 1] = mine
      end
      local old_s, old_c = mine.s, mine.c
      mine.s = old_s + v; mine.c = old_c + 1
      if k == 0 then bump(mine, bucket) end
      totals(t(base .. 't:' .. any_scope), any_s, any_c, v)
      if agent_scope ~= '' then totals(t(base .. 't:' .. agent_scope), old_s, old_c, v) end
      if k == 0 then
        for _, sc in ipairs({any_scope, agent_scope}) do
          if sc ~= '' then
            local h = t(base .. 'h:' .. sc)
            local hb = 'z'
            if bucket ~= ZERO then hb = tostring(bucket) end
            add_to(ints, h, hb, 1)
            add_to(ints, h, 'n', 1)
            add_to(floats, h, 'sum', v)
            if (not lows[h]) or v < lows[h][1] then lows[h] = {v, vs} end
            if (not highs[h]) or v > highs[h][1] then highs[h] = {v, vs} end
          end
        end
      end
    end
    j = j + 3 * n_seg
    for k = 1, n_seg - 1 do redis.call('SADD', t(base .. 'segs'), ARGV[j + k - 1]) end
    j = j + n_seg - 1
  else
    j = j + 4 * tonumber(ARGV[i+12]) - 1
  end
  i = j
end
for _, r in ipairs(order) do redis.call('HSET', r.shard, r.unit, encode(r.e)) end
for key, h in pairs(ints) do for field, n in pairs(h) do redis.call('HINCRBY', key, field, n) end end
for key, h in pairs(floats) do
  for field, x in pairs(h) do redis.call('HINCRBYFLOAT', key, field, f(x)) end
end
for key, m in pairs(lows) do
  local lo = redis.call('HGET', key, 'min')
  if (not lo) or m[1] < tonumber(lo) then redis.call('HSET', key, 'min', m[2]) end
end
for key, m in pairs(highs) do
  local hi = redis.call('HGET', key, 'max')
  if (not hi) or m[1] > tonumber(hi) then redis.call('HSET', key, 'max', m[2]) end
end
if tmin ~= nil then
  local span = t(base .. 'span')
  local lo, hi = redis.call('HGET', span, 'min'), redis.call('HGET', span, 'max')
  if (not lo) or tmin < tonumber(lo) then redis.call('HSET', span, 'min', f(tmin)) end
  if (not hi) or tmax > tonumber(hi) then redis.call('HSET', span, 'max', f(tmax)) end
end
if keep > 0 then
  for key in pairs(touched) do redis.call('PEXPIRE', key, keep) end
end
return added
""".replace("ZERO", str(ZERO_BUCKET))


def _id_slot(obs_id: str, ts: float, window_s: float) -> tuple[str, str]:
    """``(ids key prefix, "<slice bits>:<member>")``: a 63-bit hash of the id; its low 20 bits pick the slice
    (at every level), the other 43 are the member (exact in Lua's doubles; with the slice, ≥ 53 bits)."""
    h = int.from_bytes(hashlib.blake2b(obs_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()) >> 1
    return f"ids:{int(ts // window_s)}:", f"{h & 0xFFFFF}:{h >> 20}"


def enc(text: str) -> str:
    """A name part, length-prefixed (``5.calls``) so no id can collide with another or break the tag."""
    return f"{len(text.encode('utf-8', 'surrogatepass'))}.{text}"


def _seg(segment: Segment | None) -> str:
    return enc(segment[0]) + enc(segment[1]) if segment is not None else "-"


def scope(metric: str, agent: str | None, segment: Segment | None) -> str:
    """The key suffix of metric × agent|any × segment|any (totals ``t:`` and histograms ``h:``)."""
    return enc(metric) + (enc(agent) if agent is not None else "-") + _seg(segment)


def metric_name(metric: str, segment: Segment | None) -> str:
    """The interned name of metric × segment|any in a unit record."""
    return enc(metric) + _seg(segment)


def shard_of(unit_id: str) -> int:
    """Which of the ``SHARDS`` record hashes holds the unit."""
    return zlib.crc32(unit_id.encode("utf-8", "surrogatepass")) % SHARDS


def observation_args(obs: Observation, dedup_window_s: float) -> list[str]:
    """The ``ADD`` script arguments of one observation (its id slot, scopes and segments)."""
    variant = enc(obs.variant)
    segments: list[Segment | None] = [None, *sorted(obs.segments.items())]
    per_segment: list[str] = []
    for seg in segments:
        per_segment += [
            metric_name(obs.metric, seg),
            scope(obs.metric, None, seg) + variant,
            "" if obs.agent is None else scope(obs.metric, obs.agent, seg) + variant,
        ]
    index = bucket_index(float(obs.value))
    idkey, member = _id_slot(obs.id, float(obs.ts), dedup_window_s) if obs.id else ("", "")
    head = [
        idkey,
        member,
        obs.variant,
        obs.unit_id,
        repr(float(obs.value)),
        obs.metric,
        str(ZERO_BUCKET if index is None else index),
        repr(float(obs.ts)),
        "" if obs.agent is None else obs.agent,
        str(shard_of(obs.unit_id)),
        "-:" + variant,
        "" if obs.agent is None else enc(obs.agent) + ":" + variant,
        str(len(segments)),
    ]
    return head + per_segment + [json.dumps([k, v]) for k, v in sorted(obs.segments.items())]
