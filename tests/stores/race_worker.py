"""Body of one racing OS process (spawned): propose this process's variant for every unit, report results."""

from __future__ import annotations

from typing import Any

from tests.stores.harness import StoreSpec


def race(spec: StoreSpec, experiment: str, units: list[str], variant: str, barrier: Any, out: Any) -> None:
    """Open the store, wait for every racer, then ``get_or_set`` each unit; put ``(variant, results)``."""
    store = spec.open()
    try:
        store.get("warm-up", "connection")  # connect (and create the schema) before the start line
        barrier.wait(timeout=120)
        results = [store.get_or_set(experiment, unit, variant) for unit in units]
        out.put((variant, results))
    except BaseException as exc:  # report instead of dying silently
        out.put((variant, repr(exc)))
        raise
    finally:
        store.close()
