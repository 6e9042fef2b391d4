"""The reference workflows' runner (``routing-agent simulate`` / ``demo``) records each session's outcome
metrics through the public outcome API."""

from __future__ import annotations

import json
from pathlib import Path

from routing_agent.config.loader import load_experiments
from routing_agent.simulation import RunSettings, simulate
from routing_agent.stores.observations import open_observation_store


def test_simulated_support_sessions_record_the_primary_metric(tmp_path: Path) -> None:
    config_path = Path("configs/support.yaml")
    spec = load_experiments(config_path).experiments[0]
    run = simulate(
        config_path,
        RunSettings(
            sessions=40, workers=2, workdir=tmp_path, fresh=True, progress=False, time_scale=0.0, decide=True
        ),
    )
    sessions = [
        json.loads(line)
        for line in run.outputs["session outcomes (JSON Lines)"].read_text().splitlines()
        if line.strip()
    ]
    expected = {
        (s["session_id"], s["assignments"][spec.id]["variant"]): s["outcome"]["resolved"]
        for s in sessions
        if s["assignments"][spec.id]["variant"] is not None
    }
    store = open_observation_store(f"sqlite:///{tmp_path / 'observations.sqlite3'}")
    try:
        rows = list(store.observations(spec.id, "resolved"))
    finally:
        store.close()
    assert {(o.unit_id, o.variant): o.value for o in rows} == expected
    assert len(rows) == len(expected) == 40
    assert {o.id for o in rows} == {f"{sid}:outcome:resolved" for sid, _ in expected}
