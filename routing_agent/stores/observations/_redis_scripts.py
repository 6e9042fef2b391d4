"""Lua scripts of the Redis observation store (key layout: ``routing_agent.stores.observations.redis``).

* ``ADD`` stores a batch: per new observation, the unit's sum, count and bucket counts and the running totals
  of every scope, the histograms, the unit sets, the segments seen, and the experiment's first/last time.
  Every write is O(1) whatever the unit's history (no value grows with it); every key written gets the
  retention TTL (``ARGV[1]`` ms, 0 = none), an idempotency set the dedup TTL (``ARGV[2]``) when created.
* ``PAIRED`` joins two metrics' per-unit sums (ratio metrics, CUPED covariates) into seven numbers.
* ``observation_args``: one observation's arguments to ``ADD`` (its scopes and the slot of its id).
* ``TAIL`` counts, per unit, the values whose log bucket is at or below a threshold's (quantile variances),
  from the hash ``"<bucket> <unit>" -> count``.
"""

from __future__ import annotations

__all__ = ["ADD", "PAIRED", "TAIL", "enc", "observation_args", "scope"]

import hashlib
import json

from routing_agent.stores.observations.aggregates import bucket_index
from routing_agent.stores.observations.base import Segment
from routing_agent.stores.observations.observation import Observation

ADD = """
local base = KEYS[1]
local keep, id_ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local function f(x) return string.format('%.17g', x) end
local touched = {}
local function t(key) touched[key] = true; return key end
local added = 0
local tmin, tmax = nil, nil
local i = 3
while i <= #ARGV do
  local idkey, id, variant, unit, vs, metric = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5]
  local v = tonumber(vs)
  local n_scope, n_hist, n_units, n_seg = tonumber(ARGV[i+6]), tonumber(ARGV[i+7]), tonumber(ARGV[i+8]),
    tonumber(ARGV[i+9])
  local bucket = ARGV[i+10]
  local ts = tonumber(ARGV[i+11])
  local j = i + 12
  local fresh = 1
  if idkey ~= '' then
    local ids = base .. idkey
    fresh = redis.call('SADD', ids, id)
    if fresh == 1 and redis.call('PTTL', ids) < 0 then redis.call('PEXPIRE', ids, id_ttl) end
  end
  if fresh == 1 then
    added = added + 1
    if tmin == nil or ts < tmin then tmin = ts end
    if tmax == nil or ts > tmax then tmax = ts end
    redis.call('SADD', t(base .. 'variants'), variant)
    redis.call('SADD', t(base .. 'metrics'), metric)
    for k = 0, n_scope - 1 do
      local sfx = ARGV[j + k]
      local sums, counts, tot = t(base .. 's:' .. sfx), t(base .. 'c:' .. sfx), t(base .. 't:' .. sfx)
      local old_s = tonumber(redis.call('HGET', sums, unit) or '0')
      local old_c = tonumber(redis.call('HGET', counts, unit) or '0')
      redis.call('HINCRBYFLOAT', sums, unit, vs)
      local new_c = redis.call('HINCRBY', counts, unit, 1)
      if old_c == 0 then redis.call('HINCRBY', tot, 'n_units', 1) end
      redis.call('HINCRBY', tot, 'n_obs', 1)
      redis.call('HINCRBYFLOAT', tot, 'sx', vs)
      redis.call('HINCRBYFLOAT', tot, 'sx2', f(v * (2 * old_s + v)))
      redis.call('HINCRBY', tot, 'sy', 1)
      redis.call('HINCRBY', tot, 'sy2', 2 * old_c + 1)
      redis.call('HINCRBYFLOAT', tot, 'sxy', f(old_s + v * new_c))
    end
    j = j + n_scope
    for k = 0, n_hist - 1 do
      local h = t(base .. 'h:' .. ARGV[j + k])
      redis.call('HINCRBY', h, bucket, 1)
      redis.call('HINCRBY', h, 'n', 1)
      redis.call('HINCRBYFLOAT', h, 'sum', vs)
      local lo = redis.call('HGET', h, 'min')
      if (not lo) or v < tonumber(lo) then redis.call('HSET', h, 'min', vs) end
      local hi = redis.call('HGET', h, 'max')
      if (not hi) or v > tonumber(hi) then redis.call('HSET', h, 'max', vs) end
      redis.call('HINCRBY', t(base .. 'ub:' .. ARGV[j + k]), bucket .. ' ' .. unit, 1)
    end
    j = j + n_hist
    for k = 0, n_units - 1 do redis.call('SADD', t(base .. 'u:' .. ARGV[j + k]), unit) end
    j = j + n_units
    for k = 0, n_seg - 1 do redis.call('SADD', t(base .. 'segs'), ARGV[j + k]) end
    j = j + n_seg
  else
    j = j + n_scope + n_hist + n_units + n_seg
  end
  i = j
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
"""

