"""Turn a task into a simulated model's answer: right with probability ``p_correct(difficulty)``, otherwise
plausibly wrong, with the profile's habits (verbosity, JSON and date slips, citation drift) applied.

The functions here are pure: the same task, draws and profile give the same ``Rendered`` answer.
"""

from __future__ import annotations

__all__ = ["REFUSAL_TEXT", "Rendered", "render"]

import contextlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from routing_agent.providers.profiles import SimulatedProfile
from routing_agent.providers.simulated_draws import Draws, estimate_tokens
from routing_agent.providers.tasks import (
    Choice,
    CitedAnswer,
    Extraction,
    FreeText,
    Score,
    Selection,
    Task,
    Verdict,
)

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."

_FILLER = (
    "Thanks for reaching out about this.",
    "I have reviewed the details you shared.",
    "Please let me know if anything else comes up.",
    "This should take effect right away.",
    "You do not need to take any further action.",
    "I have added a note to your account for reference.",
    "If the problem persists, reply to this message and we will look again.",
    "Our team is available around the clock if you need more help.",
    "I appreciate your patience while we looked into this.",
    "The details above reflect the current policy.",
    "You can also find this information in your account settings.",
    "We are sorry for the inconvenience this has caused.",
    "Here is a short summary of what happens next.",
    "Everything else on your account remains unchanged.",
    "I double-checked this against our records.",
    "Feel free to share any additional details that might help.",
)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A simulated answer: prose ``text``, and for structured tasks the ``payload`` and its JSON ``args``."""

    text: str
    payload: dict[str, Any] | None = None
    args: str | None = None
    """JSON of ``payload`` as the model wrote it: possibly malformed (then it is an invalid tool call)."""
    truncated: bool = False


def _length(target: int | None, profile: SimulatedProfile, draws: Draws) -> int:
    base = (target or profile.output.default_tokens) * profile.output.verbosity
    return max(1, round(base * math.exp(profile.output.length_sigma * draws.normal("len"))))


def _pad(text: str, tokens: int, draws: Draws) -> str:
    parts = [text] if text else []
    i = 0
    while estimate_tokens(" ".join(parts)) < tokens:
        parts.append(_FILLER[draws.index(f"fill:{i}", len(_FILLER))])
        i += 1
    return " ".join(parts)


def _correct(task: Task, profile: SimulatedProfile, draws: Draws, label: str = "correct") -> bool:
    difficulty = getattr(task, "difficulty", 0.0)
    return draws.shared(label) < profile.quality_for(task.kind).p_correct(difficulty)


def _json_text(payload: Mapping[str, Any], profile: SimulatedProfile, draws: Draws) -> str:
    text = json.dumps(payload, ensure_ascii=False)
    fmt = profile.format
    if draws.shared("json:slip") < fmt.json_slip_rate:
        mode = draws.index("json:slip-kind", 4)
        if mode == 0:  # trailing comma
            text = text[:-1] + ", }"
        elif mode == 1:  # cut off mid-object
            text = text[: max(1, int(len(text) * 0.7))]
        elif mode == 2:  # Python-style quotes
            text = text.replace('"', "'")
        else:  # unquoted keys
            text = re.sub(r'"([A-Za-z_][A-Za-z0-9_]*)":', r"\1:", text)
    return text


def _fenced(text: str, profile: SimulatedProfile, draws: Draws) -> str:
    if draws.shared("json:fence") < profile.format.fence_rate:
        return "```json\n" + text + "\n```"
    return text


def _structured(payload: dict[str, Any], text: str, profile: SimulatedProfile, draws: Draws) -> Rendered:
    return Rendered(text=text, payload=payload, args=_json_text(payload, profile, draws))


def _choice(task: Choice, profile: SimulatedProfile, draws: Draws) -> Rendered:
    label = task.answer
    if not _correct(task, profile, draws):
        near = [o for o in task.near_misses if o != task.answer]
        others = [o for o in task.options if o != task.answer]
        pool = near if near and draws.shared("choice:near") < 0.7 else others
        if pool:
            label = pool[draws.index("choice:wrong", len(pool))]
    return _structured({task.field: label}, label, profile, draws)


def _selection(task: Selection, profile: SimulatedProfile, draws: Draws) -> Rendered:
    gold = [c for c in task.candidates if c in task.gold]
    distractors = [c for c in task.candidates if c not in task.gold]
    right = _correct(task, profile, draws)
    if not gold:  # nothing relevant was offered: right is "none", wrong is a plausible-looking pick
        picked = (
            []
            if right or not task.candidates
            else [task.candidates[draws.index("sel:guess", len(task.candidates))]]
        )
    elif right or (not distractors and len(gold) == 1):
        picked = gold
    else:
        mode = draws.index("sel:mode", 3)
        picked = list(gold)
        if (mode == 1 and len(gold) > 1) or not distractors:
            picked.pop(draws.index("sel:drop", len(picked)))
        else:
            extra = distractors[draws.index("sel:distractor", len(distractors))]
            if mode == 0:
                picked[draws.index("sel:replace", len(picked))] = extra
            else:
                picked.append(extra)
    if task.citation:
        picked = _habits(picked, task.candidates, profile, draws)
    order = {c: i for i, c in enumerate(task.candidates)}
    picked.sort(key=lambda c: order.get(c, len(order)))
    text = ", ".join(picked) if picked else "none"
    return _structured({task.field: picked}, text, profile, draws)


def _perturb(name: str, value: Any, is_date: bool, draws: Draws) -> Any:
    label = f"pert:{name}"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        mode = draws.index(label, 3)
        if mode == 0:
            return round(value * 10, 2) if isinstance(value, float) else value * 10
        if mode == 1:
            digits = str(value)
            i = next(
                (k for k in range(len(digits) - 1) if digits[k].isdigit() and digits[k + 1].isdigit()), -1
            )
            if i >= 0 and digits[i] != digits[i + 1]:
                swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
                return type(value)(float(swapped)) if isinstance(value, float) else int(swapped)
        return round(value + 1, 2) if isinstance(value, float) else value + 1
    if isinstance(value, str):
        if is_date:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return value
            if day.day <= 12 and day.day != day.month and draws.shared(label) < 0.5:
                return date(day.year, day.day, day.month).isoformat()  # day and month swapped
            return (day + timedelta(days=1 + draws.index(label + ":d", 30))).isoformat()
        if len(value) > 3:
            cut = 1 + draws.index(label, len(value) - 2)
            return value[:cut] + value[cut + 1 :]  # a dropped character
        return value + "0"
    return value


def _extraction(task: Extraction, profile: SimulatedProfile, draws: Draws) -> Rendered:
    p = profile.quality_for(task.kind).p_correct(task.difficulty)
    out: dict[str, Any] = {}
    for name, value in task.fields.items():
        if draws.shared(f"field:{name}") < p:
            out[name] = value
            continue
        alternatives = [a for a in task.alternatives.get(name, ()) if a != value]
        if alternatives and draws.shared(f"alt:{name}") < 0.7:
            out[name] = alternatives[draws.index(f"alt-pick:{name}", len(alternatives))]
        else:
            out[name] = _perturb(name, value, name in task.date_fields, draws)
    if task.date_fields and draws.shared("date:slip") < profile.format.date_slip_rate:
        for name in task.date_fields:
            value = out.get(name)
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    out[name] = date.fromisoformat(value).strftime(profile.format.date_slip_format)
    args = _json_text(out, profile, draws)
    return Rendered(text=_fenced(args, profile, draws), payload=out, args=args)


def _habits(cites: list[str], sources: Sequence[str], profile: SimulatedProfile, draws: Draws) -> list[str]:
    """The profile's citation habits applied to the sources a correct model would cite."""
    spec = profile.citations
    if draws.shared("cite:omit") < spec.omit_rate:
        return []
    cites = list(cites)
    others = [s for s in sources if s not in cites]
    if cites and others and draws.shared("cite:drift") < spec.drift_rate:
        cites[draws.index("cite:drift-at", len(cites))] = others.pop(
            draws.index("cite:drift-to", len(others))
        )
    if others and draws.shared("cite:extra") < spec.extra_rate:
        cites.append(others[draws.index("cite:extra-pick", len(others))])
    return cites[: spec.max_citations]


