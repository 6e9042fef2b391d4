"""Tool use and schema-shaped values for the simulated provider: enough for a ``create_agent`` loop offline.

**Automatic tool choice** (tools bound, ``tool_choice`` unset or ``"auto"``) — ``choose_tool``:

1. the *turn* is everything after the last human message; a tool already called in it is not called again,
   and after ``MAX_CALLS_PER_TURN`` calls (or when no bound tool is left) the model answers;
2. the bound tools are ranked by the words their name, description and parameter names share with the
   user's message; the best one is the *right* tool (with no shared word: the first tool not yet called,
   on the model's first step of the turn only — a model given tools uses one before answering);
3. the profile picks it with probability ``quality_for("tool_use").p_correct(difficulty)`` (difficulty 0.3
   when a word matched, 0.6 when it guessed); otherwise it picks another bound tool or skips the call.

Every draw is keyed on the input, so a seed replays the same loop. The arguments come from the tool's JSON
schema and the user's message (``plausible_instance``): ``city: Paris`` or ``city="Paris"`` in the message,
a capitalised name for name-like fields, the first number for numbers, a mentioned enum value, an e-mail /
URL / ISO date found in the text, the question itself for ``query``-like fields. Structured output on a
prompt no oracle knows is filled the same way, so its fields are schema-valid and read like the input.
After the tool results, ``tool_answer`` opens the model's reply with what the tools returned.
"""

from __future__ import annotations

__all__ = ["MAX_CALLS_PER_TURN", "choose_tool", "plausible_instance", "tool_answer", "user_text"]

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from routing_agent.providers.profiles import SimulatedProfile
from routing_agent.providers.simulated_draws import Draws

MAX_CALLS_PER_TURN = 3
"""At most this many tool calls before the simulated model answers."""

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an and are as at be by can do does for from get has have how i in is it me my of on or our please "
    "the this to was what when where which who why will with you your"
)
_STOP = frozenset(_STOP_WORDS.split())
_QUERY_NAMES = ("query", "question", "text", "input", "prompt", "search", "message", "topic", "q", "request")
_NAME_LIKE = ("city", "name", "location", "country", "place", "company", "person", "customer", "user")
_ID_LIKE = ("id", "order", "ticket", "number", "sku", "code", "reference")
_PROPER = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w-])")  # a standalone number, not part of an id
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_URL = re.compile(r"https?://\S+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ID_TOKEN = re.compile(r"\b[A-Za-z]*-?\d[\w-]*\b")
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^']+)'")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [
        b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, str | dict)
    ]
    return " ".join(p for p in parts if p)


def _turn(messages: Sequence[BaseMessage]) -> tuple[str, list[BaseMessage]]:
    """The last human message's text and the messages after it."""
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            return _text(messages[i].content), list(messages[i + 1 :])
    return (_text(messages[-1].content) if messages else ""), []


def user_text(messages: Sequence[BaseMessage]) -> str:
    """The text of the last human message (the whole prompt's last message when there is none)."""
    return _turn(messages)[0]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower().replace("_", " ")) if w not in _STOP and len(w) > 1}


def _function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    return tool.get("function", tool)  # type: ignore[no-any-return]


def _tool_words(tool: Mapping[str, Any]) -> set[str]:
    fn = _function(tool)
    props = (fn.get("parameters") or {}).get("properties") or {}
    return _words(" ".join([str(fn.get("name", "")), str(fn.get("description", "")), *map(str, props)]))


def choose_tool(
    messages: Sequence[BaseMessage],
    tools: Sequence[Mapping[str, Any]],
    profile: SimulatedProfile,
    draws: Draws,
) -> tuple[str, dict[str, Any]] | None:
    """The tool call a profile makes under automatic tool choice, or None to answer (module docstring)."""
    text, turn = _turn(messages)
    called = [tc["name"] for m in turn if isinstance(m, AIMessage) for tc in m.tool_calls]
    left = [t for t in tools if str(_function(t).get("name")) not in called]
    if not left or len(called) >= MAX_CALLS_PER_TURN:
        return None
    asked = _words(text)
    scores = [len(asked & _tool_words(t)) for t in left]
    best = max(range(len(left)), key=lambda i: (scores[i], -i))
    matched = scores[best] > 0
    if not matched and called:
        return None  # nothing else the question asks for: answer with what the tools returned
    p_right = profile.quality_for("tool_use").p_correct(0.3 if matched else 0.6)
    pick = left[best]
    if draws.shared(f"tool:right:{len(called)}") >= p_right:
        others = [t for t in left if t is not pick]
        if not others or draws.shared(f"tool:skip:{len(called)}") < 0.5:
            return None
        pick = others[draws.index(f"tool:wrong:{len(called)}", len(others))]
    fn = _function(pick)
    args = plausible_instance(fn.get("parameters") or {}, text, draws)
    return str(fn.get("name")), args if isinstance(args, dict) else {}


