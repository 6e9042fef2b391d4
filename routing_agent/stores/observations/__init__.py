"""Observations: one measured value per unit, variant and metric, and the stores that keep them.

``open_observation_store(url)`` opens a backend (``memory``, ``sqlite``, ``redis``) by the URL grammar every
store family shares (``routing_agent.stores``); ``BufferedObservationWriter`` is the graph's write path.
"""

from __future__ import annotations

__all__ = [
    "BufferedObservationWriter",
    "MemoryObservationStore",
    "Observation",
    "ObservationStore",
    "UnitAggregate",
    "open_observation_store",
]

from routing_agent.stores.observations.aggregates import UnitAggregate
from routing_agent.stores.observations.base import ObservationStore
from routing_agent.stores.observations.memory import MemoryObservationStore
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.open import open_observation_store
from routing_agent.stores.observations.writer import BufferedObservationWriter
