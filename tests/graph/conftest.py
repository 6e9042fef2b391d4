"""Helpers for routing-node tests: a three-agent graph whose agents report the model they were given."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Annotated, Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.graph import metadata as meta
from routing_agent.providers.catalog import ModelCatalog

AGENTS = ("classifier", "drafter", "reviewer")


class State(RoutingState, total=False):
    session_id: str
    tier: str
    seen: Annotated[list[dict[str, Any]], operator.add]


def echo_catalog() -> ModelCatalog:
    """A catalog whose 'echo' provider answers every prompt with its own model name."""
    models = ModelCatalog()
    models.register("echo", lambda name, params: FakeListChatModel(responses=[name]))
    return models


def make_agent(name: str, models: ModelCatalog):
    def agent(state: State, config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config, models=models)
        answer = llm.invoke("hello").content
        md: Mapping[str, Any] = llm.metadata or {}
        return {
            "seen": [
                {
                    "agent": name,
                    "answer": answer,
                    "model_id": md.get(meta.MODEL_ID),
                    "variant": md.get(meta.VARIANT),
                    "reason": md.get(meta.REASON),
                    "meta_agent": md.get(meta.AGENT),
                }
            ]
        }

    return agent


def build_graph(config: ExperimentsConfig, store: Any, checkpointer: Any = None, **node_kwargs: Any):
    models = echo_catalog()
    node = RoutingNode(config, store=store, **node_kwargs)
    g = StateGraph(State)
    g.add_node("route", node)
    previous = "route"
    g.add_edge(START, "route")
    for name in AGENTS:
        g.add_node(name, make_agent(name, models))
        g.add_edge(previous, name)
        previous = name
    g.add_edge(previous, END)
    return g.compile(checkpointer=checkpointer), node


@pytest.fixture
def echo_models() -> ModelCatalog:
    return echo_catalog()


@pytest.fixture
def store_url(redis_url: str, redis_prefix: str) -> str:
    """A real Redis assignment store private to the test."""
    # generous timeouts: these tests check routing, not latency (a loaded CI machine answers late)
    return f"{redis_url}?prefix={redis_prefix}&timeout=5&async_timeout=5"
