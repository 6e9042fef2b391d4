"""What the store conformance suites share: one test run per backend that can do what the test needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest


def parametrize_harness(
    metafunc: pytest.Metafunc, marker: str, backends_for: Callable[[set[Any]], Sequence[str]]
) -> None:
    """Run a test that takes ``harness`` once per backend declaring every capability its ``marker`` names.

    The ``harness`` fixture receives the backend name as ``request.param``. A test whose needs no backend
    meets fails at collection instead of silently running nowhere.
    """
    if "harness" not in metafunc.fixturenames:
        return
    found = metafunc.definition.get_closest_marker(marker)
    needed = set(found.args) if found is not None else set()
    names = backends_for(needed)
    assert names, f"no backend declares {needed}"
    metafunc.parametrize("harness", names, indirect=True)
