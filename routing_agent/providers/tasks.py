"""What a simulated model is asked to do, and the oracles that know the right answer.

A real model "knows" the answer to a task through its training; a simulated one needs an **oracle**: an
object that reads the prompt the workflow built (the same prompt a real model would get — no hidden hints)
and returns the task it poses, with the correct answer and its difficulty. Workflows ship an oracle keyed on
their dataset (ticket text → labelled item). A profile then answers correctly with probability
``quality.p_correct(difficulty)`` and otherwise gives a plausible wrong answer, so quality differences show
up only when a scorer compares outputs with ground truth.

Oracles are registered process-wide (``oracles.register``) or passed to one model (``oracle=``). A prompt
no oracle recognises gets a generic free-text answer (or a schema-shaped instance for structured output).
"""

from __future__ import annotations

__all__ = [
    "Choice",
    "CitedAnswer",
    "Extraction",
    "FreeText",
    "Oracle",
    "OracleRegistry",
    "Score",
    "Selection",
    "Task",
    "Verdict",
    "oracles",
]

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from langchain_core.messages import BaseMessage

logger = logging.getLogger("routing_agent.providers.simulated")


@dataclass(frozen=True)
class Choice:
    """Pick one label. Wrong answers prefer ``near_misses`` (the confusions a real model makes)."""

    answer: str
    options: tuple[str, ...]
    difficulty: float
    field: str = "label"
    near_misses: tuple[str, ...] = ()
    kind: str = "choice"


@dataclass(frozen=True)
class Selection:
    """Pick the relevant ids among ``candidates`` (rerank, policy lookup, citation check).

    With an empty ``gold`` the right answer is "none"; a wrong one picks a candidate anyway.
    """

    gold: tuple[str, ...]
    candidates: tuple[str, ...]
    difficulty: float
    field: str = "ids"
    citation: bool = False
    """The ids are citations: the profile's citation habits (drift, extra, omit) apply to them."""
    kind: str = "selection"


@dataclass(frozen=True)
class Extraction:
    """Fill named fields. Values are JSON scalars; dates are ISO ``YYYY-MM-DD`` strings in ``date_fields``.

    ``alternatives`` lists plausible wrong values per field (a PO number instead of the invoice number);
    fields without any get a generic perturbation.
    """

    fields: Mapping[str, Any]
    difficulty: float
    date_fields: tuple[str, ...] = ()
    alternatives: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    kind: str = "extraction"


@dataclass(frozen=True)
class CitedAnswer:
    """Answer in prose, citing retrieved sources as ``[id]``.

    ``sources`` are the ids the prompt offers, ``gold_sources`` those that support ``answer`` (empty when
    retrieval missed: then no answer can be right). ``wrong_answers`` are plausible wrong statements.
    """

    answer: str
    wrong_answers: tuple[str, ...]
    sources: tuple[str, ...]
    gold_sources: tuple[str, ...]
    difficulty: float
    target_tokens: int | None = None
    no_answer: str = "I could not find this in the provided sources."
    kind: str = "cited_answer"


@dataclass(frozen=True)
class Verdict:
    """A yes/no judgement (is the ticket resolved? is the extraction consistent?)."""

    truth: bool
    difficulty: float
    field: str = "verdict"
    reason_field: str | None = "reason"
    kind: str = "verdict"


@dataclass(frozen=True)
class Score:
    """A Likert-style grade in ``[low, high]``; wrong grades land one (sometimes two) points away."""

    score: int
    difficulty: float
    low: int = 1
    high: int = 5
    field: str = "score"
    kind: str = "score"


@dataclass(frozen=True)
class FreeText:
    """Open-ended text with no right answer (what unrecognised prompts get)."""

    target_tokens: int | None = None
    kind: str = "text"


Task = Choice | Selection | Extraction | CitedAnswer | Verdict | Score | FreeText


@runtime_checkable
class Oracle(Protocol):
    """Maps a prompt to the task it poses, or None when the prompt is not one of its tasks."""

    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        """The task posed by ``messages`` (``tools``: OpenAI-format tool schemas bound to the call)."""
        ...


class OracleRegistry:
    """Process-wide oracles, asked in registration order; the first answer wins."""

    def __init__(self) -> None:
        self._oracles: dict[str, Oracle] = {}
        self._lock = threading.Lock()
        self._failed: set[str] = set()

    def register(self, name: str, oracle: Oracle) -> None:
        """Add (or replace) the oracle called ``name``."""
        with self._lock:
            self._oracles[name] = oracle

    def unregister(self, name: str) -> None:
        """Remove an oracle (no error if absent)."""
        with self._lock:
            self._oracles.pop(name, None)

    def names(self) -> list[str]:
        """Registered oracle names, in the order they are asked."""
        return list(self._oracles)

    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        """Ask each oracle in turn. An oracle that raises is logged once and treated as not knowing."""
        for name, oracle in list(self._oracles.items()):
            try:
                task = oracle.task_for(messages, tools)
            except Exception:
                if name not in self._failed:
                    self._failed.add(name)
                    logger.exception("simulated oracle '%s' failed; treating its prompts as unknown", name)
                continue
            if task is not None:
                return task
        return None


oracles = OracleRegistry()
"""The oracles every ``SimulatedChatModel`` without its own ``oracle`` consults."""
