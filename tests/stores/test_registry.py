"""Adding a backend is one module per family plus one registry line, and it cannot skip the conformance suite.

Every backend of ``routing_agent.stores._url.BACKENDS`` must have, in each family package, a module exposing
``from_url`` (and, for reviews, ``beside``); and the conformance harness must register it, so the three
families' suites run against it.
"""

from __future__ import annotations

import importlib

import pytest

from routing_agent.stores import Capability
from routing_agent.stores._url import BACKENDS
from tests.stores import harness

FAMILIES = ("assignments", "observations", "reviews")


@pytest.mark.parametrize("backend", [b.module for b in BACKENDS])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_registered_backend_has_a_module_per_family(backend: str, family: str) -> None:
    module = importlib.import_module(f"routing_agent.stores.{family}.{backend}")
    assert callable(module.from_url)
    if family == "reviews":
        assert callable(module.beside)


def test_every_registered_backend_runs_the_conformance_suite() -> None:
    registered = {b.module for b in BACKENDS}
    assert registered <= set(harness.BACKENDS), registered - set(harness.BACKENDS)
    for name, backend in harness.BACKENDS.items():
        assert set(backend.capabilities) == set(FAMILIES), name
        for family, declared in backend.capabilities.items():
            assert declared <= set(Capability), (name, family)


def test_schemes_are_unique_across_backends() -> None:
    schemes = [s for b in BACKENDS for s in b.schemes]
    assert len(schemes) == len(set(schemes))
