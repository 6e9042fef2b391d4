"""Scorers on the reference workflows (simulated provider), cross-checked with each workflow's own metrics."""

from __future__ import annotations

from statistics import mean
from typing import Any

import pytest

from routing_agent.config.loader import load_experiments
from routing_agent.config.spec import ExperimentsConfig, ScorerSpec
from routing_agent.providers.simulated import set_time_scale
from routing_agent.scoring.factory import build_scorer
from routing_agent.scoring.outputs import OutputRecord
from routing_agent.scoring.runner import score_records
from routing_agent.scoring.shadow import ShadowRunner
from routing_agent.workflows.invoice_extraction import WORKFLOW as INVOICE
from routing_agent.workflows.invoice_extraction import prompts as invoice_prompts
from routing_agent.workflows.rag_qa import WORKFLOW as RAG
from routing_agent.workflows.support_triage import WORKFLOW as SUPPORT

INVOICE_SCHEMA = {  # the workflow's JSON contract (graph._schema_ok), written as a JSON Schema
    "type": "object",
    "required": list(invoice_prompts.FIELDS),
    "properties": {
        **{k: {"type": "number"} for k in invoice_prompts.NUMBER_FIELDS},
        **{k: {"type": "string"} for k in ("invoice_number", *invoice_prompts.DATE_FIELDS)},
    },
}


@pytest.fixture(autouse=True)
def offline() -> None:
    set_time_scale(0.0)


def entry(**spec: Any):
    scorer_spec = ScorerSpec(**spec)
    return scorer_spec, build_scorer(scorer_spec)


def run_sessions(workflow: Any, config: ExperimentsConfig, n: int, unit_key: str) -> list[dict[str, Any]]:
    graph = workflow.build(config)
    return [
        graph.invoke(workflow.session_input(item, f"s-{i}")) for i, item in enumerate(workflow.items()[:n])
    ]


def as_records(
    finals: list[dict[str, Any]], experiment: str, unit_key: str, agent: str
) -> list[OutputRecord]:
    return [
        OutputRecord(experiment=experiment, variant=f["routing"][experiment]["variant"], unit_id=f[unit_key],
                     key=f[unit_key], agent=agent, output=f)
        for f in finals
    ]  # fmt: skip


def test_invoice_fields_and_json_validity_agree_with_the_workflow() -> None:
    config = load_experiments(INVOICE.default_config)
    finals = run_sessions(INVOICE, config, 150, "invoice_id")
    strict = {"ignore_case": False, "collapse_whitespace": False, "unicode_form": "none", "tolerance": 0.005}
    entries = [
        entry(name="fields", type="json_fields", agent="extractor", output_field="extracted",
              reference_field="expected", mode="offline", options={"default": strict}),
        entry(name="json_valid", type="json_schema", agent="extractor", output_field="extracted_text",
              mode="offline", options={"schema": INVOICE_SCHEMA, "allow_fences": False}),
    ]  # fmt: skip
    result = score_records(as_records(finals, "invoice-extractor", "invoice_id", "extractor"), entries)
    scores = {(item.unit_id, score.name): score for item, score in result.scores}
    scored = 0
    for final in finals:
        out = final["outcome"]
        if final.get("extracted") is not None:
            fields = scores[(final["invoice_id"], "fields")]
            assert fields.details["accuracy"] == pytest.approx(out["field_accuracy"])
            assert fields.value == out["fields_correct"]
            scored += 1
        if final.get("extracted_text") is not None:
            assert scores[(final["invoice_id"], "json_valid")].value == out["json_valid"]
    assert scored >= 140
    summary = {(r["scorer"], r["variant"]): r for r in result.summary()}
    # fast-cheap slips JSON more often; its failures are split into parse vs schema errors
    assert summary[("json_valid.parse_error", "candidate")]["mean"] > 0
    for variant in ("control", "candidate"):
        parts = [summary[(f"json_valid{s}", variant)]["mean"] for s in ("", ".parse_error", ".schema_error")]
        assert sum(parts) == pytest.approx(1.0)


