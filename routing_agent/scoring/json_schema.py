"""JSON validity against a JSON Schema (``jsonschema``), with parse and schema failures counted apart.

Per output: ``<name>`` is 1.0 when the output parses and validates, else 0.0; ``<name>.parse_error`` is 1.0
when it is not JSON at all; ``<name>.schema_error`` is 1.0 when it is JSON that breaks the schema. The three
rates sum to one, so a report can say "4% unparseable, 2% wrong shape". The schema's ``$schema`` picks the
draft (default: 2020-12) and is checked when the scorer is built.
"""

from __future__ import annotations

__all__ = ["JsonSchemaOptions", "JsonSchemaScorer", "load_schema"]

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import exceptions as js_exceptions
from jsonschema import validators
from pydantic import BaseModel, ConfigDict, model_validator

from routing_agent.config.safe_read import load_data_file
from routing_agent.scoring.base import BaseScorer, Sample, Score
from routing_agent.scoring.jsonparse import parse_json
from routing_agent.scoring.regex import RegexError, compile_user_regex, schema_patterns


class JsonSchemaOptions(BaseModel):
    """Options of ``type: json_schema``: ``schema`` (inline) or ``schema_file``; with neither, any JSON
    value is valid (the scorer then measures parseability only)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    json_schema: dict[str, Any] | None = None
    schema_file: str | None = None
    """Path to a JSON (or YAML) schema file; relative paths are relative to the experiments YAML."""
    allow_fences: bool = True
    """Accept an output wrapped in one Markdown code fence (```json … ```)."""
    extract: bool = False
    """Accept a JSON object embedded in prose (off: prose around the JSON is a parse failure)."""

    @model_validator(mode="before")
    @classmethod
    def _alias_schema(cls, data: Any) -> Any:
        if isinstance(data, dict) and "schema" in data:  # ``schema`` shadows a BaseModel attribute
            data = dict(data)
            data["json_schema"] = data.pop("schema")
        return data

    @model_validator(mode="after")
    def _one_source(self) -> JsonSchemaOptions:
        if self.json_schema is not None and self.schema_file is not None:
            raise ValueError("give one of 'schema' (inline) or 'schema_file', not both")
        return self


def load_schema(options: JsonSchemaOptions, base_dir: Path | None = None) -> dict[str, Any]:
    """The schema dict from the options (reading ``schema_file``); raises ``ValueError`` if it is invalid.

    ``schema_file`` is read like a config file (regular files only, size cap, alias bombs refused), and
    every ``pattern`` / ``patternProperties`` must compile on RE2 (the error names where it sits).
    """
    if options.json_schema is not None:
        schema = options.json_schema
    elif options.schema_file is None:
        return {}
    else:
        path = Path(options.schema_file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            schema = load_data_file(path)
        except ValueError as exc:
            raise ValueError(f"cannot read schema file: {exc}") from exc
        if not isinstance(schema, dict):
            raise ValueError(f"schema file '{path}' does not hold a JSON object")
    for where, pattern in schema_patterns(schema):
        try:
            compile_user_regex(pattern)
        except RegexError as exc:
            raise ValueError(f"{where or '/'}: {exc}") from exc
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except js_exceptions.SchemaError as exc:
        raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
    return schema


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not compile_user_regex(pattern).search(instance):
        yield js_exceptions.ValidationError("the string does not match the schema's pattern")


def _pattern_properties(validator: Any, props: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in props.items():
        compiled = compile_user_regex(pattern)
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _linear_validator(schema: dict[str, Any]) -> Any:
    """A validator of the schema's draft whose regex keywords run on RE2."""
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    keywords = {"pattern": _pattern, "patternProperties": _pattern_properties}
    linear = validators.extend(cls, keywords)  # type: ignore[no-untyped-call]
    return linear(schema, format_checker=cls.FORMAT_CHECKER)


def _where(error: js_exceptions.ValidationError) -> str:
    return "/" + "/".join(str(p) for p in error.absolute_path)


class JsonSchemaScorer(BaseScorer[Sample]):
    """``type: json_schema`` — 1.0 for a parseable, schema-valid output (no reference needed)."""

    def __init__(
        self, name: str, options: JsonSchemaOptions | None = None, *, schema: dict[str, Any] | None = None
    ) -> None:
        super().__init__(name)
        if options is None:
            options = JsonSchemaOptions(json_schema=schema)
        self.options = options
        resolved = schema if schema is not None else load_schema(options)
        self._validator = _linear_validator(resolved)

    def score(self, item: Sample) -> Score:
        """Valid (1.0), unparseable or schema-breaking (0.0), with the failure kind as details."""
        parsed = parse_json(item.output, allow_fences=self.options.allow_fences, extract=self.options.extract)
        if not parsed.ok:
            return Score(
                self.name,
                0.0,
                label="parse_error",
                explanation=parsed.error,
                details={"parse_error": 1.0, "schema_error": 0.0},
            )
        valid = self._validator.is_valid(parsed.data)  # fast path; errors are collected only on failure
        error = None if valid else js_exceptions.best_match(self._validator.iter_errors(parsed.data))
        if error is not None:
            return Score(
                self.name,
                0.0,
                label="schema_error",
                explanation=f"{_where(error)}: fails '{error.validator}'",  # never the output's value
                details={"parse_error": 0.0, "schema_error": 1.0},
            )
        return Score(self.name, 1.0, label="valid", details={"parse_error": 0.0, "schema_error": 0.0})
