"""Who makes a state change: the actor a person or ``watch`` claims, and the identity of the process.

Every change ``Rollout`` writes records ``actor`` (``cli_actor`` for people, ``watch_actor`` for the loop)
and ``evidence["identity"]`` from ``environment_identity``; ``describe_segment`` names a segment-level ship.
"""

from __future__ import annotations

__all__ = ["IDENTITY_ENV", "cli_actor", "describe_segment", "environment_identity", "watch_actor"]

import getpass
import os
import socket
from collections.abc import Mapping
from typing import Any


def describe_segment(segment: Mapping[str, Any]) -> str:
    """``category=easy`` / ``category=easy|billing, tier=pro`` for messages and the CLI."""
    parts = []
    for key, values in segment.items():
        vals = values if isinstance(values, list | tuple) else [values]
        parts.append(f"{key}={'|'.join(str(v) for v in vals)}")
    return ", ".join(parts)


def watch_actor() -> str:
    """The actor recorded for automated changes: ``watch@<hostname>:<pid>``."""
    return f"watch@{socket.gethostname()}:{os.getpid()}"


IDENTITY_ENV = "ROUTING_AGENT_IDENTITY"
"""Environment variable naming the identity recorded with every state change (a service account, say)."""


def environment_identity() -> str:
    """Who runs this process: ``$ROUTING_AGENT_IDENTITY``, else the OS account of the effective uid."""
    configured = os.environ.get(IDENTITY_ENV, "").strip()
    if configured:
        return configured
    try:
        import pwd

        return f"os:{pwd.getpwuid(os.geteuid()).pw_name}"
    except (ImportError, KeyError, AttributeError):
        try:
            return f"os:{getpass.getuser()}"
        except Exception:  # no passwd entry, no login name
            return f"os:uid-{os.geteuid()}" if hasattr(os, "geteuid") else "os:unknown"


def cli_actor(explicit: str | None = None) -> str:
    """The actor recorded for a person's change: ``--actor``, else ``$USER``, else the login name."""
    if explicit and explicit.strip():
        return explicit.strip()
    user = os.environ.get("USER") or os.environ.get("USERNAME")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
