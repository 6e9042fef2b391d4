"""Acceptance: with ``review: required`` a ship waits for a person's approval, then everyone gets the winner.

Real pieces end to end: observations of a binary primary metric in a SQLite observation store (candidate
resolves 86% vs control's 80%, 3,500 units per arm), ``watch`` running the built-in evaluator, the review
queue in the SQLite state store, the approval through the ``routing-agent review approve`` command, and a
real LangGraph graph whose routing node then sends every session to the winner.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from routing_agent.assignment.types import Reason
from routing_agent.cli import app
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.config.spec import ExperimentStatus as S
from routing_agent.control.ticks import TickAction, WatchTick
from routing_agent.control.watch import Watcher, WatchSettings
from routing_agent.evaluation.decision import DecisionKind
from routing_agent.evaluation.watching import WatchEvaluator
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.open import open_observation_store
from routing_agent.stores.reviews import ReviewStatus, review_store_for
from tests.graph.conftest import build_graph

CONFIG = {
    "default_model": {"model": "echo:default-model"},
    "experiments": [
        {
            "id": "better",
            "review": "required",
            "variants": [
                {"name": "control", "model": "echo:control-model", "control": True},
                {"name": "candidate", "model": "echo:candidate-model"},
            ],
            "primary_metric": {"name": "resolved", "kind": "binary", "mde": 0.03, "baseline": 0.8},
        }
    ],
}


def test_a_ship_with_review_required_waits_until_approved(tmp_path: Path) -> None:
    config = ExperimentsConfig.model_validate(CONFIG)
    spec = config.get("better")
    state_db, obs_db = tmp_path / "state.db", tmp_path / "obs.db"
    rng = np.random.default_rng(3)
    obs = open_observation_store(obs_db)
    obs.add([
        Observation("better", v, f"{v}-{i}", "resolved", float(rng.random() < p))
        for v, p in (("control", 0.80), ("candidate", 0.86))
        for i in range(3500)
    ])  # fmt: skip
    store = open_store(state_db)
    ticks: list[WatchTick] = []
    watcher = Watcher(
        spec, store, WatchEvaluator(obs, store), WatchSettings(every_s=0.01), on_tick=ticks.append
    )

    assert watcher.run(max_ticks=3).action is TickAction.REVIEW_PENDING
    assert [t.action for t in ticks] == [
        TickAction.REVIEW_REQUESTED, TickAction.REVIEW_PENDING, TickAction.REVIEW_PENDING,
    ]  # fmt: skip
    decision = ticks[0].decision
    assert decision is not None and decision.kind is DecisionKind.SHIP and decision.winner == "candidate"
    assert store.get_state("better") is None  # nothing shipped while the review waits
    (item,) = review_store_for(store).items("better")
    assert item.status is ReviewStatus.PENDING and item.decision["summary"] == decision.summary

    result = CliRunner().invoke(
        app, ["review", "approve", item.id, "--store", str(state_db), "--actor", "alice", "--note", "+5 pts"]
    )
    assert result.exit_code == 0, result.stderr
    last = watcher.run()
    assert last.action is TickAction.TERMINAL and last.stop
    state = store.get_state("better")
    assert state is not None and (state.status, state.winner, state.actor) == (
        S.SHIPPED,
        "candidate",
        "alice",
    )

    graph, node = build_graph(config, open_store(state_db), state_refresh_s=0.0)
    for i in range(40):
        out = graph.invoke({"session_id": f"after-{i}", "tier": "pro", "seen": []})
        assert (out["routing"]["better"]["variant"], out["routing"]["better"]["reason"]) == (
            "candidate", Reason.SHIPPED.value,
        )  # fmt: skip
        assert {s["answer"] for s in out["seen"]} == {"candidate-model"}
    node.close()
    store.close()
    obs.close()
