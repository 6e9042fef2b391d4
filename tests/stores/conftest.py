"""``harness``: a conformance test runs once per backend of its module's ``FAMILY`` that meets its needs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stores.harness import Harness, open_harness, parametrize


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(*capabilities): store capabilities a conformance test needs")


def _family(module: object) -> str:
    family = getattr(module, "FAMILY", None)
    assert family is not None, f"{module} sets no FAMILY (assignments, observations or reviews)"
    return str(family)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness" in metafunc.fixturenames:
        parametrize(metafunc, _family(metafunc.module))


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The store of the module's family on the backend named by the test's parameter (torn down after)."""
    yield from open_harness(request.param, _family(request.module), request)