def rag_config(candidate: str) -> ExperimentsConfig:
    config = load_experiments(RAG.default_config)
    spec = config.experiments[0]
    variants = (spec.variants[0], spec.variants[1].model_copy(update={"model": candidate}))
    return config.model_copy(update={"experiments": (spec.model_copy(update={"variants": variants}),)})


RAG_SCORERS = [
    {"name": "citation_stability", "type": "citations", "agent": "citer", "output_field": "citations",
     "mode": "offline"},
    {"name": "cites_gold", "type": "citations", "agent": "citer", "output_field": "citations",
     "reference_field": "reference.gold_docs", "mode": "offline"},
]  # fmt: skip


def rag_replay(candidate: str, n: int = 40):
    config = rag_config(candidate)
    spec = config.experiments[0]
    entries = [entry(**s) for s in RAG_SCORERS]
    runner = ShadowRunner(RAG.build(config), config, scorers=entries)
    rows = [(item["id"], RAG.session_input(item, item["id"])) for item in RAG.items()[:n]]
    return spec, runner.replay(rows)


def test_rag_citation_stability_on_the_reference_workflow() -> None:
    _, same = rag_replay("simulated:strong-expensive")
    assert same.failures == 0
    assert same.scoring.values("citation_stability") == [1.0] * 40
    _, cheap = rag_replay("simulated:fast-cheap")
    _, drift = rag_replay("simulated:regressed")
    cheap_mean, drift_mean = (
        mean(cheap.scoring.values("citation_stability")),
        mean(drift.scoring.values("citation_stability")),
    )
    assert drift_mean < cheap_mean < 1.0
    assert drift_mean < 0.9
    # correctness against gold equals the workflow's own citations_exact, per variant run
    outcomes = {(r.key, r.variant): r.output["outcome"]["citations_exact"] for r in drift.records}
    for item, score in drift.scoring.scores:
        if score.name == "cites_gold":
            assert score.value == outcomes[(item.unit_id.removeprefix("shadow:"), item.variant)]


def test_scorers_without_output_field_read_a_sensible_default_or_count_missing() -> None:
    config = rag_config("simulated:regressed")
    judge = {"name": "quality", "type": "judge_likert", "agent": "answerer", "mode": "offline",
             "options": {"judge_model": "simjudge:fair"}}  # fmt: skip
    entries = [
        entry(**{**RAG_SCORERS[0], "output_field": None}),  # as shipped in configs/rag.yaml
        entry(**{**RAG_SCORERS[0], "name": "explicit"}),
        entry(**judge),  # no 'answerer' key in the state: never grade a dump of the whole state
    ]
    runner = ShadowRunner(RAG.build(config), config, scorers=entries)
    result = runner.replay([(item["id"], RAG.session_input(item, item["id"])) for item in RAG.items()[:8]])
    assert result.scoring.values("citation_stability") == result.scoring.values("explicit")
    assert len(result.scoring.values("citation_stability")) == 8
    assert result.scoring.values("quality") == []
    assert result.scoring.stats.snapshot()["quality"]["missing_output"] == 16


def test_support_category_exact_match_agrees_with_the_workflow() -> None:
    config = load_experiments(SUPPORT.default_config)
    finals = run_sessions(SUPPORT, config, 120, "session_id")
    spec = config.experiments[0]
    exact = [entry(name="category", type="exact", agent="classifier", output_field="category",
                   reference_field="reference.category", mode="offline")]  # fmt: skip
    result = score_records(as_records(finals, spec.id, "session_id", "classifier"), exact)
    values = {item.unit_id: score.value for item, score in result.scores}
    checked = 0
    for final in finals:
        if final.get("category") is not None:
            assert values[final["session_id"]] == final["outcome"]["category_correct"]
            checked += 1
    assert checked >= 100
