"""Shadow/replay runs on a real LangGraph RAG graph with the simulated provider, and online mirroring."""

from __future__ import annotations

from statistics import mean

from routing_agent.scoring.events import ROLE, ROLE_SHADOW
from routing_agent.scoring.shadow import SHADOW_TAG, ShadowMirror, ShadowRunner
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.observations.memory import MemoryObservationStore
from tests.scoring import rag_graph as rag
from tests.scoring.conftest import MetadataRecorder
from tests.scoring.rag_graph import offline  # noqa: F401 (autouse fixture)

SCORERS = [
    {
        "name": "citation_stability",
        "type": "citations",
        "agent": "answerer",
        "output_field": "citations",
        "mode": "offline",
    },
    {
        "name": "cites_gold",
        "type": "citations",
        "agent": "answerer",
        "output_field": "citations",
        "reference_field": "reference.gold_sources",
        "mode": "offline",
    },
    {
        "name": "preference",
        "type": "judge_pairwise",
        "agent": "answerer",
        "mode": "offline",
        "reference_field": "reference.answer",
        "options": {"judge_model": "simjudge:fair"},
    },
]


def replay(candidate: str, **kwargs):
    config = rag.config(candidate, SCORERS)
    store = MemoryStore()
    runner = ShadowRunner(rag.build(config, store), config, **kwargs)
    return runner, runner.replay(rag.items()), store


def test_a_model_compared_with_itself_is_perfectly_stable() -> None:
    _, result, _ = replay("simulated:strong-expensive")
    stability = result.scoring.values("citation_stability")
    assert len(stability) == rag.N_QUESTIONS
    assert stability == [1.0] * rag.N_QUESTIONS
    assert result.scoring.values("preference") == [0.5] * rag.N_QUESTIONS  # identical answers tie


def test_the_drifting_candidate_is_measurably_less_stable() -> None:
    _, same, _ = replay("simulated:strong-expensive")
    _, drift, _ = replay("simulated:regressed")
    stable, drifting = (
        mean(same.scoring.values("citation_stability")),
        mean(drift.scoring.values("citation_stability")),
    )
    assert stable == 1.0 and drifting < 0.85
    exact = [o.value for o in drift.scoring.observations if o.metric == "citation_stability.exact"]
    assert len(exact) == rag.N_QUESTIONS and 0.3 < mean(exact) < 0.95
    # per-variant correctness against gold: the regressed model cites the gold set less often
    control = mean(drift.scoring.values("cites_gold", "control"))
    candidate = mean(drift.scoring.values("cites_gold", "candidate"))
    assert control - candidate > 0.1
    # the pairwise judge prefers control's answers more often than not
    assert mean(drift.scoring.values("preference")) < 0.5


def test_shadow_runs_are_off_the_books() -> None:
    _runner, result, store = replay("simulated:regressed")
    assert store.counts("rag") == {} or sum(store.counts("rag").values()) == 0
    assert all(store.get("rag", r.unit_id) is None for r in result.records)
    assert {r.experiment for r in result.records} == {"rag:shadow"}
    assert {o.experiment for o in result.scoring.observations} == {"rag:shadow"}
    by_key = {}
    for r in result.records:
        by_key.setdefault(r.key, set()).add(r.variant)
        assert r.output["routing"]["rag"]["reason"] == "shadow"
        assert r.output["routing"]["rag"]["variant"] == r.variant
    assert all(v == {"control", "candidate"} for v in by_key.values())
    pair_obs = [o for o in result.scoring.observations if o.metric.startswith("citation_stability")]
    assert {o.variant for o in pair_obs} == {"candidate"}
    # per-variant observations of one input share its unit id: a paired design
    gold = [o for o in result.scoring.observations if o.metric == "cites_gold"]
    assert len({o.unit_id for o in gold}) == rag.N_QUESTIONS and len(gold) == 2 * rag.N_QUESTIONS


def test_shadow_runs_carry_the_shadow_role() -> None:
    recorder = MetadataRecorder()
    config = rag.config("simulated:regressed", SCORERS)
    runner = ShadowRunner(rag.build(config), config, run_config={"callbacks": [recorder]})
    runner.run(rag.session(rag.items()[0], "s"), "q0")
    assert len(recorder.runs) == 2
    for metadata, tags in recorder.runs:
        assert metadata[ROLE] == ROLE_SHADOW and SHADOW_TAG in tags
        assert metadata["routing_agent.unit_id"] == "shadow:q0"


async def test_async_replay_matches_sync() -> None:
    config = rag.config("simulated:regressed", SCORERS[:2])
    runner = ShadowRunner(rag.build(config), config, concurrency=8)
    rows = rag.items(20)
    sync = runner.replay(rows)
    asynced = await runner.areplay(rows)
    assert sorted(sync.scoring.values("citation_stability")) == sorted(
        asynced.scoring.values("citation_stability")
    )
    assert asynced.failures == 0


def test_a_failing_run_is_counted_not_raised() -> None:
    config = rag.config("simulated:regressed", SCORERS[:1])
    runner = ShadowRunner(rag.build(config), config)
    result = runner.replay([("broken", {"question": "x"})])  # no sources: the answerer raises KeyError
    assert result.failures == 1 and result.records == []
    assert runner.stats.snapshot()["shadow_run"]["errors"] == 1


def _mirror(rate: float):
    config = rag.config("simulated:regressed", SCORERS[:1])
    graph = rag.build(config, MemoryStore())
    sink = MemoryObservationStore()
    runner = ShadowRunner(rag.build(config), config, sink=sink)
    return graph, ShadowMirror(graph, runner, sample_rate=rate), sink


def test_mirror_returns_the_users_response_and_scores_in_the_background() -> None:
    graph, mirror, sink = _mirror(1.0)
    rows = rag.items(8)
    for i, row in enumerate(rows):
        served = mirror.invoke(rag.session(row, f"user-{i}"))
        direct = graph.invoke(rag.session(row, f"user-{i}"))
        assert (
            served["answerer"] == direct["answerer"]
        )  # same variant, same answer: the mirror changes nothing
    mirror.drain(timeout_s=30)
    mirror.close()
    assert mirror.stats()["mirror"]["mirrored"] == 8
    assert len(list(sink.observations("rag:shadow", "citation_stability"))) == 8
    assert len(mirror.records) == 16


def test_mirror_samples_units_by_hash() -> None:
    _, mirror, _ = _mirror(0.3)
    for i in range(200):
        mirror._key({"session_id": f"user-{i}"})
    skipped = mirror.stats()["mirror"]["skipped"]
    assert 200 * 0.7 - 30 < skipped < 200 * 0.7 + 30
    again = sum(mirror._key({"session_id": f"user-{i}"}) is None for i in range(200))
    assert again == skipped  # the same units are sampled every time
    _, never, _ = _mirror(0.0)
    assert never._key({"session_id": "u"}) is None


async def test_async_mirror_never_delays_or_breaks_the_response() -> None:
    _graph, mirror, _sink = _mirror(1.0)
    row = rag.items(1)[0]
    served = await mirror.ainvoke(rag.session(row, "user-1"))
    assert served["answerer"]
    await mirror.adrain()
    assert mirror.stats()["mirror"]["mirrored"] == 1
    bad = await mirror.ainvoke({"session_id": "user-2", "question": "x", "sources": []})  # served normally
    await mirror.adrain()
    assert "answerer" in bad
