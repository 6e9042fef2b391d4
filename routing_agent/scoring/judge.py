"""Judge-LLM scorers: Likert (1–5 against a rubric) and pairwise (control vs test, judged in both orders).

Any model id of the catalog can judge (``openai:gpt-5-mini``, ``simjudge:fair`` offline). Each call sends a
versioned prompt (``judge_prompts``) with the judged text fenced as data, and reads the reply with a robust
parser (``judge_parse``). An unreadable reply, an empty one, a score off the scale or a failed call is
retried once with a correction message; if the second reply is no better, the verdict is ``invalid``:
recorded as ``<name>.invalid`` = 1, excluded from the metric, counted in ``stats()``, never raised.

Pairwise: each pair is judged twice, control as A then test as A. The test wins (1.0) or loses (0.0) only
when both orders agree; when they disagree, or both say tie, it is a tie (0.5). ``<name>.position_bias`` is
1.0 when the judge picked the same slot in both orders (the position, not the answer, decided), so its mean
is the position-bias rate. If either order is invalid the pair is invalid.

Judge calls carry ``routing_agent.role = "judge"`` run metadata (see ``events``): traced like any call,
excluded from the experiment's cost and latency.
"""

from __future__ import annotations

__all__ = [
    "JudgeOptions",
    "LikertJudge",
    "LikertOptions",
    "PairwiseJudge",
    "PairwiseOptions",
    "judge_model",
]

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from pydantic import Field, field_validator

from routing_agent.config.fields import ModelId, StrictModel
from routing_agent.graph import metadata as meta
from routing_agent.providers.catalog import ModelCatalog, catalog
from routing_agent.scoring.base import Pair, Sample, Score, Status
from routing_agent.scoring.events import JUDGE_TAG, ROLE, ROLE_JUDGE
from routing_agent.scoring.judge_parse import Reading, parse_likert, parse_winner
from routing_agent.scoring.judge_prompts import (
    DEFAULT_CRITERIA,
    DEFAULT_RUBRIC,
    JudgePrompt,
    get_prompt,
    nonce_for,
)
from routing_agent.scoring.normalize import as_text

logger = logging.getLogger("routing_agent.scoring")

ItemT = TypeVar("ItemT", Sample, Pair)
_ROUTING_KEYS = (meta.EXPERIMENT, meta.VARIANT, meta.UNIT, meta.UNIT_ID, meta.REASON, meta.SEGMENTS)
_VALUE = {"test": 1.0, "tie": 0.5, "control": 0.0}


class JudgeOptions(StrictModel):
    """Options shared by ``judge_likert`` and ``judge_pairwise``."""

    judge_model: ModelId
    """The trusted judge: any catalog model id (``openai:gpt-5-mini``; ``simulated:judge`` or
    ``simjudge:fair`` offline)."""
    judge_params: dict[str, Any] = Field(default_factory=dict)
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
    """Per-call timeout for async scoring (sync calls rely on the model's own ``timeout`` param)."""
    concurrency: int = Field(default=8, ge=1, le=256)
    """Judge calls in flight at most during async batch scoring."""


class LikertOptions(JudgeOptions):
    """Options of ``type: judge_likert``."""

    rubric: dict[int, str] | str = Field(default_factory=lambda: dict(DEFAULT_RUBRIC))
    """One description per level 1..5 (or one free-text rubric)."""

    @field_validator("rubric")
    @classmethod
    def _levels(cls, value: dict[int, str] | str) -> dict[int, str] | str:
        if isinstance(value, dict) and set(value) != {1, 2, 3, 4, 5}:
            raise ValueError(f"the rubric must describe each level 1, 2, 3, 4 and 5 (got {sorted(value)})")
        return value


class PairwiseOptions(JudgeOptions):
    """Options of ``type: judge_pairwise``."""

    criteria: str = DEFAULT_CRITERIA


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


class _Judge:
    """Shared machinery: the model, calls with one retry, counters."""

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
                reply = self.llm.invoke(messages, config=self._config).text
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


