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

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field, field_validator

from routing_agent.providers.catalog import ModelCatalog
from routing_agent.scoring.base import Pair, Sample, Score
from routing_agent.scoring.judge_base import JudgeBase, JudgeOptions, judge_model
from routing_agent.scoring.judge_parse import Reading, parse_likert, parse_winner
from routing_agent.scoring.judge_prompts import DEFAULT_CRITERIA, DEFAULT_RUBRIC, nonce_for

_VALUE = {"test": 1.0, "tie": 0.5, "control": 0.0}


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


class LikertJudge(JudgeBase):
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


class PairwiseJudge(JudgeBase):
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
