"""Body of one racing OS process (spawned): make changes at start signals, report the outcomes.

Each race is ``(experiment, what, winner)``: ``what`` is a ``Rollout`` action (``rollback``, ``ship``…) or
``review`` (queue a review item for the experiment, as a ``watch`` with ``review: required`` does).
"""

from __future__ import annotations

import time
from typing import Any

from routing_agent.control.rollout import Rollout
from routing_agent.errors import StateTransitionError
from routing_agent.stores.reviews import ReviewItem, review_store_for
from tests.control.specs import make_spec
from tests.stores.harness import StoreSpec

Race = tuple[str, str, str | None]  # experiment, action or "review", winner


def apply_at_signal(spec: StoreSpec, races: list[Race], actor: str, barrier: Any, out: Any) -> None:
    """Open the stores; per race: wait for every racer, act; put ``(actor, experiment, outcome, detail)``."""
    store = spec.open()
    reviews = review_store_for(store)
    try:
        for experiment, what, winner in races:
            rollout = Rollout(store, make_spec(experiment))
            rollout.current()  # connect (and create the schema) before the start line
            reviews.items(experiment)
            barrier.wait(timeout=120)
            if what == "review":
                item = ReviewItem(
                    id=f"{experiment}:{int(actor.rsplit(':', 1)[1]):08x}",
                    experiment=experiment,
                    winner=winner or "candidate",
                    decision={"kind": "ship", "winner": winner},
                    created_at=time.time(),
                    requested_by=actor,
                    state_version=0,
                )
                held, created = reviews.submit(item)
                out.put((actor, experiment, "applied" if created else "noop", held.id))
                continue
            try:
                change = rollout.apply(what, actor=actor, reason=f"{what} by {actor}", winner=winner)
            except StateTransitionError as exc:
                out.put((actor, experiment, "refused", str(exc)))
                continue
            out.put((actor, experiment, "applied" if change.applied else "noop", change.state.version))
    except BaseException as exc:  # report instead of dying silently
        out.put((actor, "", "crashed", repr(exc)))
        raise
    finally:
        reviews.close()
        store.close()
