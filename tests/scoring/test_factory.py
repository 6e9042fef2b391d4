"""YAML scorer entries → scorers; bad options name the experiment and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing_agent.config.loader import load_experiments, load_experiments_from_string
from routing_agent.config.spec import ExperimentsConfig, ScorerSpec
from routing_agent.errors import ConfigError
from routing_agent.scoring.citations import CitationCorrectnessScorer, CitationStabilityScorer
from routing_agent.scoring.exact import ExactScorer
from routing_agent.scoring.factory import OPTIONS, build_scorer, build_scorers
from routing_agent.scoring.fuzzy import FuzzyScorer
from routing_agent.scoring.json_fields import JsonFieldsScorer
from routing_agent.scoring.json_schema import JsonSchemaScorer
from routing_agent.scoring.judge import LikertJudge, PairwiseJudge

REPO = Path(__file__).resolve().parents[2]

YAML = """
experiments:
  - id: invoices
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - {name: candidate, model: "simulated:regressed"}
    scorers:
      - {name: category, type: exact, agent: classifier, reference_field: reference.category,
         options: {remove_punctuation: true}}
      - {name: vendor, type: fuzzy, agent: extractor, reference_field: reference.vendor,
         options: {method: token_set_ratio, threshold: 0.85}}
      - {name: fields, type: json_fields, agent: extractor, reference_field: reference.fields,
         options: {fields: {total: {match: number, tolerance: 0.01}, vendor: {match: fuzzy}}}}
      - {name: json_valid, type: json_schema, agent: extractor,
         options: {schema: {type: object, required: [total]}}}
      - {name: quality, type: judge_likert, agent: drafter,
         options: {judge_model: "simjudge:fair", rubric: {1: bad, 2: poor, 3: ok, 4: good, 5: great}}}
      - {name: preference, type: judge_pairwise, agent: drafter, mode: offline,
         options: {judge_model: "simulated:judge", criteria: "helpfulness"}}
      - {name: stability, type: citations, agent: drafter, mode: offline, options: {metric: rbo, p: 0.8}}
      - {name: cites_gold, type: citations, agent: drafter, reference_field: reference.sources}
"""


def test_every_scorer_type_builds_from_yaml() -> None:
    spec = load_experiments_from_string(YAML).experiments[0]
    built = dict((s.name, scorer) for s, scorer in build_scorers(spec))
    kinds = {name: type(scorer) for name, scorer in built.items()}
    assert kinds == {
        "category": ExactScorer,
        "vendor": FuzzyScorer,
        "fields": JsonFieldsScorer,
        "json_valid": JsonSchemaScorer,
        "quality": LikertJudge,
        "preference": PairwiseJudge,
        "stability": CitationStabilityScorer,
        "cites_gold": CitationCorrectnessScorer,
    }
    assert set(OPTIONS) == set(ScorerSpec.model_fields["type"].annotation.__args__)
    assert built["stability"].metric == "rbo" and built["stability"].pairwise
    assert not built["cites_gold"].pairwise


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")))
def test_shipped_example_configs_build(path: Path) -> None:
    for spec in load_experiments(path).experiments:
        build_scorers(spec)


def issues(entries: list[dict], experiment: str = "exp") -> list[tuple[str | None, str]]:
    # built without the loader (which runs the same checks at load time and adds the line)
    data = {
        "experiments": [
            {
                "id": experiment,
                "variants": [
                    {"name": "a", "model": "simulated:fast-cheap", "control": True},
                    {"name": "b", "model": "simulated:regressed"},
                ],
                "scorers": entries,
            }
        ]
    }
    spec = ExperimentsConfig.model_validate(json.loads(json.dumps(data))).experiments[0]
    with pytest.raises(ConfigError) as info:
        build_scorers(spec, source="exp.yaml")
    assert all(i.experiment == experiment and i.file == "exp.yaml" for i in info.value.issues)
    return [(i.field, i.message + (f" | {i.fix}" if i.fix else "")) for i in info.value.issues]


def test_bad_options_name_the_field_and_list_every_problem() -> None:
    found = issues(
        [
            {"name": "ok", "type": "exact", "reference_field": "r"},
            {
                "name": "sim",
                "type": "fuzzy",
                "reference_field": "r",
                "options": {"threshold": 85, "methd": "ratio"},
            },
            {"name": "q", "type": "judge_likert", "options": {"rubric": {1: "x"}}},
            {"name": "e", "type": "exact"},
        ]
    )
    fields = [f for f, _ in found]
    assert fields == [
        "scorers[1].options.threshold",
        "scorers[1].options.methd",
        "scorers[2].options.judge_model",
        "scorers[2].options.rubric",
        "scorers[3].reference_field",
    ]
    assert "less than or equal to 1" in found[0][1]
    assert "use one of the options of type 'fuzzy'" in found[1][1] and "method" in found[1][1]
    assert "add 'judge_model' under options" in found[2][1]


def test_schema_problems_are_config_errors(tmp_path: Path) -> None:
    found = issues([{"name": "j", "type": "json_schema", "options": {"schema": {"type": "banana"}}}])
    assert found[0][0] == "scorers[0].options.schema" and "not a valid JSON Schema" in found[0][1]
    found = issues([{"name": "j", "type": "json_schema", "options": {"schema_file": "nope.json"}}])
    assert found[0][0] == "scorers[0].options.schema_file" and "cannot read" in found[0][1]
    (tmp_path / "s.json").write_text('{"type": "object"}')
    spec = ScorerSpec(name="j", type="json_schema", options={"schema_file": "s.json"})
    assert build_scorer(spec, base_dir=tmp_path).score  # relative to the YAML's folder


def test_citation_and_regex_options() -> None:
    found = issues([{"name": "c", "type": "citations", "options": {"against": "gold", "pattern": "["}}])
    assert found[0][0] == "scorers[0].options.pattern"
    found = issues([{"name": "c", "type": "citations", "options": {"against": "gold"}}])
    assert found == [("scorers[0].reference_field", found[0][1])]
    with pytest.raises(ConfigError, match=r"scorers\[4\]\.options\.metric"):
        build_scorer(ScorerSpec(name="c", type="citations", options={"metric": "cosine"}), index=4)
