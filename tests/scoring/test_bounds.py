"""Inline scorers are bounded: hostile outputs and patterns never hold a real graph past the budget.

Each case of issue 15 (point 4) runs through a real LangGraph graph (RoutingNode → agent → ScoringNode):
the invoke returns within the scorer's ``timeout_s`` plus slack, the limit is counted, and a user regex that
would backtrack on Python's ``re`` either runs on RE2 (and answers) or is refused by ``validate``.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph

from routing_agent.config.loader import check_experiments_string
from routing_agent.config.spec import ExperimentsConfig
from routing_agent.graph import RoutingNode
from routing_agent.scoring.bounds import HITS
from routing_agent.scoring.node import ScoringNode
from routing_agent.stores.assignments.memory import MemoryStore
from routing_agent.stores.observations.memory import MemoryObservationStore

TIMEOUT_S = 0.5
SLACK_S = 6.0  # thread hand-off and graph work on a starved CPU; hostile cases took 13 s to > 60 s before


class State(TypedDict, total=False):
    session_id: str
    routing: dict[str, Any]
    answer: Any
    reference: Any
    scores: dict[str, Any]


def _config(scorer: dict[str, Any]) -> ExperimentsConfig:
    scorer = {"agent": "answer", "output_field": "answer", **scorer}
    scorer.setdefault("limits", {"timeout_s": TIMEOUT_S})
    return ExperimentsConfig.model_validate(
        {
            "experiments": [
                {
                    "id": "bounds",
                    "variants": [
                        {"name": "control", "model": "simulated:strong-expensive", "control": True},
                        {"name": "candidate", "model": "simulated:cheap-fast"},
                    ],
                    "scorers": [scorer],
                }
            ]
        }
    )


def _run(scorer: dict[str, Any], answer: Any, reference: Any = None) -> tuple[float, ScoringNode, Any]:
    config = _config(scorer)
    sink = MemoryObservationStore()
    node = ScoringNode(config.experiments[0], agent="answer", sink=sink, state_key="scores")
    graph = StateGraph(State)
    graph.add_node("route", RoutingNode(config, store=MemoryStore(), unit_key="session_id"))
    graph.add_node("answer", lambda state: {"answer": answer})
    graph.add_node("score", node)
    graph.add_edge(START, "route")
    graph.add_edge("route", "answer")
    graph.add_edge("answer", "score")
    graph.add_edge("score", END)
    compiled = graph.compile()
    start = time.monotonic()
    final = compiled.invoke({"session_id": "u1", "reference": reference})
    return time.monotonic() - start, node, final


def _limited(node: ScoringNode, name: str) -> dict[str, int]:
    return node.stats()[name]


def test_fuzzy_on_a_one_megabyte_output_is_refused_as_oversize() -> None:
    big = "lorem ipsum " * 90_000  # ~1 MB: fuzzy took > 60 s before
    took, node, final = _run(
        {"name": "fz", "type": "fuzzy", "reference_field": "reference"}, big, reference=big[::-1]
    )
    assert took < TIMEOUT_S + SLACK_S
    assert final["scores"] == {"fz": None}
    assert _limited(node, "fz")["oversize"] == 1


def test_fuzzy_just_under_the_cap_still_scores() -> None:
    text = "the refund window is 30 days " * 100
    _, node, final = _run({"name": "fz", "type": "fuzzy", "reference_field": "reference"}, text, text)
    assert final["scores"] == {"fz": 1.0}
    assert "oversize" not in _limited(node, "fz")


def test_json_fields_on_a_brace_storm_finishes_within_budget() -> None:
    storm = "{" * 60_000 + '"a": 1'  # each "{" re-parsed to the end: quadratic before (45.6 s)
    took, _node, final = _run(
        {"name": "jf", "type": "json_fields", "reference_field": "reference"}, storm, reference={"a": 1}
    )
    assert took < TIMEOUT_S + SLACK_S
    assert final["scores"]["jf"] in (0.0, None)  # unparseable or limited: never a hang


def test_json_schema_with_extract_on_nested_prose_finishes_within_budget() -> None:
    storm = "prose " + '{"k": [' * 30_000 + " and more prose"
    took, _node, final = _run(
        {"name": "js", "type": "json_schema", "options": {"extract": True, "schema": {"type": "object"}}},
        storm,
    )
    assert took < TIMEOUT_S + SLACK_S
    assert final["scores"]["js"] in (0.0, None)


def test_citation_pattern_that_backtracks_on_re_runs_linearly_on_re2() -> None:
    hostile = "a" * 28 + "!"  # ((a+)+)$ took 46 s on this with Python's re
    took, node, _final = _run(
        {
            "name": "cite",
            "type": "citations",
            "reference_field": "reference",
            "options": {"pattern": "((a+)+)$"},
        },
        hostile,
        reference=["x"],
    )
    assert took < TIMEOUT_S + SLACK_S
    assert _limited(node, "cite").get("scored") == 1  # answered, not timed out


def test_json_schema_pattern_that_backtracks_on_re_runs_linearly_on_re2() -> None:
    schema = {"type": "object", "properties": {"v": {"type": "string", "pattern": "^(a|aa)+$"}}}
    value = '{"v": "' + "a" * 35 + '!"}'  # 13 s with Python's re
    took, node, final = _run({"name": "js", "type": "json_schema", "options": {"schema": schema}}, value)
    assert took < TIMEOUT_S + SLACK_S
    assert final["scores"] == {"js": 0.0}  # answered: the value breaks the pattern
    assert _limited(node, "js").get("scored") == 1


def test_a_scorer_past_its_deadline_is_counted_and_the_graph_goes_on() -> None:
    from routing_agent.scoring.base import BaseScorer, Sample, Score

    class Slow(BaseScorer[Sample]):
        def score(self, item: Sample) -> Score:
            time.sleep(TIMEOUT_S * 6)
            return Score(self.name, 1.0)

    config = _config({"name": "slow", "type": "exact", "reference_field": "reference"})
    spec = config.experiments[0].scorers[0]
    before = HITS[("slow", "timeout")]
    node = ScoringNode(config.experiments[0], agent="answer", scorers=[(spec, Slow("slow"))], state_key="s")
    start = time.monotonic()
    out = node.invoke({"routing": {"bounds": {"variant": "control", "unit_id": "u"}}, "answer": "x"})
    assert time.monotonic() - start < TIMEOUT_S + SLACK_S
    assert out == {"s": {"slow": None}}
    assert node.stats()["slow"]["timeout"] == 1
    assert HITS[("slow", "timeout")] == before + 1


@pytest.mark.parametrize(
    ("scorer", "field"),
    [
        ({"type": "citations", "options": {"pattern": r"(a)\1"}}, "scorers[0].options.pattern"),
        (
            {"type": "json_schema", "options": {"schema": {"type": "string", "pattern": "(?=a)b"}}},
            "scorers[0].options.schema",
        ),
    ],
)
def test_validate_refuses_a_pattern_re2_cannot_run_with_its_location(
    scorer: dict[str, Any], field: str
) -> None:
    import yaml

    spec = {
        "experiments": [
            {
                "id": "bounds",
                "variants": [
                    {"name": "control", "model": "simulated:strong-expensive", "control": True},
                    {"name": "candidate", "model": "simulated:cheap-fast"},
                ],
                "scorers": [{"name": "s", "agent": "answer", **scorer}],
            }
        ]
    }
    check = check_experiments_string(yaml.safe_dump(spec), "bounds.yaml")
    assert not check.ok
    assert any(field in (issue.field or "") for issue in check.issues), check.issues
