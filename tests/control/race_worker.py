"""Body of one racing OS process (spawned): apply state changes at start signals, report the outcomes."""

from __future__ import annotations

from typing import Any

from routing_agent.control.rollout import Rollout
from routing_agent.errors import StateTransitionError
from tests.assignment.conformance import StoreSpec
from tests.control.specs import make_spec

Race = tuple[str, str, str | None]  # experiment, action, winner


def apply_at_signal(spec: StoreSpec, races: list[Race], actor: str, barrier: Any, out: Any) -> None:
    """Open the store; per race: wait for every racer, apply; put ``(actor, experiment, outcome, x)``."""
    store = spec.open()
    try:
        for experiment, action, winner in races:
            rollout = Rollout(store, make_spec(experiment))
            rollout.current()  # connect (and create the schema) before the start line
            barrier.wait(timeout=120)
            try:
                change = rollout.apply(action, actor=actor, reason=f"{action} by {actor}", winner=winner)
            except StateTransitionError as exc:
                out.put((actor, experiment, "refused", str(exc)))
                continue
            out.put((actor, experiment, "applied" if change.applied else "noop", change.state.version))
    except BaseException as exc:  # report instead of dying silently
        out.put((actor, "", "crashed", repr(exc)))
        raise
    finally:
        store.close()
