"""Checks other packages plug into config loading, so ``config`` depends on none of them.

``config`` validates its own rules. Checks that need another package's knowledge — a scorer type's options
(``routing_agent.scoring``), the simulated-provider profiles (``routing_agent.providers``) — are registered
here by that package when it is imported, and run by the loader while the YAML line map is still at hand, so
their findings carry file and line like every other issue. ``routing_agent.load_experiments`` (and the CLI)
import the registering packages first; ``routing_agent.config`` alone runs whatever has been registered.
"""

from __future__ import annotations

__all__ = [
    "ExperimentCheck",
    "ProfilesCheck",
    "experiment_checks",
    "profiles_checks",
    "register_experiment_check",
    "register_profiles_check",
]

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from routing_agent.config.yaml_source import Path
from routing_agent.errors import ConfigIssue

if TYPE_CHECKING:  # spec.py runs the profile checks: a run-time import would be circular
    from routing_agent.config.spec import ExperimentSpec


class ExperimentCheck(Protocol):
    """Problems in one experiment: (path inside the experiment, message, fix) for each."""

    def __call__(self, spec: ExperimentSpec, source: str) -> list[tuple[Path, str, str | None]]: ...


class ProfilesCheck(Protocol):
    """Problems in the ``simulated_profiles`` section (``field`` relative to the config's top level)."""

    def __call__(self, profiles: Mapping[str, Mapping[str, Any]]) -> list[ConfigIssue]: ...


_EXPERIMENT: dict[str, ExperimentCheck] = {}
_PROFILES: dict[str, ProfilesCheck] = {}


def register_experiment_check(name: str, check: ExperimentCheck) -> None:
    """Run ``check`` on every experiment loaded from now on (registering a name again replaces it)."""
    _EXPERIMENT[name] = check


def register_profiles_check(name: str, check: ProfilesCheck) -> None:
    """Run ``check`` on every non-empty ``simulated_profiles`` section loaded from now on."""
    _PROFILES[name] = check


def experiment_checks() -> tuple[ExperimentCheck, ...]:
    """The registered experiment checks, in registration order."""
    return tuple(_EXPERIMENT.values())


def profiles_checks() -> tuple[ProfilesCheck, ...]:
    """The registered profile checks, in registration order."""
    return tuple(_PROFILES.values())
