"""Redis key layout and Lua scripts of ``RedisStore`` (Cluster-safe: one hash tag per experiment).

Keys (``P`` = prefix; every key of one experiment carries the hash tag ``{exp:E}``, so an experiment lives in
one cluster slot and each Lua script touches keys of one slot only)::

    P:{exp:E}:a:u:<unit id>     a unit's variant (string; PX when a TTL is given)
    P:{exp:E}:a:h:<sha256>      the same for unit ids longer than 256 bytes
    P:{exp:E}:counts            hash: variant -> assignments created; ``@anchored`` (made beside an anchor)
    P:{exp:E}:state             hash: version, data (JSON of the state without its version), and the anchor:
                                epoch, evicted (the server's evicted_keys then), lost, retired, acknowledged
    P:{exp:E}:history           list of "<version>\\n<data>", oldest first

``E`` is the experiment id when it is made of ``[A-Za-z0-9_.-]``; otherwise ``~`` + hex of its UTF-8 (or
``#`` + SHA-256 when long), so braces and colons in ids can neither break the hash tag nor make keys collide.
The prefix may not contain braces (Redis takes the first ``{…}`` as the tag).
"""

from __future__ import annotations

__all__ = [
    "ACKNOWLEDGE",
    "ACKNOWLEDGE_SHA",
    "GET_OR_SET",
    "GET_OR_SET_SHA",
    "READ_STATE",
    "READ_STATE_SHA",
    "SET_STATE",
    "SET_STATE_SHA",
    "KeyLayout",
    "experiment_tag",
]

import hashlib

from routing_agent.stores._redis import check_prefix, experiment_tag

_MAX_RAW_UNIT_BYTES = 256

_ANCHOR = """
local function evicted_now()
  local info = redis.pcall('INFO', 'stats')  -- an ACL user without @dangerous: no eviction signal, no error
  if type(info) ~= 'string' then return 0 end
  return tonumber(string.match(info, 'evicted_keys:(%d+)')) or 0
end
local function mark(state, reason, lost_epoch, fresh, by)
  local t = redis.call('TIME')
  local v = reason .. '|' .. t[1] .. '|' .. by .. '|' .. (lost_epoch or '')
  redis.call('HSET', state, 'lost', v, 'epoch', fresh, 'evicted', evicted_now())
  return v
end
local function anchor(state, counts, known, fresh, by, check_evicted)
  local a = redis.call('HMGET', state, 'epoch', 'lost', 'evicted', 'retired', 'version')
  local epoch, lost = a[1], a[2]
  if lost then return epoch or fresh, lost end
  if not epoch then
    if known ~= '' then return fresh, mark(state, 'anchor_missing', known, fresh, by) end
    if redis.call('HEXISTS', counts, '@anchored') == 1 then
      return fresh, mark(state, 'anchor_missing', '', fresh, by)
    end
    if a[5] then  -- a state written before anchors existed: this hash was never lost; anchor it
      redis.call('HSET', state, 'epoch', fresh, 'evicted', evicted_now())
      return fresh, false
    end
    if evicted_now() > 0 then return fresh, mark(state, 'evicted', '', fresh, by) end
    redis.call('HSET', state, 'epoch', fresh, 'evicted', 0)
    return fresh, false
  end
  if known ~= '' and epoch ~= known
     and not string.find(' ' .. (a[4] or '') .. ' ', ' ' .. known .. ' ', 1, true) then
    return fresh, mark(state, 'epoch_changed', known, fresh, by)
  end
  if check_evicted then
    local ev, base = evicted_now(), tonumber(a[3] or '0')
    if ev > base then return fresh, mark(state, 'evicted', epoch, fresh, by) end
    if ev < base then redis.call('HSET', state, 'evicted', ev) end
  end
  return epoch, false
end
"""
"""Lua shared by the scripts below: ``anchor`` checks (and on first contact makes) an experiment's anchor —
its epoch token and the server's ``evicted_keys`` when it was made — in the state hash, and records a loss
there (``lost`` = ``reason|unix time|detector|lost epoch``) when the anchor is gone, replaced, or the server
evicted keys since. A counts hash marked ``@anchored`` without an anchor means the anchor was lost too (counts
and states written before anchors existed are adopted, not a loss); so may a new anchor on a
server that has evicted keys since it started (made in loss mode: a person confirms with ``recover``).
An ACL user that may not run ``INFO`` (in ``@dangerous``) gets no eviction signal; the anchor checks stay."""

