"""A one-agent graph on echo models: what each session was given is what it answers (``big`` / ``small``)."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent import RoutingNode, RoutingState, routed_model
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.testing import MemoryStore, echo_catalog

CONFIG = ExperimentsConfig.model_validate(
    {
        "experiments": [
            {
                "id": "exp",
                "variants": [
                    {"name": "control", "model": "echo:big", "control": True},
                    {"name": "candidate", "model": "echo:small"},
                ],
            }
        ]
    }
)
"""Experiment ``exp``: control answers ``big``, candidate ``small``."""


class State(RoutingState, total=False):
    session_id: str
    answer: str


def build(store: MemoryStore, **routing: Any) -> Any:
    """``route → agent``; the agent stores its routed model's answer. ``routing``: ``RoutingNode`` options."""
    models = echo_catalog()

    def agent(state: State, config: RunnableConfig) -> dict[str, Any]:
        return {"answer": routed_model(state, config, models=models).invoke("hi").content}

    g = StateGraph(State)
    g.add_node("route", RoutingNode(CONFIG, store=store, **routing))
    g.add_node("agent", agent)
    g.add_edge(START, "route")
    g.add_edge("route", "agent")
    g.add_edge("agent", END)
    return g.compile()
