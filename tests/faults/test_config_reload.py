"""``RoutingNode.reload``: a valid config swaps in atomically while graphs run; an invalid one (bad YAML,
bad weights, a missing file, a code tag) is refused, reported, counted and logged, and the running
experiments keep running unchanged."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from routing_agent.stores.assignments import open_store
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config

GOOD = """\
default_model: {model: "echo:default-model"}
experiments:
  - id: exp
    segments: [tier]
    scope: [classifier, drafter]
    variants:
      - {name: control, model: "echo:control-model", control: true, weight: %(control)s}
      - {name: candidate, model: "echo:candidate-model", weight: %(candidate)s}
%(extra)s"""

SECOND = """\
  - id: exp-two
    scope: [reviewer]
    namespace: {name: ns, range: [0, 1]}
    variants:
      - {name: control, model: "echo:control-model", control: true}
      - {name: candidate, model: "echo:candidate-model"}
"""

INVALID = {
    "syntax": "experiments:\n  - id: exp\n    variants: [unclosed\n",
    "weights": GOOD % {"control": 80, "candidate": 30, "extra": ""},
    "negative-weight": GOOD % {"control": 120, "candidate": -20, "extra": ""},
    "no-control": GOOD.replace("control: true, ", "") % {"control": 50, "candidate": 50, "extra": ""},
    "python-tag": "experiments: !!python/object/apply:os.system ['touch /tmp/ra-pwned']\n",
    "duplicate-id": GOOD % {"control": 50, "candidate": 50, "extra": SECOND.replace("exp-two", "exp")},
    "not-yaml-mapping": "- 1\n- 2\n",
    "binary": "\x00\x01\x02",
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def run_sessions(graph: Any, prefix: str, n: int) -> dict[str, dict[str, Any]]:
    out = {}
    for i in range(n):
        state = graph.invoke({"session_id": f"{prefix}{i}", "tier": "gold", "seen": []})
        out[f"{prefix}{i}"] = state
    return out


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_reload_keeps_the_running_experiments(
    case: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    graph, node = build_graph(make_config(weights=(50, 50)), open_store("memory://"))
    before = run_sessions(graph, "a", 40)
    config = node.config
    with caplog.at_level(logging.ERROR, logger="routing_agent"):
        result = node.reload(write(tmp_path, case, INVALID[case]))
    assert not result.ok and result.experiments == ("exp",)
    assert result.error and f"{case}.yaml" in result.error  # names the file (and line when it has one)
    assert node.config is config
    stats = node.stats()
    assert stats["events"]["reload_failed"] == 1 and stats["reload_error"] == result.error
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert not Path("/tmp/ra-pwned").exists()
    # the old experiment runs on: same variants for the same sessions, new sessions routed as before
    again = run_sessions(graph, "a", 40)
    assert {k: v["routing"]["exp"]["variant"] for k, v in again.items()} == {
        k: v["routing"]["exp"]["variant"] for k, v in before.items()
    }
    assert {v["routing"]["exp"]["reason"] for v in again.values()} == {"sticky"}


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    node = build_graph(make_config(), None)[1]
    result = node.reload(tmp_path / "nowhere.yaml")
    assert not result.ok and "no such file" in (result.error or "")


def test_a_valid_reload_swaps_atomically_under_load_without_flipping_a_unit(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "assign.sqlite3"))
    graph, node = build_graph(make_config(scope=("classifier", "drafter"), weights=(50, 50)), store)
    errors: list[BaseException] = []
    seen: dict[str, set[str]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def worker(w: int) -> None:
        i = 0
        while not stop.is_set():
            sid = f"w{w}-{i % 60}"  # each worker revisits its 60 sessions
            try:
                out = graph.invoke({"session_id": sid, "tier": "gold", "seen": []})
            except BaseException as exc:  # must never happen
                errors.append(exc)
                return
            models = {s["model_id"] for s in out["seen"] if s["agent"] != "reviewer"}
            with lock:
                seen.setdefault(sid, set()).update(models)
            i += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    results = []
    try:
        for round_ in range(6):
            stop.wait(0.15)
            bad = node.reload(write(tmp_path, f"bad{round_}", INVALID["weights"]))
            weights = {"control": 10, "candidate": 90} if round_ % 2 else {"control": 90, "candidate": 10}
            good = node.reload(write(tmp_path, f"good{round_}", GOOD % {**weights, "extra": SECOND}))
            results.append((bad, good))
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors
    assert all(not bad.ok and good.ok for bad, good in results)
    assert results[0][1].added == ("exp-two",) and results[1][1].changed == ("exp",)
    assert node.stats()["events"]["reload"] == 6 and node.stats()["events"]["reload_failed"] == 6
    # no session ever saw both variants' models, whatever the weights were when it came back
    split = {sid: models for sid, models in seen.items() if len(models) > 1}
    assert not split
    for sid, models in seen.items():
        held = store.get("exp", sid)
        assert f"echo:{held}-model" in models
    store.close()


def test_new_weights_apply_to_new_units_only(tmp_path: Path) -> None:
    store = open_store("memory://")
    graph, node = build_graph(make_config(weights=(50, 50)), store)
    old = {k: v["routing"]["exp"]["variant"] for k, v in run_sessions(graph, "old", 300).items()}
    assert node.reload(write(tmp_path, "heavy", GOOD % {"control": 5, "candidate": 95, "extra": ""})).ok
    revisit = {k: v["routing"]["exp"]["variant"] for k, v in run_sessions(graph, "old", 300).items()}
    assert revisit == old  # sticky: nothing flips
    new = Counter(v["routing"]["exp"]["variant"] for v in run_sessions(graph, "new", 600).values())
    assert new["candidate"] > 500  # ~95 %
    assert node.config.get("exp").weights == (0.05, 0.95)
