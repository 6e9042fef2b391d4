"""``harness`` runs an observation-store conformance test once per capable backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.observations.conformance import BACKENDS, Harness, backends_for
from tests.support.conformance import parametrize_harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "obs_requires(*capabilities): observation-store capabilities needed")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_harness(metafunc, "obs_requires", backends_for)


@pytest.fixture
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    _, factory = BACKENDS[request.param]
    yield from factory(request, tmp_path)
