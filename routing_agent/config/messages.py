"""Pydantic validation errors → plain-language problems located by data path, each with a fix.

``explain(exc, model, data)`` walks each error's ``loc`` through the data that was validated, so the path
names real keys and list positions (``variants[1].weight``) that the YAML reader has line numbers for;
``SpecProblem``s raised by the spec validators carry their own path, message and fix.
"""

from __future__ import annotations

__all__ = ["FieldProblem", "explain", "format_path", "known_fields", "parse_path", "suggest"]

import functools
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from routing_agent.config.fields import AGENT_PATTERN, MODEL_ID_PATTERN, SLUG_PATTERN
from routing_agent.config.rules import SpecProblem
from routing_agent.config.yaml_source import Path

_HINTS = {
    "id": "a slug such as support-haiku (lower-case letters, digits, '-' and '_')",
    "name": "a short name such as control or candidate",
    "model": "a model id provider:model, such as simulated:fast-cheap or openai:gpt-5",
    "weight": "a share such as 80 or 0.8 (the weights of an experiment sum to 100 or to 1)",
    "variants": "a list of at least two variants, exactly one with control: true",
    "unit": "session, user or request",
    "coverage": "the enrolled share of units, between 0 and 1 (e.g. 0.5)",
    "start": "an ISO 8601 date or date-time such as 2026-05-01 or 2026-05-01T09:00:00Z",
    "end": "an ISO 8601 date or date-time such as 2026-06-01",
    "mde": "the smallest effect worth detecting, such as 0.02",
    "metric": "a metric name such as latency_s, cost_usd or refusal",
    "scope": "a list of agent names such as [drafter, resolver]",
    "range": "[start, end] inside [0, 1], such as [0, 0.5]",
    "input": "USD per million input tokens, such as 3.0",
    "output": "USD per million output tokens, such as 15.0",
    "primary_metric": "a mapping with name, kind and mde",
}
_NUMBER_TYPES = {"float_type", "float_parsing", "int_type", "int_parsing", "int_from_float"}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


@dataclass(frozen=True)
class FieldProblem:
    """One problem inside validated data: its path there, what is wrong, the fix."""

    path: Path
    message: str
    fix: str | None


def explain(exc: ValidationError, model: type[BaseModel], data: Any) -> list[FieldProblem]:
    """Every problem in ``exc`` (raised validating ``data`` as ``model``), in plain words."""
    problems: list[FieldProblem] = []
    errors = exc.errors()
    for err in errors:
        path, at_key = _data_path(data, err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SpecProblem):
            for item in (cause, *cause.also):
                problems.append(FieldProblem((*path, *item.loc), item.message, item.fix))
            continue
        if err["type"] == "too_short" and any(_under(e["loc"], err["loc"]) for e in errors if e is not err):
            continue  # "at least 2 items, not 0" only restates the item errors that follow
        message, fix = _translate(err, model, path, at_key)
        problems.append(FieldProblem(path, message, fix))
    return problems


def format_path(path: Path) -> str:
    """``("variants", 1, "weight")`` → ``variants[1].weight``; odd keys are quoted: ``prices['a b']``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def parse_path(text: str) -> Path:
    """Inverse of ``format_path``: ``variants[1].weight`` → ``("variants", 1, "weight")``."""
    parts: list[str | int] = []
    for name, index, quoted in re.findall(r"([^.\[\]]+)|\[(\d+)\]|\[(?:'|\")(.*?)(?:'|\")\]", text):
        parts.append(int(index) if index else quoted or name)
    return tuple(parts)


def known_fields(model: type[BaseModel], path: Path) -> list[str] | None:
    """Field names of the model found at ``path`` under ``model`` (None if no model sits there)."""
    fields = _known_fields(model, path)
    return None if fields is None else list(fields)


@functools.lru_cache(maxsize=1024)  # 20,000 unknown keys in one mapping ask 20,000 times
def _known_fields(model: type[BaseModel], path: Path) -> tuple[str, ...] | None:
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(part, str) or part not in annotation.model_fields:
                return None
            annotation = annotation.model_fields[part].annotation
        elif get_origin(annotation) in (tuple, list) and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return tuple(name for name in annotation.model_fields if name != "sources")
    return None


def suggest(word: str, choices: list[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (typo-level distance), or None."""
    from rapidfuzz import fuzz, process  # only when a config has a typo: off the import path
    from rapidfuzz.utils import default_process

    match = process.extractOne(word, choices, scorer=fuzz.ratio, processor=default_process, score_cutoff=60)
    return None if match is None else str(match[0])


