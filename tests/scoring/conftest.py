"""Helpers for scoring tests: a judge that fails on purpose, and a handler that records run metadata."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from routing_agent.scoring.simulated_judge import SimulatedJudge


class BrokenJudge(BaseChatModel):
    """A chat model whose every call raises, like a provider outage."""

    @property
    def _llm_type(self) -> str:
        return "broken"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        raise ConnectionError("judge endpoint unreachable")


class CountingJudge(SimulatedJudge):
    """The fair simulated judge, counting how many calls are in flight at once (shared by copies)."""

    counts: dict[str, int] = Field(default_factory=lambda: {"in_flight": 0, "peak": 0})

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.counts["in_flight"] += 1
        self.counts["peak"] = max(self.counts["peak"], self.counts["in_flight"])
        try:
            await asyncio.sleep(0.01)
            return self._result(messages)
        finally:
            self.counts["in_flight"] -= 1


class MetadataRecorder(BaseCallbackHandler):
    """Keeps the metadata and tags of every chat-model run."""

    def __init__(self) -> None:
        self.runs: list[tuple[dict[str, Any], list[str]]] = []

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, metadata: Any = None, tags: Any = None, **kw: Any
    ) -> None:
        self.runs.append((dict(metadata or {}), list(tags or [])))