async def _limited(limit: asyncio.Semaphore | None, aw: Awaitable[_T]) -> _T:
    if limit is None:
        return await aw
    async with limit:
        return await aw


class LikertJudge(_Judge):
    """``type: judge_likert`` — a 1–5 grade of one answer against the rubric."""

    def __init__(
        self,
        name: str,
        options: LikertOptions,
        *,
        model: BaseChatModel | None = None,
        models: ModelCatalog | None = None,
    ) -> None:
        super().__init__(name, options, "likert", model, models)
        self.options: LikertOptions = options

    def messages(self, item: Sample) -> list[BaseMessage]:
        """The prompt for one sample."""
        question, answer = self._text(item.input), self._text(item.output)
        reference = self._reference(item.reference)
        return self.prompt.likert(
            question=question,
            answer=answer,
            reference=reference,
            rubric=self.options.rubric,
            nonce=nonce_for(question, reference, answer),
        )

    def _score(self, reading: Reading) -> Score:
        if reading.value is None:
            return self._invalid(reading.error)
        assert isinstance(reading.value, int)
        return Score(
            self.name,
            float(reading.value),
            label=str(reading.value),
            explanation=reading.reason,
            details={"invalid": 0.0},
        )

    def score(self, item: Sample) -> Score:
        """The judge's grade, or an invalid score after one retry."""
        return self._score(self._ask(self.messages(item), parse_likert))

    async def _ascore(self, item: Sample, limit: asyncio.Semaphore | None) -> Score:
        return self._score(await self._aask(self.messages(item), parse_likert, limit))


class PairwiseJudge(_Judge):
    """``type: judge_pairwise`` — does the test answer beat control's? Judged in both orders."""

    pairwise = True

    def __init__(
        self,
        name: str,
        options: PairwiseOptions,
        *,
        model: BaseChatModel | None = None,
        models: ModelCatalog | None = None,
    ) -> None:
        super().__init__(name, options, "pairwise", model, models)
        self.options: PairwiseOptions = options

    def messages(self, item: Pair, *, test_first: bool) -> list[BaseMessage]:
        """The prompt for one order of a pair."""
        control, test = self._text(item.control), self._text(item.test)
        first, second = (test, control) if test_first else (control, test)
        question, reference = self._text(item.input), self._reference(item.reference)
        return self.prompt.pairwise(
            question=question,
            first=first,
            second=second,
            reference=reference,
            criteria=self.options.criteria,
            nonce=nonce_for(question, reference, first, second),
        )

    def _score(self, one: Reading, two: Reading) -> Score:
        if one.value is None or two.value is None:
            return self._invalid(one.error or two.error)
        # order one: control is A, test is B; order two: test is A, control is B
        first = {"A": "control", "B": "test", "tie": "tie"}[str(one.value)]
        second = {"A": "test", "B": "control", "tie": "tie"}[str(two.value)]
        outcome = first if first == second else "tie"
        biased = one.value == two.value and one.value != "tie"
        explanation = (
            f"control first: {one.value} ({one.reason or '-'}); test first: {two.value} ({two.reason or '-'})"
        )
        return Score(
            self.name,
            _VALUE[outcome],
            label=outcome,
            explanation=explanation,
            details={"invalid": 0.0, "position_bias": float(biased), "inconsistent": float(first != second)},
        )

    def score(self, item: Pair) -> Score:
        """Win (1.0), tie (0.5) or loss (0.0) of the test answer; invalid after one retry per order."""
        one = self._ask(self.messages(item, test_first=False), parse_winner)
        two = self._ask(self.messages(item, test_first=True), parse_winner)
        return self._score(one, two)

    async def _ascore(self, item: Pair, limit: asyncio.Semaphore | None) -> Score:
        one, two = await asyncio.gather(
            self._aask(self.messages(item, test_first=False), parse_winner, limit),
            self._aask(self.messages(item, test_first=True), parse_winner, limit),
        )
        return self._score(one, two)