GET_OR_SET = (
    _ANCHOR
    + """
local held = redis.call('GET', KEYS[1])
local epoch, lost = anchor(KEYS[3], KEYS[2], ARGV[3], ARGV[4], ARGV[5], not held)
if lost then return {'', -1, epoch, lost} end
local ttl, keep = tonumber(ARGV[2]), tonumber(ARGV[6])
if held then
  if ttl == 0 and keep > 0 and redis.call('PTTL', KEYS[1]) < keep / 2 then
    redis.call('PEXPIRE', KEYS[1], keep)
  end
  return {held, 0, epoch, ''}
end
local life = ttl
if life == 0 then life = keep end
if life > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', life)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSETNX', KEYS[2], '@anchored', 1)
if keep > 0 then redis.call('PEXPIRE', KEYS[2], keep) end
return {ARGV[1], 1, epoch, ''}
"""
)
"""KEYS: unit, counts, state. ARGV: variant, sticky ttl ms (0 = none), known epoch ('' = none), fresh epoch,
detector, retention ms (0 = keep). Returns {held variant, created 1/0 (-1 = lost), epoch, loss}. A unit key
lives for its sticky TTL, else for the retention, renewed while the unit keeps coming back."""

READ_STATE = (
    _ANCHOR
    + """
local epoch, lost = anchor(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], true)
local s = redis.call('HMGET', KEYS[1], 'version', 'data')
return {s[1] or '', s[2] or '', epoch, lost or ''}
"""
)
"""KEYS: state, counts. ARGV: known epoch, fresh epoch, detector. Returns {version, data, epoch, loss}."""

SET_STATE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= current then return {0, current} end
local version = current + 1
redis.call('HSET', KEYS[1], 'version', version, 'data', ARGV[1])
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[3])
redis.call('RPUSH', KEYS[2], version .. '\\n' .. ARGV[1])
return {1, version}
"""
"""KEYS: state, history. ARGV: data, expected version ('' = any), fresh epoch. Returns {applied 0/1, version}.
A state change never clears a recorded loss (``ACKNOWLEDGE`` does)."""

ACKNOWLEDGE = (
    _ANCHOR
    + """
local a = redis.call('HMGET', KEYS[1], 'lost', 'retired', 'epoch')
if not a[1] then return 0 end
local old = string.match(a[1], '([^|]*)$') or ''
local retired = {}
for token in string.gmatch((a[2] or '') .. ' ' .. old, '%S+') do table.insert(retired, token) end
while #retired > 16 do table.remove(retired, 1) end
redis.call('HSET', KEYS[1], 'retired', table.concat(retired, ' '), 'evicted', evicted_now(),
  'acknowledged', ARGV[1], 'epoch', a[3] or ARGV[2])
redis.call('HDEL', KEYS[1], 'lost')
return 1
"""
)
"""KEYS: state. ARGV: ``actor|unix time|reason``, fresh epoch. Clears a recorded loss; workers holding the
lost epoch adopt the current one (it is retired, not a new loss). Returns 1 when a loss was cleared."""

GET_OR_SET_SHA = hashlib.sha1(GET_OR_SET.encode()).hexdigest()
SET_STATE_SHA = hashlib.sha1(SET_STATE.encode()).hexdigest()
READ_STATE_SHA = hashlib.sha1(READ_STATE.encode()).hexdigest()
ACKNOWLEDGE_SHA = hashlib.sha1(ACKNOWLEDGE.encode()).hexdigest()


class KeyLayout:
    """Builds the keys of one prefix (experiment bases are cached)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = check_prefix(prefix)
        self._bases: dict[str, bytes] = {}

    def base(self, experiment: str) -> bytes:
        """``P:{exp:E}:`` for the experiment."""
        base = self._bases.get(experiment)
        if base is None:
            base = f"{self.prefix}:{{exp:{experiment_tag(experiment)}}}:".encode()
            if len(self._bases) < 10_000:
                self._bases[experiment] = base
        return base

    def unit(self, experiment: str, unit_id: str) -> bytes:
        """The key holding a unit's variant."""
        raw = unit_id.encode("utf-8", "surrogatepass")
        if len(raw) > _MAX_RAW_UNIT_BYTES:
            return self.base(experiment) + b"a:h:" + hashlib.sha256(raw).hexdigest().encode()
        return self.base(experiment) + b"a:u:" + raw

    def fixed(self, experiment: str, name: str) -> bytes:
        """``counts``, ``state`` or ``history`` of the experiment."""
        return self.base(experiment) + name.encode()
