"""The config loader with every package's checks plugged in (what ``routing_agent.load_experiments`` is).

``routing_agent.config`` knows none of the packages built on it; ``routing_agent.scoring`` (scorer options)
and ``routing_agent.providers`` (simulated profiles) register their checks with it when imported. Importing
this module imports both — their ``__init__`` modules are light: the scorer factory and the profile registry
load only when a config declares scorers or profiles — so a typo in either is a located ``ConfigError`` at
load time, as ``routing-agent validate`` reports it.
"""

from __future__ import annotations

__all__ = [
    "check_experiments",
    "check_experiments_string",
    "load_experiments",
    "load_experiments_from_string",
]

import routing_agent.providers
import routing_agent.scoring  # noqa: F401  (both register their config checks on import)
from routing_agent.config.loader import (
    check_experiments,
    check_experiments_string,
    load_experiments,
    load_experiments_from_string,
)