def tool_answer(messages: Sequence[BaseMessage]) -> str | None:
    """The opening of an answer given after tool results in this turn (None when there are none)."""
    _, turn = _turn(messages)
    results = [m for m in turn if isinstance(m, ToolMessage)]
    if not results:
        return None
    said = "; ".join(f"{m.name or 'the tool'} returned {_text(m.content).strip()[:160]}" for m in results)
    return f"I checked: {said}."


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def plausible_instance(schema: Mapping[str, Any], text: str, draws: Draws) -> Any:
    """A value valid for the JSON ``schema``, read from ``text`` where the text says it (module doc)."""
    return _value(schema, text, draws, "", schema)


def _value(schema: Mapping[str, Any], text: str, draws: Draws, path: str, root: Mapping[str, Any]) -> Any:
    schema = _resolve(schema, root)
    name = path.rsplit(".", 1)[-1].lower()
    if schema.get("enum"):
        options = list(schema["enum"])
        lowered = text.lower()
        said = [o for o in options if isinstance(o, str) and o.lower() in lowered]
        return said[0] if said else options[draws.index(f"enum:{path}", len(options))]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or () if _resolve(o, root).get("type") != "null"]
        if options:
            return _value(options[0], text, draws, path, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props: Mapping[str, Any] = schema.get("properties") or {}
        return {key: _value(sub, text, draws, f"{path}.{key}", root) for key, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        return [_value(schema.get("items") or {}, text, draws, f"{path}[]", root) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(schema, kind, text, name, draws, path)
    if kind == "boolean":
        return draws.shared(f"bool:{path}") < 0.5
    if kind == "null":
        return None
    return _string(schema, text, name, draws, path)


def _said(text: str, name: str) -> str | None:
    """``name: value`` / ``name = "value"`` in the text."""
    if not name:
        return None
    found = re.search(rf"\b{re.escape(name)}\s*[:=]\s*(?:\"([^\"]+)\"|'([^']+)'|([^\s,;]+))", text, re.I)
    return next((g for g in found.groups() if g), None) if found else None


def _number(  # noqa: PLR0917
    schema: Mapping[str, Any], kind: str, text: str, name: str, draws: Draws, path: str
) -> int | float:
    step = 1.0 if kind == "integer" else 1e-6
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    low = None if low is None else float(low) + (step if "exclusiveMinimum" in schema else 0.0)
    high = None if high is None else float(high) - (step if "exclusiveMaximum" in schema else 0.0)
    said = _said(text, name)
    found = _NUMBER.search(said or "") or _NUMBER.search(text)
    if found:
        value = float(found.group())
    else:
        base = low if low is not None else 0.0
        span = (high - base) if high is not None else 10.0
        value = base + span * draws.shared(f"num:{path}")
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return int(value) if kind == "integer" else round(value, 2)


def _string(schema: Mapping[str, Any], text: str, name: str, draws: Draws, path: str) -> str:
    fmt = str(schema.get("format", ""))
    value = _said(text, name)
    if value is None:
        value = _by_kind(fmt, text, name, draws, path)
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if high is not None:
        value = value[: int(high)]
    return value + "x" * max(low - len(value), 0)


def _by_kind(fmt: str, text: str, name: str, draws: Draws, path: str) -> str:
    if fmt == "email" or "email" in name:
        found = _EMAIL.search(text)
        return found.group() if found else "customer@example.com"
    if fmt in ("uri", "url") or name in ("url", "link", "uri"):
        found = _URL.search(text)
        return found.group() if found else "https://example.com"
    if fmt in ("date", "date-time") or "date" in name:
        found = _ISO_DATE.search(text)
        day = (
            date.fromisoformat(found.group())
            if found
            else date(2026, 1, 1) + timedelta(days=draws.index(f"date:{path}", 365))
        )
        return day.isoformat() + ("T00:00:00Z" if fmt == "date-time" else "")
    if any(part in name for part in _NAME_LIKE):
        for found in _PROPER.finditer(text):
            before = text[: found.start()].rstrip()
            if before and before[-1] not in ".!?:":  # not a capital that merely starts a sentence
                return found.group()
    if name in _ID_LIKE or name.endswith("_id"):
        found = _ID_TOKEN.search(text)
        if found:
            return found.group()
    quoted = _QUOTED.search(text)
    if quoted and name not in _QUERY_NAMES:
        return next(g for g in quoted.groups() if g)
    sentence = text.strip().split("\n")[0][:200].strip()
    return sentence or name.replace("_", " ") or "value"
