"""JSON validity (parse vs schema failures) and field-level extraction accuracy, by hand."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage

from routing_agent.scoring.base import Sample, Status, observations
from routing_agent.scoring.json_fields import FieldRule, JsonFieldsOptions, JsonFieldsScorer
from routing_agent.scoring.json_schema import JsonSchemaOptions, JsonSchemaScorer, load_schema
from routing_agent.scoring.jsonparse import find_json_object, parse_json

SCHEMA = {
    "type": "object",
    "required": ["invoice_number", "total"],
    "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number", "minimum": 0}},
}


def s(output, reference=None) -> Sample:
    return Sample(output=output, reference=reference, experiment="inv", variant="candidate", unit_id="u1")


def test_parse_json_forms() -> None:
    assert parse_json('{"a": 1}').data == {"a": 1}
    assert parse_json('```json\n{"a": 1}\n```').data == {"a": 1}
    assert not parse_json('```json\n{"a": 1}\n```', allow_fences=False).ok
    assert not parse_json('Here it is: {"a": 1}').ok
    assert parse_json('Here it is: {"a": 1} thanks', extract=True).data == {"a": 1}
    assert parse_json(AIMessage('{"a": 2}')).data == {"a": 2}
    assert parse_json({"a": 3}).data == {"a": 3}
    assert parse_json("   ").error == "empty output"
    assert find_json_object('x {bad} y {"k": [1]} z') == {"k": [1]}


def test_json_schema_counts_parse_and_schema_failures_apart() -> None:
    scorer = JsonSchemaScorer("json_valid", JsonSchemaOptions(json_schema=SCHEMA))
    outputs = [
        '{"invoice_number": "INV-1", "total": 10.5}',  # valid
        '```json\n{"invoice_number": "INV-2", "total": 3}\n```',  # valid (fenced)
        '{"invoice_number": "INV-3", "total": -1}',  # schema: minimum
        '{"invoice_number": 7, "total": 1}',  # schema: type
        '{"invoice_number": "INV-5", "total": 1,}',  # parse: trailing comma
        "The total is 10.",  # parse: prose
    ]
    scores = scorer.score_batch([s(o) for o in outputs])
    assert [x.value for x in scores] == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert [x.label for x in scores] == [
        "valid",
        "valid",
        "schema_error",
        "schema_error",
        "parse_error",
        "parse_error",
    ]
    assert sum(x.details["parse_error"] for x in scores) == 2
    assert sum(x.details["schema_error"] for x in scores) == 2
    assert scores[2].explanation is not None and scores[2].explanation.startswith("/total")
    obs = observations(scores[4], s(outputs[4]))
    assert {o.metric: o.value for o in obs} == {
        "json_valid": 0.0,
        "json_valid.parse_error": 1.0,
        "json_valid.schema_error": 0.0,
    }
    assert all(o.variant == "candidate" and o.experiment == "inv" for o in obs)


def test_json_schema_without_schema_measures_parseability() -> None:
    scorer = JsonSchemaScorer("json_valid", JsonSchemaOptions())
    assert scorer.score(s("[1, 2]")).value == 1.0
    assert scorer.score(s("{oops")).label == "parse_error"


def test_load_schema_rejects_invalid_schema_and_reads_files(tmp_path) -> None:
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        load_schema(JsonSchemaOptions(json_schema={"type": "banana"}))
    path = tmp_path / "invoice.schema.json"
    path.write_text(json.dumps(SCHEMA))
    assert load_schema(JsonSchemaOptions(schema_file="invoice.schema.json"), base_dir=tmp_path) == SCHEMA
    with pytest.raises(ValueError, match="cannot read schema file"):
        load_schema(JsonSchemaOptions(schema_file="missing.json"), base_dir=tmp_path)
    with pytest.raises(ValueError, match="not both"):
        JsonSchemaOptions.model_validate({"schema": SCHEMA, "schema_file": "x.json"})
    assert JsonSchemaOptions.model_validate({"schema": SCHEMA}).json_schema == SCHEMA


REFERENCE = {
    "invoice_number": "INV-2041",
    "vendor": {"name": "Acme Tools GmbH", "country": "DE"},
    "total": 1234.5,
    "due_date": "2026-05-01",
    "po_number": None,
}


def test_json_fields_default_fields_are_the_reference_keys() -> None:
    out = dict(REFERENCE, total="1,234.50", due_date="2026-05-02")
    score = JsonFieldsScorer("fields").score(s(json.dumps(out), REFERENCE))
    # 5 fields: invoice_number ok, vendor (object, exact JSON) ok, total ok (number), due_date wrong, po ok
    assert score.value == 0.0
    assert score.details["accuracy"] == pytest.approx(4 / 5)
    assert score.details["field.due_date"] == 0.0
    assert score.details["field.total"] == 1.0
    assert score.label == "4/5"
    assert score.explanation == "wrong: due_date"


def test_json_fields_rules_paths_and_missing_fields() -> None:
    options = JsonFieldsOptions(
        fields={
            "invoice_number": FieldRule(),
            "vendor.name": FieldRule(match="fuzzy", threshold=0.8),
            "total": FieldRule(match="number", tolerance=0.01),
            "po_number": FieldRule(),
            "vendor.country": FieldRule(),
        }
    )
    scorer = JsonFieldsScorer("fields", options)
    output = {"invoice_number": " inv-2041 ", "vendor": {"name": "ACME Tools"}, "total": "1234.51"}
    score = scorer.score(s(output, REFERENCE))
    # fuzzy: "acme tools" vs "acme tools gmbh": 1 - 5/25 = 0.8 → correct at threshold 0.8
    assert score.details["field.vendor.name"] == 1.0
    assert score.details["field.total"] == 1.0
    assert score.details["field.po_number"] == 1.0  # null reference, field absent
    assert score.details["field.vendor.country"] == 0.0  # missing in the output
    assert score.details["accuracy"] == pytest.approx(4 / 5)
    assert score.value == 0.0
    perfect = dict(output, vendor={"name": "Acme Tools GmbH", "country": "de"})
    assert scorer.score(s(perfect, REFERENCE)).value == 1.0


def test_json_fields_unparseable_output_and_missing_reference() -> None:
    scorer = JsonFieldsScorer("fields", JsonFieldsOptions(fields=["invoice_number", "total"]))
    bad = scorer.score(s("sorry, I cannot read this invoice", REFERENCE))
    assert (bad.value, bad.details["parse_error"], bad.details["accuracy"]) == (0.0, 1.0, 0.0)
    assert scorer.score(s("{}", None)).status is Status.SKIPPED
    fenced = scorer.score(s('Sure!\n{"invoice_number": "INV-2041", "total": 1234.5}', REFERENCE))
    assert fenced.value == 1.0 and fenced.details["parse_error"] == 0.0
