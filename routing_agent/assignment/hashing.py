"""GrowthBook-compatible hashing, so an agent experiment buckets units exactly like a GrowthBook flag.

* ``fnv1a32`` — FNV-1a 32-bit (offset 0x811C9DC5, prime 0x01000193) over UTF-16 code units, as GrowthBook's
  Python and JavaScript SDKs do (``charCodeAt``), so non-ASCII unit ids bucket identically. ASCII and
  Latin-1 strings (each code unit one byte) go through the C implementation in ``fnv-hash-fast``. Other
  strings hash their Latin-1 prefix in C too — FNV-1a has no finalisation, so a prefix's hash is the state
  after it — and only the code units from the first wider character on in a Python loop.
* ``hash_v2(seed, value)`` — ``fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000``: variant bucketing.
* ``hash_v1(seed, value)`` — ``fnv1a32(value + seed) % 1000 / 1000``; namespaces use
  ``hash_v1("__" + ns, id)``.
* ``bucket_ranges(weights, coverage)`` — cumulative ``[start, start + coverage·w)``: raising coverage never
  moves an enrolled unit to another variant.
"""

from __future__ import annotations

__all__ = ["bucket_ranges", "choose_variation", "fnv1a32", "hash_v1", "hash_v2", "in_namespace"]

import re
import sys
from collections.abc import Sequence

from fnv_hash_fast import fnv1a_32 as _fnv1a_32_bytes

_OFFSET = 0x811C9DC5
_PRIME = 0x01000193
_MASK = 0xFFFFFFFF
_WIDE_CHAR = re.compile("[^\x00-\xff]")
_UTF16_NATIVE = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"  # code units for memoryview "H"


def fnv1a32(text: str) -> int:
    """FNV-1a 32-bit of ``text`` as GrowthBook computes it."""
    if text.isascii():
        return int(_fnv1a_32_bytes(text.encode("ascii")))
    # Code points <= U+00FF are single UTF-16 code units equal to their Latin-1 byte.
    wide = _WIDE_CHAR.search(text)
    if wide is None:
        return int(_fnv1a_32_bytes(text.encode("latin-1")))
    split = wide.start()
    hval = int(_fnv1a_32_bytes(text[:split].encode("latin-1")))  # the state after the Latin-1 prefix
    for unit in memoryview(text[split:].encode(_UTF16_NATIVE, "surrogatepass")).cast("H"):
        hval = ((hval ^ unit) * _PRIME) & _MASK
    return hval


def hash_v2(seed: str, value: str) -> float:
    """GrowthBook hashing v2: a number in [0, 1) with 4 decimal places."""
    return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000


def hash_v1(seed: str, value: str) -> float:
    """GrowthBook hashing v1 (used for namespaces): a number in [0, 1) with 3 decimal places."""
    return (fnv1a32(value + seed) % 1000) / 1000


def in_namespace(unit_id: str, namespace: str, start: float, end: float) -> bool:
    """Whether the unit falls in ``[start, end)`` of the namespace (GrowthBook's ``inNamespace``)."""
    n = hash_v1("__" + namespace, unit_id)
    return start <= n < end


def bucket_ranges(weights: Sequence[float], coverage: float = 1.0) -> list[tuple[float, float]]:
    """Cumulative ranges ``[start, start + coverage·w)`` per variant (GrowthBook's ``getBucketRanges``)."""
    coverage = min(max(coverage, 0.0), 1.0)
    ranges: list[tuple[float, float]] = []
    cumulative = 0.0
    for w in weights:
        start = cumulative
        cumulative += w
        ranges.append((start, start + coverage * w))
    return ranges


def choose_variation(n: float, ranges: Sequence[tuple[float, float]]) -> int:
    """Index of the range holding ``n``, or -1 when the unit is outside coverage."""
    for i, (start, end) in enumerate(ranges):
        if start <= n < end:
            return i
    return -1