PAIRED = """
local function f(x) return string.format('%.17g', x) end
local xs = redis.call('HGETALL', KEYS[1])
local ns = redis.call('HGETALL', KEYS[2])
local ys = redis.call('HGETALL', KEYS[3])
local x, y, n = {}, {}, {}
for k = 1, #xs, 2 do x[xs[k]] = tonumber(xs[k+1]) end
for k = 1, #ns, 2 do n[ns[k]] = tonumber(ns[k+1]) end
for k = 1, #ys, 2 do y[ys[k]] = tonumber(ys[k+1]); if x[ys[k]] == nil then x[ys[k]] = 0 end end
local units, nobs, sx, sx2, sy, sy2, sxy = 0, 0, 0, 0, 0, 0, 0
for unit, xv in pairs(x) do
  local yv = y[unit] or 0
  units = units + 1
  nobs = nobs + (n[unit] or 0)
  sx = sx + xv; sx2 = sx2 + xv * xv; sy = sy + yv; sy2 = sy2 + yv * yv; sxy = sxy + xv * yv
end
return {tostring(units), tostring(nobs), f(sx), f(sx2), f(sy), f(sy2), f(sxy)}
"""


TAIL = """
local function f(x) return string.format('%.17g', x) end
local limit = ARGV[1]
local cut = tonumber(limit)
local rows = redis.call('HGETALL', KEYS[1])
local below, all = {}, {}
for k = 1, #rows, 2 do
  local b, unit = string.match(rows[k], '^(%S+) (.*)$')
  local c = tonumber(rows[k + 1])
  all[unit] = (all[unit] or 0) + c
  if not (b == 'z' or (limit ~= 'z' and tonumber(b) <= cut)) then c = 0 end
  below[unit] = (below[unit] or 0) + c
end
local units, nobs, sx, sx2, sy, sy2, sxy = 0, 0, 0, 0, 0, 0, 0
for unit, n in pairs(all) do
  local x = below[unit]
  units = units + 1
  nobs = nobs + n
  sx = sx + x; sx2 = sx2 + x * x; sy = sy + n; sy2 = sy2 + n * n; sxy = sxy + x * n
end
return {tostring(units), tostring(nobs), f(sx), f(sx2), f(sy), f(sy2), f(sxy)}
"""


_ID_SLICES = 1024


def _id_slot(obs_id: str, ts: float, window_s: float) -> tuple[str, str]:
    """``(ids key suffix, member)``: a 63-bit hash of the id, sliced so each set stays a compact intset."""
    h = int.from_bytes(hashlib.blake2b(obs_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()) >> 1
    return f"ids:{int(ts // window_s)}:{h % _ID_SLICES}", str(h // _ID_SLICES)


def enc(text: str) -> str:
    """A name part, length-prefixed (``5.calls``) so no id can collide with another or break the tag."""
    return f"{len(text.encode('utf-8', 'surrogatepass'))}.{text}"


def scope(metric: str, agent: str | None, segment: Segment | None) -> str:
    """The key suffix of metric × agent|any × segment|any."""
    agent_part = enc(agent) if agent is not None else "-"
    seg_part = enc(segment[0]) + enc(segment[1]) if segment is not None else "-"
    return enc(metric) + agent_part + seg_part


def observation_args(obs: Observation, dedup_window_s: float) -> list[str]:
    """The ``ADD`` script arguments of one observation (scopes, histograms, unit sets, segments, id slot)."""
    variant = enc(obs.variant)
    agents: list[str | None] = [None] if obs.agent is None else [None, obs.agent]
    segments: list[Segment | None] = [None, *sorted(obs.segments.items())]
    scopes = [scope(obs.metric, a, s) + variant for a in agents for s in segments]
    hists = [scope(obs.metric, a, None) + variant for a in agents]
    units = [("-" if a is None else enc(a)) + ":" + variant for a in agents]
    segs = [json.dumps([k, v]) for k, v in sorted(obs.segments.items())]
    index = bucket_index(float(obs.value))
    idkey, member = _id_slot(obs.id, float(obs.ts), dedup_window_s) if obs.id else ("", "")
    head = [
        idkey,
        member,
        obs.variant,
        obs.unit_id,
        repr(float(obs.value)),
        obs.metric,
        str(len(scopes)),
        str(len(hists)),
        str(len(units)),
        str(len(segs)),
        "z" if index is None else str(index),
        repr(float(obs.ts)),
    ]
    return head + scopes + hists + units + segs
