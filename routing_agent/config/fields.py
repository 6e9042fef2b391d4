"""Constrained field types and the strict base model shared by every spec model."""

from __future__ import annotations

__all__ = [
    "AGENT_PATTERN",
    "MODEL_ID_PATTERN",
    "SLUG_PATTERN",
    "UNIT_KEY_DEFAULTS",
    "AgentName",
    "ModelId",
    "ModelParams",
    "Slug",
    "StrictModel",
    "secret_problems",
]

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from routing_agent.config.rules import Loc, SpecProblem

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"
MODEL_ID_PATTERN = r"^[A-Za-z0-9_.-]+:[^\s]+$"
AGENT_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$"
"""ASCII letters, digits and ``_ . : / -``: a right-to-left override or a look-alike Cyrillic letter would
name an agent that never exists, and the experiment would silently route nothing."""

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
"""Lower-case letters, digits, '-' and '_'; starts and ends with a letter or digit; at most 64 characters."""

ModelId = Annotated[str, StringConstraints(pattern=MODEL_ID_PATTERN, max_length=200)]
"""``provider:model``, e.g. ``simulated:fast-small`` or ``openai:gpt-5``."""

AgentName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=AGENT_PATTERN)]

UNIT_KEY_DEFAULTS = {"session": "session_id", "user": "user_id", "request": "request_id"}


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors: a typo must not pass silently. A raw ``ValidationError`` never
    prints the offending value (it may be a secret pasted in the wrong place)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True
    )


_SECRET_KEY = re.compile(
    r"(?i)^(?:[a-z0-9]+[_-])*(?:api[_-]?key|apikey|secret(?:[_-]?(?:access[_-]?)?key)?|client[_-]?secret|"
    r"password|passwd|(?:api|access|auth|bearer|refresh|session|security)[_-]?token|private[_-]?key|"
    r"credentials?|authorization)$"
)
_SECRET_VALUE = re.compile(
    r"^(?:sk-[A-Za-z0-9_-]{16,}|sk-ant-\S+|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abposr]-\S+|"
    r"AIza[0-9A-Za-z_-]{30,}|(?i:bearer)\s+\S{16,})"
)


def secret_problems(value: Any, loc: Loc = ()) -> list[SpecProblem]:
    """A problem for every secret-looking key (``api_key``, ``password``, ``*_token`` …) or value (``sk-…``,
    ``Bearer …``) in a params mapping, at any depth. Secrets live in the environment, referenced by name
    (``api_key_env: MY_VARIABLE``); the messages never repeat the value."""
    problems: list[SpecProblem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if _SECRET_KEY.match(name):
                problems.append(
                    SpecProblem(
                        f"'{name}' would put a secret in the config file: reference it by environment "
                        "variable name instead",
                        fix="remove it and set the provider's own variable (e.g. OPENAI_API_KEY), or write "
                        f"{name}_env: MY_VARIABLE",
                        loc=(*loc, name),
                    )
                )
            else:
                problems.extend(secret_problems(item, (*loc, name)))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problems.extend(secret_problems(item, (*loc, i)))
    elif isinstance(value, str) and _SECRET_VALUE.match(value.strip()):
        problems.append(
            SpecProblem(
                "this value looks like an API key or token: reference it by environment variable name "
                "instead (secrets do not belong in the config file)",
                fix="write <param>_env: MY_VARIABLE and set $MY_VARIABLE where the application runs",
                loc=loc,
            )
        )
    return problems


def _no_secrets(value: dict[str, Any]) -> dict[str, Any]:
    SpecProblem.raise_all(secret_problems(value))
    return value


ModelParams = Annotated[dict[str, Any], AfterValidator(_no_secrets)]
"""Model params as written in the YAML: any mapping without secrets (``<name>_env: VAR`` reads ``$VAR``)."""
