"""Constrained field types and the strict base model shared by every spec model."""

from __future__ import annotations

__all__ = [
    "AGENT_PATTERN",
    "MODEL_ID_PATTERN",
    "SLUG_PATTERN",
    "UNIT_KEY_DEFAULTS",
    "AgentName",
    "ModelId",
    "Slug",
    "StrictModel",
]

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"
MODEL_ID_PATTERN = r"^[A-Za-z0-9_.-]+:[^\s]+$"
AGENT_PATTERN = r"^[^\s]+$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
"""Lower-case letters, digits, '-' and '_'; starts and ends with a letter or digit; at most 64 characters."""

ModelId = Annotated[str, StringConstraints(pattern=MODEL_ID_PATTERN, max_length=200)]
"""``provider:model``, e.g. ``simulated:fast-small`` or ``openai:gpt-5``."""

AgentName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=AGENT_PATTERN)]

UNIT_KEY_DEFAULTS = {"session": "session_id", "user": "user_id", "request": "request_id"}


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors: a typo must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
