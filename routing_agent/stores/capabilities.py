"""``Capability``: what a store backend supports beyond its family's protocol — one enum for every family.

Each backend declares ``capabilities``; the conformance harness (``tests/stores``) runs a test only against
backends that declare what the test needs, and checks the declaration against the behaviour.
"""

from __future__ import annotations

__all__ = ["Capability"]

from enum import StrEnum


class Capability(StrEnum):
    """A declared backend capability (the same names for assignments, observations and reviews)."""

    TTL = "ttl"  # entries can expire (sticky assignments with a TTL)
    MULTI_PROCESS = "multi_process"  # several OS processes of one machine share it
    MULTI_HOST = "multi_host"  # several machines share it
    RAW_ROWS = "raw_rows"  # observations: ``observations()`` returns the stored rows
    SERVER_SIDE = "server_side"  # observations: aggregates are maintained by the server on write
