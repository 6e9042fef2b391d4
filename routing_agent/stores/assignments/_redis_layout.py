"""Redis key layout and Lua scripts of ``RedisStore`` (Cluster-safe: one hash tag per experiment).

Keys (``P`` = prefix; every key of one experiment carries the hash tag ``{exp:E}``, so an experiment lives in
one cluster slot and each Lua script touches keys of one slot only)::

    P:{exp:E}:a:u:<unit id>     a unit's variant (string; PX when a TTL is given)
    P:{exp:E}:a:h:<sha256>      the same for unit ids longer than 256 bytes
    P:{exp:E}:counts            hash: variant -> assignments created
    P:{exp:E}:state             hash: version, data (JSON of the state without its version)
    P:{exp:E}:history           list of "<version>\\n<data>", oldest first

``E`` is the experiment id when it is made of ``[A-Za-z0-9_.-]``; otherwise ``~`` + hex of its UTF-8 (or
``#`` + SHA-256 when long), so braces and colons in ids can neither break the hash tag nor make keys collide.
The prefix may not contain braces (Redis takes the first ``{…}`` as the tag).
"""

from __future__ import annotations

__all__ = ["GET_OR_SET", "GET_OR_SET_SHA", "SET_STATE", "SET_STATE_SHA", "KeyLayout", "experiment_tag"]

import hashlib

from routing_agent.stores._redis import check_prefix, experiment_tag

_MAX_RAW_UNIT_BYTES = 256

GET_OR_SET = """
local held = redis.call('GET', KEYS[1])
if held then return {held, 0} end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return {ARGV[1], 1}
"""
"""KEYS: unit key, counts key. ARGV: variant, ttl in ms (0 = none). Returns {held variant, created 0/1}."""

SET_STATE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= current then return {0, current} end
local version = current + 1
redis.call('HSET', KEYS[1], 'version', version, 'data', ARGV[1])
redis.call('RPUSH', KEYS[2], version .. '\\n' .. ARGV[1])
return {1, version}
"""
"""KEYS: state, history. ARGV: data, expected version ('' = any). Returns {applied 0/1, version}."""

GET_OR_SET_SHA = hashlib.sha1(GET_OR_SET.encode()).hexdigest()
SET_STATE_SHA = hashlib.sha1(SET_STATE.encode()).hexdigest()


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
