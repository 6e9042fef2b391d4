"""What the assigner works out once per experiment spec instead of once per decision.

Bucket ranges, the control's name, the variant names, the state a spec implies when the store holds none, the
sticky TTL, and the parts of the ``state["routing"]`` record that do not depend on the unit. A routing node
deciding N experiments per unit pays these once per config, not N times per unit.
"""

from __future__ import annotations

__all__ = ["CompiledSpec"]

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from routing_agent.assignment.hashing import bucket_ranges
from routing_agent.assignment.types import Assignment, TargetedChoice
from routing_agent.config.spec import ExperimentSpec, VariantSpec
from routing_agent.stores.assignments.state import ExperimentState

if TYPE_CHECKING:
    from routing_agent.assignment.assigner import RoutingDecision
    from routing_agent.config.targeting import Conditions


class CompiledSpec:
    """An ``ExperimentSpec`` with its per-spec constants precomputed."""

    __slots__ = ("_control", "_variants", "config_state", "control", "names", "ranges", "spec", "ttl_s")

    def __init__(self, spec: ExperimentSpec) -> None:
        self.spec = spec
        self.ranges = bucket_ranges(spec.weights, spec.coverage)
        self._control: VariantSpec = spec.control
        self.control = self._control.name
        self._variants = {v.name: v for v in spec.variants}
        self.names = frozenset(self._variants)
        self.config_state = ExperimentState(experiment=spec.id, status=spec.status, actor="config")
        self.ttl_s = spec.sticky_ttl_days * 86400.0 if spec.sticky_ttl_days is not None else None

    def record(
        self, unit_id: str | None, decision: RoutingDecision, segments: Mapping[str, Any]
    ) -> Assignment:
        """The plain-data record written into graph state (fresh containers: a caller may mutate them)."""
        spec, control = self.spec, self._control
        variant = self._variants[decision.variant] if decision.variant is not None else None
        record: Assignment = {
            "experiment": spec.id,
            "variant": variant.name if variant is not None else None,
            "model": variant.model if variant is not None else None,
            "params": dict(variant.params) if variant is not None else {},
            "agent_models": dict(variant.agent_models) if variant is not None else {},
            "scope": list(spec.scope),
            "unit": spec.unit.value,
            "unit_id": unit_id,
            "reason": decision.reason.value,
            "segments": {k: str(v) for k, v in segments.items()},
            "fallback": {"model": control.model, "params": dict(control.params)},
        }
        if decision.deferred:
            record["targeted"] = [self._targeted(when, name) for when, name in decision.deferred]
        return record

    def _targeted(self, when: Conditions, name: str) -> TargetedChoice:
        variant = self._variants[name]
        return {
            "when": {k: list(v) for k, v in when.items()},
            "variant": variant.name,
            "model": variant.model,
            "params": dict(variant.params),
            "agent_models": dict(variant.agent_models),
        }
