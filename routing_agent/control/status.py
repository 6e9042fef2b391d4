"""``experiment_status``: what an operator needs to see about one experiment, read from the shared stores.

The live state (or the YAML's, when the store never recorded one), the full audit trail, units assigned per
variant (with each variant's share against its configured weight when the spec is known), the review
items still waiting, and a store loss when one is recorded (every unit goes to control until a person
acknowledges it with ``routing-agent recover``).
"""

from __future__ import annotations

__all__ = ["ExperimentSnapshot", "experiment_status"]

from dataclasses import dataclass, field
from typing import Any

from routing_agent.config.spec import ExperimentSpec
from routing_agent.control.rollout import Rollout
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.assignments.loss import StoreLoss
from routing_agent.stores.assignments.state import ExperimentState
from routing_agent.stores.reviews.base import ReviewItem, ReviewStatus, ReviewStore


@dataclass(frozen=True)
class ExperimentSnapshot:
    """One experiment as the shared stores see it right now."""

    experiment: str
    state: ExperimentState  # live; version 0 when only the YAML's status applies
    live: bool  # whether the store holds a state (False: the YAML's status applies)
    history: tuple[ExperimentState, ...]
    counts: dict[str, int]  # units assigned per variant
    weights: dict[str, float] = field(default_factory=dict)  # configured shares, when the spec is known
    control: str | None = None
    pending_reviews: tuple[ReviewItem, ...] = ()
    loss: StoreLoss | None = None  # recorded by a worker that found the experiment's data lost

    @property
    def total(self) -> int:
        """Units assigned over all variants."""
        return sum(self.counts.values())

    def share(self, variant: str) -> float | None:
        """The variant's observed share of assigned units (None before any)."""
        return self.counts.get(variant, 0) / self.total if self.total else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        variants = sorted(set(self.counts) | set(self.weights))
        return {
            "experiment": self.experiment,
            "state": self.state.to_json(),
            "live": self.live,
            "control": self.control,
            "variants": [
                {
                    "name": name,
                    "units": self.counts.get(name, 0),
                    "share": self.share(name),
                    "weight": self.weights.get(name),
                }
                for name in variants
            ],
            "units": self.total,
            "history": [s.to_json() for s in self.history],
            "pending_reviews": [r.to_json() for r in self.pending_reviews],
            "store_loss": self.loss.to_json() if self.loss is not None else None,
        }


def experiment_status(
    store: AssignmentStore,
    experiment: ExperimentSpec | str,
    *,
    reviews: ReviewStore | None = None,
) -> ExperimentSnapshot:
    """Read one experiment's state, history, counts and pending reviews.

    Raises ``ExperimentNotFound`` when given only an id the store has never seen, ``StoreUnavailable`` when
    a store fails.
    """
    spec = experiment if isinstance(experiment, ExperimentSpec) else None
    items = reviews.items(spec.id if spec is not None else str(experiment)) if reviews is not None else []
    read_loss = getattr(store, "loss", None)
    loss = read_loss(spec.id if spec is not None else str(experiment)) if read_loss is not None else None
    # review items or a recorded loss prove the experiment exists (a loss may have taken everything else)
    rollout = Rollout(store, experiment, known=bool(items) or loss is not None)
    state = rollout.current()
    pending = tuple(i for i in items if i.status is ReviewStatus.PENDING)
    return ExperimentSnapshot(
        experiment=rollout.experiment,
        state=state,
        live=state.version > 0,
        history=tuple(rollout.history()),
        counts=store.counts(rollout.experiment),
        weights={v.name: v.weight or 0.0 for v in spec.variants} if spec is not None else {},
        control=spec.control.name if spec is not None else None,
        pending_reviews=pending,
        loss=loss,
    )
