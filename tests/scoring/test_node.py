"""Inline scoring inside a real LangGraph graph, and offline scoring of stored records."""

from __future__ import annotations

import json
from statistics import mean

from routing_agent.config.spec import ScorerSpec
from routing_agent.scoring.base import Sample, Score
from routing_agent.scoring.factory import build_scorers
from routing_agent.scoring.node import ScoringNode
from routing_agent.scoring.outputs import OutputRecord, read_records, write_records
from routing_agent.scoring.runner import ascore_records, score_records
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.observations.memory import MemoryObservationStore
from tests.scoring import rag_graph as rag
from tests.scoring.rag_graph import offline  # noqa: F401 (autouse fixture)

INLINE = [
    {
        "name": "answer_quality",
        "type": "judge_likert",
        "agent": "answerer",
        "reference_field": "reference.answer",
        "options": {"judge_model": "simjudge:fair"},
    },
    {
        "name": "cites_gold",
        "type": "citations",
        "agent": "answerer",
        "output_field": "citations",
        "reference_field": "reference.gold_sources",
    },
    {"name": "stability", "type": "citations", "agent": "answerer", "output_field": "citations"},
]


def graph_with_node(sink, **node_kwargs):
    config = rag.config("simulated:regressed", INLINE)
    node = ScoringNode(config.experiments[0], agent="answerer", sink=sink, state_key="scores", **node_kwargs)
    return rag.build(config, MemoryStore(), extra=[("score_answerer", node)]), node


def test_inline_node_scores_each_session_in_its_variant() -> None:
    sink = MemoryObservationStore()
    graph, node = graph_with_node(sink)
    assert [spec.name for spec, _ in node.entries] == [
        "answer_quality",
        "cites_gold",
    ]  # pairwise needs shadow
    finals = [graph.invoke(rag.session(row, f"s{i}")) for i, row in enumerate(rag.items())]
    quality = list(sink.observations("rag", "answer_quality"))
    assert len(quality) == rag.N_QUESTIONS
    assert all(o.agent == "answerer" and o.unit_id.startswith("s") for o in quality)
    variants = {f["routing"]["rag"]["variant"] for f in finals}
    assert variants == {"control", "candidate"}
    by_variant = {v: [o.value for o in quality if o.variant == v] for v in variants}
    assert mean(by_variant["control"]) > mean(by_variant["candidate"])  # the regressed model answers worse
    assert set(finals[0]["scores"]) == {"answer_quality", "cites_gold"}
    invalid = list(sink.observations("rag", "answer_quality.invalid"))
    assert len(invalid) == rag.N_QUESTIONS and sum(o.value for o in invalid) == 0
    assert node.stats()["answer_quality"] == {"scored": rag.N_QUESTIONS}


async def test_inline_node_async_and_units_not_enrolled() -> None:
    sink: list = []
    config = rag.config("simulated:regressed", INLINE)
    spec = config.experiments[0].model_copy(update={"coverage": 0.0})
    node = ScoringNode(spec, agent="answerer", sink=sink)
    config = config.model_copy(update={"experiments": (spec,)})
    graph = rag.build(config, MemoryStore(), extra=[("score", node)])
    await graph.ainvoke(rag.session(rag.items()[0], "s1"))
    assert sink == []
    assert node.stats()["node"]["not_enrolled"] == 1


class Exploding:
    name = "exploding"
    pairwise = False

    def score(self, item: Sample) -> Score:
        raise RuntimeError("scorer bug")

    async def ascore(self, item: Sample) -> Score:
        raise RuntimeError("scorer bug")


def test_a_failing_scorer_or_sink_never_breaks_the_graph() -> None:
    class BrokenSink:
        def add(self, batch):
            raise ConnectionError("store down")

    config = rag.config("simulated:regressed", INLINE[1:2])
    entries = [
        *build_scorers(config.experiments[0]),
        (ScorerSpec(name="exploding", type="exact", agent="answerer", reference_field="x"), Exploding()),
    ]
    node = ScoringNode(config.experiments[0], agent="answerer", sink=BrokenSink(), scorers=entries)
    graph = rag.build(config, MemoryStore(), extra=[("score", node)])
    final = graph.invoke(rag.session(rag.items()[0], "s1"))
    assert final["answerer"]
    stats = node.stats()
    assert (
        stats["exploding"]["errors"] == 1
        and stats["sink"]["errors"] == 1
        and stats["cites_gold"]["scored"] == 1
    )


def records() -> list[OutputRecord]:
    ref = {"invoice_number": "INV-1", "total": 10.0}
    rows = []
    for i, (control, test) in enumerate(
        [(ref, ref), (ref, {"invoice_number": "INV-1", "total": 12.0}), (ref, "not json")]
    ):
        for variant, out in (("control", control), ("candidate", test)):
            rows.append(
                OutputRecord(
                    experiment="inv",
                    variant=variant,
                    unit_id=f"u{i}-{variant}",
                    key=f"doc{i}",
                    agent="extractor",
                    output=json.dumps(out) if isinstance(out, dict) else out,
                    reference=ref,
                )
            )
    return rows


OFFLINE = [
    {"name": "json_valid", "type": "json_schema", "agent": "extractor", "mode": "offline"},
    {
        "name": "fields",
        "type": "json_fields",
        "agent": "extractor",
        "reference_field": "reference",
        "mode": "offline",
    },
    {
        "name": "same_as_control",
        "type": "citations",
        "agent": "extractor",
        "mode": "offline",
        "options": {"key": "invoice_number"},
    },
]


def test_offline_scoring_of_stored_records(tmp_path) -> None:
    path = tmp_path / "outputs.jsonl"
    assert write_records(path, records()) == 6
    loaded = list(read_records(path))
    assert loaded == records()
    spec = rag.config(scorers=OFFLINE).experiments[0]
    sink = MemoryObservationStore()
    result = score_records(loaded, experiment=spec, sink=sink)
    assert result.values("json_valid", "control") == [1.0, 1.0, 1.0]
    assert result.values("json_valid", "candidate") == [1.0, 1.0, 0.0]
    assert result.values("fields", "candidate") == [1.0, 0.0, 0.0]
    parse = [
        o.value
        for o in result.observations
        if o.metric == "json_valid.parse_error" and o.variant == "candidate"
    ]
    assert parse == [0.0, 0.0, 1.0]
    assert len(result.values("same_as_control")) == 3  # one pair per stored key
    again = score_records(loaded, experiment=spec, sink=sink)
    assert sink.add(again.observations) == 0  # observation ids make re-scoring idempotent


async def test_offline_async_twin_matches() -> None:
    spec = rag.config(scorers=OFFLINE).experiments[0]
    sync = score_records(records(), experiment=spec)
    asynced = await ascore_records(records(), experiment=spec)
    assert sorted((o.metric, o.variant, o.value) for o in sync.observations) == sorted(
        (o.metric, o.variant, o.value) for o in asynced.observations
    )