def _cited_answer(task: CitedAnswer, profile: SimulatedProfile, draws: Draws) -> Rendered:
    right = _correct(task, profile, draws)
    cites: list[str]
    if not task.gold_sources:
        if right or not task.wrong_answers or not task.sources:
            statement, cites = task.no_answer, []
        else:
            statement = task.wrong_answers[draws.index("ans:wrong", len(task.wrong_answers))]
            cites = [task.sources[draws.index("ans:wrong-src", len(task.sources))]]
    elif right:
        statement, cites = task.answer, list(task.gold_sources)
    else:
        statement = (
            task.wrong_answers[draws.index("ans:wrong", len(task.wrong_answers))]
            if task.wrong_answers
            else task.no_answer
        )
        non_gold = [s for s in task.sources if s not in task.gold_sources]
        pool = non_gold if non_gold and draws.shared("ans:wrong-src-kind") < 0.6 else list(task.sources)
        cites = [pool[draws.index("ans:wrong-src", len(pool))]]
    cites = _habits(cites, task.sources, profile, draws)
    marks = "".join(f"[{c}]" for c in cites)
    body = f"{statement} {marks}".strip()
    opener = _FILLER[draws.index("opener", 3)]
    text = _pad(f"{opener} {body}", _length(task.target_tokens, profile, draws), draws)
    return Rendered(text=text)


def _verdict(task: Verdict, profile: SimulatedProfile, draws: Draws) -> Rendered:
    value = task.truth if _correct(task, profile, draws) else not task.truth
    reason = (
        "The response addresses the request and is supported by the cited material."
        if value
        else "The response does not fully address the request or lacks support."
    )
    payload: dict[str, Any] = {task.field: value}
    if task.reason_field:
        payload[task.reason_field] = reason
    return _structured(payload, f"{'yes' if value else 'no'}. {reason}", profile, draws)


def _score(task: Score, profile: SimulatedProfile, draws: Draws) -> Rendered:
    value = task.score
    if not _correct(task, profile, draws):
        step = 2 if draws.shared("score:far") < 0.25 else 1
        sign = 1 if draws.shared("score:sign") < 0.5 else -1
        value = task.score + sign * step
        if not task.low <= value <= task.high:
            value = task.score - sign * step
        value = min(max(value, task.low), task.high)
    return _structured({task.field: value}, str(value), profile, draws)


def render(task: Task, profile: SimulatedProfile, draws: Draws) -> Rendered:
    """The simulated answer to ``task`` for ``profile`` on the input behind ``draws``."""
    if isinstance(task, Choice):
        return _choice(task, profile, draws)
    if isinstance(task, Selection):
        return _selection(task, profile, draws)
    if isinstance(task, Extraction):
        return _extraction(task, profile, draws)
    if isinstance(task, CitedAnswer):
        return _cited_answer(task, profile, draws)
    if isinstance(task, Verdict):
        return _verdict(task, profile, draws)
    if isinstance(task, Score):
        return _score(task, profile, draws)
    assert isinstance(task, FreeText)
    return Rendered(text=_pad("", _length(task.target_tokens, profile, draws), draws))
