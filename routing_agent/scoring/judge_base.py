"""The machinery every judge scorer shares: options, the judge model, calls with one retry, counters.

``JudgeOptions`` are the YAML options common to ``judge_likert`` and ``judge_pairwise``. ``judge_model``
builds the judge from the catalog with judge run metadata (``routing_agent.role = "judge"``, tag
``routing_agent:judge``) and without experiment keys, so telemetry traces its calls but never counts them
as the experiment's. ``JudgeBase._ask`` / ``_aask`` call it, parse the reply, and retry once with a correction
message when the reply is unreadable or the call failed.
"""

from __future__ import annotations

__all__ = ["JudgeBase", "JudgeOptions", "judge_model"]

import asyncio
import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from pydantic import Field

from routing_agent.config.fields import ModelId, ModelParams, StrictModel
from routing_agent.graph import metadata as meta
from routing_agent.providers.catalog import ModelCatalog, catalog
from routing_agent.scoring.base import Score, Status
from routing_agent.scoring.events import JUDGE_TAG, ROLE, ROLE_JUDGE
from routing_agent.scoring.judge_parse import Reading
from routing_agent.scoring.judge_prompts import JudgePrompt, get_prompt
from routing_agent.scoring.normalize import as_text

logger = logging.getLogger("routing_agent.scoring")

_ROUTING_KEYS = (meta.EXPERIMENT, meta.VARIANT, meta.UNIT, meta.UNIT_ID, meta.REASON, meta.SEGMENTS)


class JudgeOptions(StrictModel):
    """Options shared by ``judge_likert`` and ``judge_pairwise``."""

    judge_model: ModelId
    """The trusted judge: any catalog model id (``openai:gpt-5-mini``; ``simulated:judge`` or
    ``simjudge:fair`` offline)."""
    judge_params: ModelParams = Field(default_factory=dict)
    """Params of the judge model (e.g. ``temperature: 0``, ``timeout: 30``)."""
    prompt_version: str = "v1"
    input_field: str | None = None
    """State/record path of the question shown to the judge (default: question, query, input, … if any)."""
    include_reference: bool = True
    """Show the reference answer to the judge when the sample has one."""
    max_chars: int = Field(default=8000, ge=100)
    """Longest question/reference/answer text sent; longer text is cut (and marked as cut)."""
    retries: int = Field(default=1, ge=0, le=3)
    timeout_s: float | None = Field(default=60.0, gt=0)
    """Per-call timeout: async calls are cancelled after it; sync calls (an inline ``ScoringNode``) run in a
    worker thread and are abandoned after it, so a hung judge never holds the user's graph longer."""
    concurrency: int = Field(default=8, ge=1, le=256)
    """Judge calls in flight at most during async batch scoring."""


def judge_model(
    model_id: str, params: dict[str, Any], name: str, prompt: JudgePrompt, models: ModelCatalog
) -> BaseChatModel:
    """The judge chat model with judge run metadata and no experiment keys."""
    if model_id.startswith(("simjudge:", "simulated:")):
        # registers the simjudge provider and the judge-prompt oracle of the simulated provider
        import routing_agent.scoring.simulated_judge  # noqa: F401
    base = models.get(model_id, params)
    info = {k: v for k, v in (base.metadata or {}).items() if k not in _ROUTING_KEYS}
    info.update(
        {
            ROLE: ROLE_JUDGE,
            meta.MODEL_ID: model_id,
            "routing_agent.judge.scorer": name,
            "routing_agent.judge.prompt": prompt.id,
        }
    )
    tags = [*(base.tags or []), JUDGE_TAG]
    return base.model_copy(update={"metadata": info, "tags": tags})


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " […cut]"


