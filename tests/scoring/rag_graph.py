"""A small RAG graph for scoring tests: route → answerer (cites sources as [id]) → done.

Its questions are known to an oracle of the simulated provider, so ``simulated:*`` profiles answer them
with their own accuracy and citation habits (``regressed`` drifts its citations 30% of the time).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.providers.simulated import set_time_scale
from routing_agent.providers.tasks import CitedAnswer, Task, oracles

N_QUESTIONS = 60
_PROMPT = re.compile(r"QUESTION: (?P<q>[^\n]+)\nSOURCES: (?P<s>[^\n]+)")


def items(n: int = N_QUESTIONS) -> list[dict[str, Any]]:
    """Dataset rows: question, candidate sources, gold sources and the reference answer."""
    rows = []
    for i in range(n):
        sources = [f"doc-{i}-{k}" for k in range(5)]
        rows.append(
            {
                "id": f"q{i}",
                "question": f"What is the refund window for plan {i}?",
                "sources": sources,
                "reference": {
                    "answer": f"Plan {i} refunds are accepted within {10 + i} days of purchase.",
                    "gold_sources": sources[:2],
                },
            }
        )
    return rows


class RagOracle:
    """Knows the right answer and sources of every question of ``items``."""

    def __init__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.rows = {r["question"]: r for r in rows}

    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        text = "\n".join(m.text for m in messages)
        match = _PROMPT.search(text)
        row = self.rows.get(match.group("q")) if match else None
        if row is None:
            return None
        ref = row["reference"]
        return CitedAnswer(
            answer=ref["answer"],
            wrong_answers=(f"Refunds are not possible for plan {row['id']}.", "Refunds take 90 days."),
            sources=tuple(row["sources"]),
            gold_sources=tuple(ref["gold_sources"]),
            difficulty=0.3,
        )


class RagState(RoutingState, total=False):
    session_id: str
    question: str
    sources: list[str]
    reference: dict[str, Any]
    answerer: str
    citations: list[str]
    scores: dict[str, Any]


def answerer(state: RagState, config: RunnableConfig) -> dict[str, Any]:
    llm = routed_model(state, config, agent="answerer")
    sources = ", ".join(state["sources"])
    prompt = f"Answer from the sources, cite them as [id].\nQUESTION: {state['question']}\nSOURCES: {sources}"
    text = llm.invoke([HumanMessage(prompt)], config).text
    return {"answerer": text, "citations": re.findall(r"\[([^\[\]\s]+)\]", text)}


def build(config: ExperimentsConfig, store: Any = None, extra: Sequence[tuple[str, Any]] = ()) -> Any:
    """The compiled graph; ``extra`` nodes run after the answerer, in order."""
    graph = StateGraph(RagState)
    graph.add_node("route", RoutingNode(config, store=store))
    graph.add_node("answerer", answerer)
    graph.add_edge(START, "route")
    graph.add_edge("route", "answerer")
    previous = "answerer"
    for name, node in extra:
        graph.add_node(name, node)
        graph.add_edge(previous, name)
        previous = name
    graph.add_edge(previous, END)
    return graph.compile()


def config(
    candidate: str = "simulated:regressed", scorers: Sequence[Mapping[str, Any]] = ()
) -> ExperimentsConfig:
    return ExperimentsConfig.model_validate(
        {
            "experiments": [
                {
                    "id": "rag",
                    "variants": [
                        {"name": "control", "model": "simulated:strong-expensive", "control": True},
                        {"name": "candidate", "model": candidate},
                    ],
                    "scorers": list(scorers),
                }
            ]
        }
    )


def session(row: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "question": row["question"],
        "sources": row["sources"],
        "reference": row["reference"],
    }


def registered(rows: Sequence[Mapping[str, Any]]) -> Iterator[None]:
    oracles.register("tests.scoring.rag", RagOracle(rows))
    try:
        yield
    finally:
        oracles.unregister("tests.scoring.rag")


@pytest.fixture(autouse=True)
def offline() -> Iterator[None]:
    """Autouse where imported: simulated models answer these questions without sleeping (time scale 0)."""
    set_time_scale(0.0)
    yield from registered(items())
