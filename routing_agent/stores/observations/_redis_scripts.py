"""Lua scripts of the Redis observation store (key layout: ``routing_agent.stores.observations.redis``).

* ``ADD`` stores a batch: per new observation, the unit's sum, count and bucket list and the running totals of
  every scope, the histograms, the unit sets, the segments seen, and the experiment's first/last time.
* ``PAIRED`` joins two metrics' per-unit sums (ratio metrics, CUPED covariates) into seven numbers.
* ``TAIL`` counts, per unit, the values whose log bucket is at or below a threshold's (quantile variances).
"""

from __future__ import annotations

__all__ = ["ADD", "PAIRED", "TAIL"]

ADD = """
local base = KEYS[1]
local function f(x) return string.format('%.17g', x) end
local added = 0
local tmin, tmax = nil, nil
local i = 1
while i <= #ARGV do
  local id, variant, unit, vs, metric = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  local v = tonumber(vs)
  local n_scope, n_hist, n_units, n_seg = tonumber(ARGV[i+5]), tonumber(ARGV[i+6]), tonumber(ARGV[i+7]),
    tonumber(ARGV[i+8])
  local bucket = ARGV[i+9]
  local ts = tonumber(ARGV[i+10])
  local j = i + 11
  local fresh = 1
  if id ~= '' then fresh = redis.call('SADD', base .. 'ids', id) end
  if fresh == 1 then
    added = added + 1
    if tmin == nil or ts < tmin then tmin = ts end
    if tmax == nil or ts > tmax then tmax = ts end
    redis.call('SADD', base .. 'variants', variant)
    redis.call('SADD', base .. 'metrics', metric)
    for k = 0, n_scope - 1 do
      local sfx = ARGV[j + k]
      local sums, counts, tot = base .. 's:' .. sfx, base .. 'c:' .. sfx, base .. 't:' .. sfx
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
      local h = base .. 'h:' .. ARGV[j + k]
      redis.call('HINCRBY', h, bucket, 1)
      redis.call('HINCRBY', h, 'n', 1)
      redis.call('HINCRBYFLOAT', h, 'sum', vs)
      local lo = redis.call('HGET', h, 'min')
      if (not lo) or v < tonumber(lo) then redis.call('HSET', h, 'min', vs) end
      local hi = redis.call('HGET', h, 'max')
      if (not hi) or v > tonumber(hi) then redis.call('HSET', h, 'max', vs) end
      local ub = base .. 'ub:' .. ARGV[j + k]
      redis.call('HSET', ub, unit, (redis.call('HGET', ub, unit) or '') .. bucket .. ' ')
    end
    j = j + n_hist
    for k = 0, n_units - 1 do redis.call('SADD', base .. 'u:' .. ARGV[j + k], unit) end
    j = j + n_units
    for k = 0, n_seg - 1 do redis.call('SADD', base .. 'segs', ARGV[j + k]) end
    j = j + n_seg
  else
    j = j + n_scope + n_hist + n_units + n_seg
  end
  i = j
end
if tmin ~= nil then
  local span = base .. 'span'
  local lo, hi = redis.call('HGET', span, 'min'), redis.call('HGET', span, 'max')
  if (not lo) or tmin < tonumber(lo) then redis.call('HSET', span, 'min', f(tmin)) end
  if (not hi) or tmax > tonumber(hi) then redis.call('HSET', span, 'max', f(tmax)) end
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
local units, nobs, sx, sx2, sy, sy2, sxy = 0, 0, 0, 0, 0, 0, 0
for k = 2, #rows, 2 do
  local below, n = 0, 0
  for b in string.gmatch(rows[k], '%S+') do
    n = n + 1
    if b == 'z' then
      below = below + 1
    elseif limit ~= 'z' and tonumber(b) <= cut then
      below = below + 1
    end
  end
  units = units + 1
  nobs = nobs + n
  sx = sx + below; sx2 = sx2 + below * below; sy = sy + n; sy2 = sy2 + n * n; sxy = sxy + below * n
end
return {tostring(units), tostring(nobs), f(sx), f(sx2), f(sy), f(sy2), f(sxy)}
"""
