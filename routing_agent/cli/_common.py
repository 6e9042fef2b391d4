"""What every control command shares: opening stores and configs, and turning failures into clear exits.

Exit codes: 0 done (a no-op included), 1 refused by the rules (a transition not allowed, a stale or already
decided review), 2 cannot run (unknown experiment or review, unreachable store, bad URL, invalid config).
Errors are one or two plain lines on stderr naming what is missing and how to fix it — never a traceback.
"""

from __future__ import annotations

__all__ = [
    "EXIT_CANNOT_RUN",
    "EXIT_REFUSED",
    "ConfigOption",
    "ObservationsOption",
    "StoreOption",
    "cli_errors",
    "load_config",
    "open_control_store",
    "open_run_stores",
    "parse_duration",
    "redact",
    "resolve_specs",
]

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit, urlunsplit

import typer

from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.errors import (
    ConfigError,
    ExperimentNotFound,
    MissingDependency,
    ReviewNotFound,
    StateTransitionError,
    StoreError,
)
from routing_agent.stores.assignments import AssignmentStore, open_control_store

if TYPE_CHECKING:
    from routing_agent.stores.observations.base import ObservationStore

EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Experiments YAML (file or folder).")]
StoreOption = Annotated[
    str, typer.Option("--store", envvar="ROUTING_AGENT_STORE", help="Assignment/state store URL.")
]
ObservationsOption = Annotated[
    str | None,
    typer.Option(
        "--observations",
        envvar="ROUTING_AGENT_OBSERVATIONS",
        help="Observation store URL (default: the --store URL).",
    ),
]
"""The options of the commands that read both stores (``watch``, ``dashboard``)."""

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _store_hint(url: str) -> str:
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite"
    if scheme in ("redis", "rediss", "unix"):
        return (
            "check that the Redis server is running and reachable from here, and the URL's host, port, db "
            "and password (password_env=VAR reads it from $VAR); try: redis-cli -u <url> ping"
        )
    if scheme == "sqlite":
        return "check the file path and that this user may read and write it and its folder"
    return "use memory://, a SQLite file path, sqlite:///path.db, or redis://host:6379/0"


def fail(message: str, code: int = EXIT_CANNOT_RUN) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit to raise."""
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def cli_errors(store_url: str | None = None) -> Iterator[None]:
    """Turn the library's errors into one clear message and an exit code (see the module docstring)."""
    try:
        yield
    except ExperimentNotFound as exc:
        raise fail(f"{exc}" + (f" (store: {redact(store_url)})" if store_url else "")) from None
    except ReviewNotFound as exc:
        raise fail(str(exc)) from None
    except StateTransitionError as exc:
        raise fail(f"refused: {exc}", EXIT_REFUSED) from None
    except ConfigError as exc:
        raise fail(f"invalid config:\n{exc}") from None
    except MissingDependency as exc:
        raise fail(str(exc)) from None
    except StoreError as exc:
        where = f"the store {redact(store_url)}" if store_url else "the store"
        hint = f" Fix: {_store_hint(store_url)}." if store_url else ""
        raise fail(f"cannot use {where}: {exc}.{hint}") from None
    except ValueError as exc:  # bad URLs and arguments, raised before any I/O
        raise fail(str(exc)) from None


def open_run_stores(
    store: str, observations: str | None, experiment: str
) -> tuple[AssignmentStore, ObservationStore]:
    """The assignment store and the observation store (default: the same URL), each checked reachable.

    A store that does not answer, or a bad URL, exits now with the store named (see ``cli_errors``) rather
    than failing at the first evaluation; ``experiment`` is the id the probe reads.
    """
    with cli_errors(store):
        assignments = open_control_store(store)
        try:
            assignments.get_state(experiment)
        except BaseException:
            assignments.close()
            raise
    obs_url = observations or store
    try:
        with cli_errors(obs_url):
            from routing_agent.stores.observations.open import open_observation_store

            obs = open_observation_store(obs_url)
            try:
                obs.counts_by_variant(experiment)
            except BaseException:
                obs.close()
                raise
    except BaseException:
        assignments.close()
        raise
    return assignments, obs


def load_config(path: Path | None) -> ExperimentsConfig | None:
    """The experiments of ``--config`` (None when not given); ``ConfigError`` names file:line and field."""
    if path is None:
        return None
    from routing_agent.loading import load_experiments

    return load_experiments(path)


def resolve_specs(
    config: ExperimentsConfig | None, experiment: str | None, *, many: bool = False
) -> list[ExperimentSpec | str]:
    """The experiment(s) a command acts on: ``--experiment`` (checked against the config when given)."""
    if experiment is not None:
        return [config.get(experiment) if config is not None else experiment]
    if config is None:
        raise ValueError("name the experiment with --experiment ID (or pass --config with its YAML)")
    if len(config) == 1 or (many and len(config) > 0):
        return list(config.experiments)
    known = ", ".join(s.id for s in config.experiments) or "none"
    raise ValueError(f"the config has several experiments; pick one with --experiment (known: {known})")


def parse_duration(text: str) -> float:
    """Seconds in ``"30s"``, ``"5m"``, ``"1h"``, ``"500ms"``, ``"2d"`` or a plain number of seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"cannot read the duration {text!r}: write e.g. 30s, 5m, 1h or 500ms")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]