def _under(loc: tuple[int | str, ...], parent: tuple[int | str, ...]) -> bool:
    return len(loc) > len(parent) and loc[: len(parent)] == parent


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _data_path(data: Any, loc: tuple[int | str, ...]) -> tuple[Path, bool]:
    """Follow ``loc`` through ``data``, dropping pydantic's union-branch labels; flags dict-key errors."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":
            return tuple(path), True
        step = _step(node, part)
        if step is not _MISSING:
            node = step
        elif not (isinstance(node, dict) and i == len(loc) - 1):
            continue  # a union-branch label such as 'float', not a key of the data
        path.append(part)  # the last part may be a missing or unknown key: name it
    return tuple(path), False


_MISSING = object()


def _step(node: Any, part: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(part, _MISSING)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads yes/no/on/off as true/false)"
    if isinstance(value, int):
        text = str(value)
        return f"the number {text}" if len(text) <= 20 else f"a {len(text)}-digit number"
    if isinstance(value, float):
        return f"the number {value:g}"
    if isinstance(value, str):
        return f"'{value}'" if len(value) < 60 else f"'{value[:57]}...'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _translate(err: ErrorDetails, model: type[BaseModel], path: Path, at_key: bool) -> tuple[str, str]:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    field = next((p for p in reversed(path) if isinstance(p, str)), "")
    hint = _HINTS.get(field)
    got = _describe(value)
    if kind == "missing":
        return f"'{field}' is required but missing", f"add {field}: <value>" + (f" ({hint})" if hint else "")
    if kind == "extra_forbidden":
        fields = known_fields(model, path[:-1]) or []
        close = suggest(field, fields)
        listed = ", ".join(fields)
        if close:
            return f"unknown field '{field}'", f"did you mean '{close}'? Known fields here: {listed}"
        return f"unknown field '{field}'", f"remove it; known fields here: {listed}"
    if kind == "string_pattern_mismatch":
        return _pattern(str(value), str(ctx.get("pattern", "")), field, at_key)
    if kind == "string_type":
        return f"expected text, got {got}", "put the value in quotes"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}", "write true or false"
    if kind in _NUMBER_TYPES:
        if isinstance(value, str) and value.strip().endswith("%"):
            return f"expected a number, got {got}", f"write {value.strip()[:-1].strip()} (no '%' sign)"
        return f"expected a number, got {got}", f"write {hint}" if hint else "write a plain number"
    if kind == "finite_number":
        return f"expected a finite number, got {got}", "write an ordinary number (no .inf or .nan)"
    if kind in _BOUNDS:
        bound = ctx.get(_ctx_key(kind))
        shown = f"{bound:g}" if isinstance(bound, int | float) else str(bound)
        return f"must be {_BOUNDS[kind]} {shown}, got {got}", _bound_fix(field, hint)
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        options = re.findall(r"'([^']*)'", expected) or [expected]
        close = suggest(str(value), options) if isinstance(value, str) else None
        fix = f"use one of: {', '.join(options)}"
        if close:
            fix = f"did you mean '{close}'? Allowed: {', '.join(options)}"
        elif isinstance(value, bool):
            fix += f" (write it as text, e.g. {field}: {options[0]})"
        return f"must be one of {expected}, got {got}", fix
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of 'key: value' lines, got {got}", _structure_fix(field, hint, "mapping")
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {got}", _structure_fix(field, hint, "list")
    if kind == "too_short":
        if field == "variants":
            return (
                "an experiment needs at least 2 variants (a control and a candidate), "
                f"got {len(value or [])}",
                "add a variant, e.g. - {name: candidate, model: simulated:fast-cheap}",
            )
        return f"needs at least {ctx.get('min_length')} item(s)", "add the missing items"
    if kind == "string_too_short":
        return "must not be empty", f"write a value or remove '{field}'"
    if kind in ("too_long", "string_too_long"):
        return f"is too long (at most {ctx.get('max_length')})", "shorten it"
    if kind.startswith(("datetime", "date")):
        return f"expected a date or date-time, got {got}", f"write {_HINTS['start']}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, "), "see the YAML reference in the README"
    return str(err["msg"]), "see the YAML reference in the README" + (f"; {field} is {hint}" if hint else "")


def _ctx_key(kind: str) -> str:
    return {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}[
        kind
    ]


def _bound_fix(field: str, hint: str | None) -> str:
    return f"write {hint}" if hint else f"change '{field}' to a value inside the allowed range"


def _structure_fix(field: str, hint: str | None, shape: str) -> str:
    if hint:
        return f"write '{field}' as {hint}"
    return f"indent the entries under '{field}:' as a {shape}" + (
        " ('- item' lines)" if shape == "list" else ""
    )


def _pattern(value: str, pattern: str, field: str, at_key: bool) -> tuple[str, str]:
    shown = value if len(value) < 60 else value[:57] + "..."
    what = f"key '{shown}'" if at_key else f"'{shown}'"
    if pattern == SLUG_PATTERN:
        slug = re.sub(r"[^a-z0-9_-]+", "-", value.lower()).strip("-_")[:64] or "my-experiment"
        return (
            f"{what} is not a valid {field or 'name'}: use lower-case letters, digits, '-' and '_', "
            "starting and ending with a letter or digit",
            f"write '{slug}'",
        )
    if pattern == MODEL_ID_PATTERN:
        return (
            f"{what} is not a model id of the form provider:model",
            f"add the provider in front, e.g. openai:{shown} or simulated:{shown}"
            if value and ":" not in value and " " not in value
            else "write e.g. simulated:fast-cheap or openai:gpt-5 (no spaces)",
        )
    if pattern == AGENT_PATTERN:
        return (
            f"{what} is not an agent name: only ASCII letters, digits and _ . : / - are allowed (no spaces, "
            "no look-alike letters, no invisible or direction-changing characters)",
            "use the node name of the agent in your graph, typed in plain ASCII",
        )
    return f"{what} has the wrong form", "see the YAML reference in the README"
