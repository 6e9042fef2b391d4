"""Helpers of the fault tests: the variant the hash gives a unit, a TCP proxy that stalls or delays bytes,
and a socket server that accepts connections and never answers."""

from __future__ import annotations

from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2


def hashed_variant(unit_id: str, experiment: str = "exp", weights: tuple[float, float] = (0.5, 0.5)) -> str:
    """The variant the deterministic hash gives ``unit_id`` in the two-arm test config (control first)."""
    return ["control", "candidate"][choose_variation(hash_v2(experiment, unit_id), bucket_ranges(weights))]
