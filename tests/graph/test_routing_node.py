"""The routing node inside real compiled LangGraph graphs: one variant per session, scope, resume, states."""

from __future__ import annotations

import logging
import operator
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2
from routing_agent.config.spec import ExperimentsConfig, ExperimentStatus
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.graph import metadata as meta
from routing_agent.stores.assignments import open_store
from tests.graph.conftest import AGENTS, build_graph, echo_catalog


def make_config(scope: tuple[str, ...] = (), weights: tuple[float, float] = (50, 50), **extra: Any):
    return ExperimentsConfig.model_validate(
        {
            "default_model": {"model": "echo:default-model"},
            "agents": {"reviewer": {"model": "echo:reviewer-default"}},
            "experiments": [
                {
                    "id": "exp",
                    "unit": "session",
                    "scope": list(scope),
                    "segments": ["tier"],
                    "variants": [
                        {
                            "name": "control",
                            "model": "echo:control-model",
                            "control": True,
                            "weight": weights[0],
                        },
                        {"name": "candidate", "model": "echo:candidate-model", "weight": weights[1]},
                    ],
                    **extra,
                }
            ],
        }
    )


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "memory":
        s = open_store("memory://")
    elif request.param == "sqlite":
        s = open_store(str(tmp_path / "assign.sqlite3"))
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        s = open_store(url, prefix=prefix, timeout_s=2.0)  # a loaded CI box must not look like an outage
    yield s
    s.close()


def test_every_agent_of_a_session_gets_the_same_variant(store: Any) -> None:
    graph, node = build_graph(make_config(), store)
    variants = Counter()
    for i in range(200):
        out = graph.invoke({"session_id": f"s-{i}", "tier": "pro", "seen": []})
        seen = out["seen"]
        assert [s["agent"] for s in seen] == list(AGENTS)
        assert len({s["variant"] for s in seen}) == 1, seen
        variant = seen[0]["variant"]
        # the agent really ran the variant's model
        assert all(s["answer"] == f"{variant}-model" for s in seen)
        assert out["routing"]["exp"]["segments"] == {"tier": "pro"}
        variants[variant] += 1
    assert set(variants) == {"control", "candidate"}
    assert 60 < variants["control"] < 140  # 50/50 over 200 sessions, far inside 5 sigma
    assert node.stats()["decisions"]["exp"]["hashed"] == 200


def test_same_session_keeps_its_variant_across_invocations_and_weight_changes(store: Any) -> None:
    graph, _ = build_graph(make_config(weights=(50, 50)), store)
    first = {
        f"s-{i}": graph.invoke({"session_id": f"s-{i}", "seen": []})["seen"][0]["variant"] for i in range(60)
    }
    # a new deployment moves the weights to 1/99: stored units keep their variant
    graph2, node2 = build_graph(make_config(weights=(1, 99)), store)
    for sid, variant in first.items():
        out = graph2.invoke({"session_id": sid, "seen": []})
        assert out["seen"][0]["variant"] == variant
        assert out["routing"]["exp"]["reason"] == "sticky"
    new = graph2.invoke({"session_id": "brand-new", "seen": []})
    ranges = bucket_ranges([0.01, 0.99])
    expected = ["control", "candidate"][choose_variation(hash_v2("exp", "brand-new"), ranges)]
    assert new["seen"][0]["variant"] == expected
    assert node2.stats()["decisions"]["exp"] == {"sticky": 60, "hashed": 1}


def test_scope_limits_the_experiment_to_some_agents() -> None:
    graph, _ = build_graph(make_config(scope=("drafter",)), open_store("memory://"))
    for i in range(40):
        seen = {s["agent"]: s for s in graph.invoke({"session_id": f"u{i}", "seen": []})["seen"]}
        assert seen["drafter"]["variant"] in {"control", "candidate"}
        assert seen["drafter"]["answer"] == f"{seen['drafter']['variant']}-model"
        # out of scope: the YAML agent default, else default_model; no variant in the metadata
        assert seen["reviewer"]["answer"] == "reviewer-default" and seen["reviewer"]["variant"] is None
        assert seen["classifier"]["answer"] == "default-model" and seen["classifier"]["variant"] is None
        assert seen["drafter"]["meta_agent"] == "drafter"


def test_checkpoint_resume_keeps_the_variant() -> None:
    saver = InMemorySaver()
    store = open_store("memory://")
    graph, _ = build_graph(make_config(), store, checkpointer=saver)
    cfg: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    out = graph.invoke({"session_id": "sess-1", "seen": []}, cfg)
    variant = out["routing"]["exp"]["variant"]
    # same thread again, after the YAML moved everybody to the other arm and with a fresh store:
    other = (1, 99) if variant == "control" else (99, 1)
    graph2, node2 = build_graph(make_config(weights=other), open_store("memory://"), checkpointer=saver)
    out2 = graph2.invoke({"session_id": "sess-1"}, cfg)
    assert out2["routing"]["exp"]["variant"] == variant
    assert {s["variant"] for s in out2["seen"]} == {variant}
    # the node saw the checkpointed record and did not decide again
    assert node2.stats()["decisions"] == {}


def test_reentering_the_node_never_flips() -> None:
    store = open_store("memory://")
    node = RoutingNode(make_config(), store=store)
    first = node.invoke({"session_id": "abc"})
    assert set(first) == {"routing", "routing_defaults"}
    assert node.invoke({"session_id": "abc", **first}) == {}