class JudgeBase:
    """Shared by the Likert and pairwise judges: the model, calls with one retry, counters."""

    pairwise = False

    def __init__(
        self,
        name: str,
        options: JudgeOptions,
        kind: str,
        model: BaseChatModel | None,
        models: ModelCatalog | None,
    ) -> None:
        self.name = name
        self.options = options
        self.prompt = get_prompt("likert" if kind == "likert" else "pairwise", options.prompt_version)
        self._given = model
        self._models = models or catalog
        self._llm: BaseChatModel | None = None
        self._config: RunnableConfig = {
            "metadata": {ROLE: ROLE_JUDGE, "routing_agent.judge.scorer": name},
            "tags": [JUDGE_TAG],
            "run_name": f"judge:{name}",
        }
        self.counts = {"calls": 0, "retries": 0, "errors": 0, "invalid": 0, "verdicts": 0}
        self._warned = False

    def stats(self) -> dict[str, int]:
        """Judge calls, retries, failed calls, invalid verdicts and verdicts so far."""
        return dict(self.counts)

    @property
    def llm(self) -> BaseChatModel:
        """The judge model (built on first use, so a config loads without provider credentials)."""
        if self._llm is None:
            if self._given is not None:
                base = self._given
                info = {k: v for k, v in (base.metadata or {}).items() if k not in _ROUTING_KEYS}
                info.update({ROLE: ROLE_JUDGE, "routing_agent.judge.scorer": self.name})
                self._llm = base.model_copy(
                    update={"metadata": info, "tags": [*(base.tags or []), JUDGE_TAG]}
                )
            else:
                self._llm = judge_model(
                    self.options.judge_model, self.options.judge_params, self.name, self.prompt, self._models
                )
        return self._llm

    def _text(self, value: Any) -> str:
        return _cut(as_text(value), self.options.max_chars)

    def _reference(self, value: Any) -> str | None:
        return self._text(value) if self.options.include_reference and value is not None else None

    def _failed(self, exc: BaseException) -> str:
        self.counts["errors"] += 1
        if not self._warned:
            self._warned = True
            logger.warning(
                "judge '%s' call failed (%s: %s); counted as invalid after retry",
                self.name,
                type(exc).__name__,
                exc,
            )
        return f"judge call failed: {type(exc).__name__}: {exc}"

    def _ask(self, messages: list[BaseMessage], parse: Callable[[str], Reading]) -> Reading:
        reply: str | None = None
        reading = Reading(None, error="no reply")
        for attempt in range(self.options.retries + 1):
            if attempt:
                self.counts["retries"] += 1
                messages = self._follow_up(messages, reply, reading)
            self.counts["calls"] += 1
            try:
                reply = self._call(messages).text
            except Exception as exc:
                reply, reading = None, Reading(None, error=self._failed(exc))
                continue
            reading = parse(reply)
            if reading.value is not None:
                break
        return self._count(reading)

    async def _aask(
        self, messages: list[BaseMessage], parse: Callable[[str], Reading], limit: asyncio.Semaphore | None
    ) -> Reading:
        reply: str | None = None
        reading = Reading(None, error="no reply")
        for attempt in range(self.options.retries + 1):
            if attempt:
                self.counts["retries"] += 1
                messages = self._follow_up(messages, reply, reading)
            self.counts["calls"] += 1
            try:
                reply = (await _limited(limit, self._acall(messages))).text
            except Exception as exc:
                reply, reading = None, Reading(None, error=self._failed(exc))
                continue
            reading = parse(reply)
            if reading.value is not None:
                break
        return self._count(reading)

    def _call(self, messages: list[BaseMessage]) -> BaseMessage:
        timeout = self.options.timeout_s
        if not timeout:
            return self.llm.invoke(messages, config=self._config)
        context = contextvars.copy_context()  # the caller's run context: judge spans nest where they belong
        future = _judge_pool().submit(context.run, self.llm.invoke, messages, config=self._config)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()  # not started yet: never runs; running: abandoned, its result ignored
            raise TimeoutError(f"the judge did not answer within {timeout:g} s (timeout_s)") from None

    async def _acall(self, messages: list[BaseMessage]) -> AIMessage:
        call = self.llm.ainvoke(messages, config=self._config)
        result = await (asyncio.wait_for(call, self.options.timeout_s) if self.options.timeout_s else call)
        assert isinstance(result, AIMessage)
        return result

    def _follow_up(
        self, messages: list[BaseMessage], reply: str | None, reading: Reading
    ) -> list[BaseMessage]:
        if reply is None:  # the call itself failed: ask the same again
            return messages
        return [*messages[:2], AIMessage(reply), self.prompt.retry(reading.error or "unreadable")]

    def _count(self, reading: Reading) -> Reading:
        self.counts["verdicts"] += 1
        if reading.value is None:
            self.counts["invalid"] += 1
        return reading

    def _invalid(self, error: str | None) -> Score:
        return Score(
            self.name,
            None,
            label="invalid",
            explanation=error,
            status=Status.INVALID,
            details={"invalid": 1.0},
        )

    def score_batch(self, items: Sequence[Any]) -> list[Score]:
        """Scores one after another (use ``ascore_batch`` for concurrency)."""
        return [self.score(item) for item in items]

    def score(self, item: Any) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _ascore(self, item: Any, limit: asyncio.Semaphore | None) -> Score:  # pragma: no cover
        raise NotImplementedError

    async def ascore(self, item: Any) -> Score:
        """Async twin of ``score``."""
        return await self._ascore(item, None)

    async def ascore_batch(self, items: Sequence[Any], *, concurrency: int | None = None) -> list[Score]:
        """Scores concurrently with at most ``concurrency`` judge calls in flight (default from options)."""
        limit = asyncio.Semaphore(concurrency or self.options.concurrency)
        return list(await asyncio.gather(*(self._ascore(item, limit) for item in items)))

    def __repr__(self) -> str:
        kind = type(self).__name__
        return f"{kind}(name={self.name!r}, model={self.options.judge_model!r}, prompt={self.prompt.id!r})"


_T = TypeVar("_T")
_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _judge_pool() -> ThreadPoolExecutor:
    """Worker threads for sync judge calls (created on first use, shared by every judge)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=32, thread_name_prefix="routing-agent-judge"))
        return _POOL[0]


async def _limited(limit: asyncio.Semaphore | None, aw: Awaitable[_T]) -> _T:
    if limit is None:
        return await aw
    async with limit:
        return await aw
