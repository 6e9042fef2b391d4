"""Oracles: first answer wins, a failing oracle is skipped (logged once), unknown prompts get free text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from langchain_core.exceptions import ModelError
from langchain_core.messages import BaseMessage, HumanMessage

from routing_agent.providers.simulated import SimulatedChatModel
from routing_agent.providers.tasks import Choice, OracleRegistry, Task, Verdict


class _Broken:
    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        raise RuntimeError("bad oracle")


class _Yes:
    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        return Verdict(truth=True, difficulty=0.0) if "judge" in messages[-1].text else None


def test_registry_skips_failing_oracles_and_asks_in_order(caplog: pytest.LogCaptureFixture) -> None:
    registry = OracleRegistry()
    registry.register("broken", _Broken())
    registry.register("yes", _Yes())
    assert registry.names() == ["broken", "yes"]
    task = registry.task_for([HumanMessage("judge this")], [])
    assert isinstance(task, Verdict)
    registry.task_for([HumanMessage("judge again")], [])
    assert sum("bad oracle" in r.getMessage() or "broken" in r.getMessage() for r in caplog.records) == 1
    assert registry.task_for([HumanMessage("something else")], []) is None
    registry.unregister("yes")
    assert registry.task_for([HumanMessage("judge this")], []) is None


def test_model_oracle_decides_the_answer_and_unknown_prompts_get_text() -> None:
    class Label:
        def task_for(
            self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]
        ) -> Task | None:
            return Choice(answer="shipping", options=("billing", "shipping"), difficulty=0.0)

    labelled = SimulatedChatModel(sim_profile="strong-expensive", time_scale=0, oracle=Label())
    answers = []
    for i in range(30):
        try:
            answers.append(labelled.invoke(f"ticket {i}").text)
        except ModelError:  # the profile's rare provider errors
            continue
    assert answers.count("shipping") >= len(answers) - 1
    plain = SimulatedChatModel(sim_profile="strong-expensive", time_scale=0)
    text = plain.invoke("tell me about your day").text
    assert len(text.split()) > 20