def test_missing_unit_id_routes_to_default_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    graph, node = build_graph(make_config(), open_store("memory://"))
    with caplog.at_level(logging.WARNING, logger="routing_agent.routing"):
        for _ in range(5):
            out = graph.invoke({"seen": []})
            assert out["routing"]["exp"]["reason"] == "no_unit_id"
            assert {s["answer"] for s in out["seen"] if s["agent"] != "reviewer"} == {"default-model"}
    assert node.stats()["decisions"]["exp"] == {"no_unit_id": 5}
    assert len([r for r in caplog.records if "session_id" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("status", "winner", "expected", "reason"),
    [
        (ExperimentStatus.ROLLED_BACK, None, {"control"}, "rolled_back"),
        (ExperimentStatus.SHIPPED, "candidate", {"candidate"}, "shipped"),
        (ExperimentStatus.STOPPED, None, {None}, "stopped"),
    ],
)
def test_live_state_overrides_hashing(
    store: Any, status: ExperimentStatus, winner: str | None, expected: set[str | None], reason: str
) -> None:
    graph, _ = build_graph(make_config(), store, state_refresh_s=0.0)
    store.set_state("exp", status, actor="test", winner=winner)
    variants = set()
    for i in range(30):
        out = graph.invoke({"session_id": f"x{i}", "seen": []})
        assert out["routing"]["exp"]["reason"] == reason
        variants |= {s["variant"] for s in out["seen"] if s["agent"] != "reviewer"}
    assert variants == expected


def test_paused_keeps_assigned_units_and_enrols_nobody_new() -> None:
    store = open_store("memory://")
    graph, _ = build_graph(make_config(), store, state_refresh_s=0.0)
    before = {
        f"p{i}": graph.invoke({"session_id": f"p{i}", "seen": []})["routing"]["exp"]["variant"]
        for i in range(20)
    }
    store.set_state("exp", ExperimentStatus.PAUSED, actor="test")
    for sid, variant in before.items():
        record = graph.invoke({"session_id": sid, "seen": []})["routing"]["exp"]
        assert (record["variant"], record["reason"]) == (variant, "sticky")
    record = graph.invoke({"session_id": "newcomer", "seen": []})["routing"]["exp"]
    assert (record["variant"], record["reason"]) == (None, "paused")


def test_coverage_excludes_units_without_storing_them() -> None:
    store = open_store("memory://")
    graph, _node = build_graph(make_config(coverage=0.3), store)
    reasons = Counter(
        graph.invoke({"session_id": f"c{i}", "seen": []})["routing"]["exp"]["reason"] for i in range(1000)
    )
    assert 230 < reasons["hashed"] < 370 and reasons["hashed"] + reasons["not_enrolled"] == 1000
    assert sum(store.counts("exp").values()) == reasons["hashed"]


class FanState(RoutingState, total=False):
    session_id: str
    results: Annotated[list[str], operator.add]


def test_send_fan_out_and_subgraph_see_the_same_variant() -> None:
    models = echo_catalog()
    config = make_config()

    def worker(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        llm = routed_model(state, config, agent="worker", models=models)
        return {"results": [str(llm.invoke("x").content)]}

    sub = StateGraph(FanState)
    sub.add_node(
        "inner",
        lambda s, config: {"results": [str(routed_model(s, config, models=models).invoke("y").content)]},
    )
    sub.add_edge(START, "inner")
    sub.add_edge("inner", END)

    g = StateGraph(FanState)
    g.add_node("route", RoutingNode(config, store=open_store("memory://")))
    g.add_node("worker", worker)
    g.add_node("sub", sub.compile())
    g.add_edge(START, "route")
    g.add_conditional_edges("route", lambda s: [Send("worker", s) for _ in range(4)] + [Send("sub", s)])
    g.add_edge("worker", END)
    g.add_edge("sub", END)
    graph = g.compile()
    for i in range(20):
        out = graph.invoke({"session_id": f"f{i}"})
        variant = out["routing"]["exp"]["variant"]
        assert len(out["results"]) == 5
        assert set(out["results"]) == {f"{variant}-model"}


async def test_async_graph_uses_the_async_path(store: Any) -> None:
    graph, _node = build_graph(make_config(), store)
    outs = [await graph.ainvoke({"session_id": f"a{i}", "seen": []}) for i in range(30)]
    for out in outs:
        assert len({s["variant"] for s in out["seen"]}) == 1
    # same sessions again through the sync path: sticky, same variants
    for i, out in enumerate(outs):
        again = graph.invoke({"session_id": f"a{i}", "seen": []})
        assert again["routing"]["exp"]["variant"] == out["routing"]["exp"]["variant"]
        assert again["routing"]["exp"]["reason"] == "sticky"


def test_routed_model_outside_a_graph_needs_an_agent_default() -> None:
    from routing_agent.errors import ModelResolutionError

    models = echo_catalog()
    with pytest.raises(ModelResolutionError, match="no model"):
        routed_model({}, agent="lonely", models=models)
    llm = routed_model({}, agent="lonely", default="echo:fallback", models=models)
    assert llm.invoke("q").content == "fallback"
    assert llm.metadata is not None and llm.metadata[meta.MODEL_ID] == "echo:fallback"


def test_agent_defaults_work_without_any_experiment() -> None:
    """After an experiment is removed from the YAML, agents keep their declared default models."""
    config = ExperimentsConfig.model_validate(
        {
            "default_model": {"model": "echo:everyone"},
            "agents": {"reviewer": {"model": "echo:reviewer-default"}},
        }
    )
    graph, node = build_graph(config, open_store("memory://"))
    seen = {s["agent"]: s for s in graph.invoke({"session_id": "s1", "seen": []})["seen"]}
    assert seen["classifier"]["answer"] == "everyone" and seen["classifier"]["variant"] is None
    assert seen["reviewer"]["answer"] == "reviewer-default"
    assert node.stats()["decisions"] == {}
