"""``harness`` runs an observation-store conformance test once per capable backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.observations.conformance import BACKENDS, Harness, backends_for


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "obs_requires(*capabilities): observation-store capabilities needed")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("obs_requires")
    needed = set(marker.args) if marker is not None else set()
    names = backends_for(needed)
    assert names, f"no backend declares {needed}"
    metafunc.parametrize("harness", names, indirect=True)


@pytest.fixture
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    _, factory = BACKENDS[request.param]
    yield from factory(request, tmp_path)
