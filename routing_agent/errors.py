"""One exception hierarchy for everything routing-agent raises on purpose.

```
RoutingAgentError
 ├── ConfigError          a YAML file or spec is wrong (names file:line, experiment, field, and the fix)
 ├── StoreError           an assignment/observation store failed (the routing node catches it and degrades)
 │    ├── StoreUnavailable  the store cannot be reached or timed out
 │    └── StoreMisconfigured a Redis server can lose data (eviction, no persistence) and the store refuses it
 ├── ModelResolutionError a model id cannot be turned into a chat model (unknown provider or profile)
 ├── ExperimentNotFound   a CLI or API call names an experiment that no config or store knows
 ├── ReviewNotFound       a CLI or API call names a review item the review queue does not hold
 ├── StateTransitionError an experiment state change is not allowed (e.g. shipping a rolled-back experiment)
 └── MissingDependency    an optional extra is not installed; the message says which ``pip install`` fixes it
```

The user's graph never sees these from the routing node at run time: store failures fall back to the
deterministic hash and are counted (see README, "Failure modes").
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "ExperimentNotFound",
    "MissingDependency",
    "ModelResolutionError",
    "ReviewNotFound",
    "RoutingAgentError",
    "StateTransitionError",
    "StoreError",
    "StoreMisconfigured",
    "StoreUnavailable",
    "printable",
]

import re
from dataclasses import dataclass

_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (ANSI escapes included) and bidirectional overrides
    from user data are shown as ``\\xNN`` / ``\\uNNNN`` instead of acting on the operator's screen."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class RoutingAgentError(Exception):
    """Base class of every error routing-agent raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in a config: where it is, what is wrong, and how to fix it."""

    file: str
    line: int | None
    experiment: str | None
    field: str | None
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        parts = [where]
        if self.experiment is not None:
            parts.append(f"experiment '{self.experiment}'")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        text = ", ".join(parts) + f": {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return printable(text)


class ConfigError(RoutingAgentError, ValueError):
    """A config is invalid. ``issues`` lists every problem found (not just the first)."""

    def __init__(self, issues: list[ConfigIssue] | ConfigIssue | str) -> None:
        if isinstance(issues, str):
            issues = [ConfigIssue(file="<config>", line=None, experiment=None, field=None, message=issues)]
        elif isinstance(issues, ConfigIssue):
            issues = [issues]
        self.issues: list[ConfigIssue] = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class StoreError(RoutingAgentError):
    """A store operation failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached, refused the operation, or did not answer within its timeout."""


class StoreMisconfigured(StoreError):
    """A Redis server can lose data silently (eviction, no persistence) and the store was told to refuse it
    (``?durability=refuse``); the message names each problem and the setting that fixes it."""


class ModelResolutionError(RoutingAgentError, ValueError):
    """A model id could not be resolved to a chat model."""


class ExperimentNotFound(RoutingAgentError, KeyError):
    """No loaded config or store knows the named experiment."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "experiment not found"


class ReviewNotFound(RoutingAgentError, KeyError):
    """The review queue holds no item with the given id."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "review not found"


class StateTransitionError(RoutingAgentError):
    """An experiment state change is not allowed from the current state."""


class MissingDependency(RoutingAgentError, ImportError):
    """An optional dependency is missing; the message carries the install hint."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f"{package} is not installed. Install it with: pip install 'routing-agent[{extra}]'")
        self.package = package
        self.extra = extra
