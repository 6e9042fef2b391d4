"""``validate`` is linear in the size of the config (issue 15, point 5: 8,000 unknown keys took 33.6 s).

Absolute times belong to ``benchmarks/validate_scale.py``; here the cost of 4× the input must stay far
below the 16× a quadratic check needs (the bound, 10×, leaves room for a noisy shared machine: 8.9× was
seen at load average 25, ~5× on a quiet one). Costs are this
thread's CPU time with the garbage collector paused (its passes grow with the heap, not with our checks), best
of five, and the ratio is the smallest of three tries, so neither other processes nor other threads count.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable

import yaml

from routing_agent.config.conflicts import MAX_COLLISIONS
from routing_agent.config.loader import check_experiments_string

VARIANTS = [
    {"name": "control", "model": "simulated:strong-expensive", "control": True},
    {"name": "candidate", "model": "simulated:cheap-fast"},
]


def unknown_keys(n: int) -> str:
    experiment: dict[str, object] = {"id": "e", "variants": VARIANTS}
    experiment.update({f"k{i}": i for i in range(n)})
    return yaml.safe_dump({"experiments": [experiment]})


def experiments(n: int, *, colliding: bool = False) -> str:
    """``n`` experiments written out in full (no anchors), as a person or a generator writes a big config;
    each in its own slice of one namespace unless ``colliding``."""
    lines = ["experiments:"]
    for i in range(n):
        lines.append(f"  - id: e{i}")
        if not colliding:
            lines.append(f"    namespace: {{name: all, range: [{i / n:.6g}, {(i + 1) / n:.6g}]}}")
        lines += [
            "    variants:",
            "      - {name: control, model: 'openai:gpt-4o', control: true}",
            "      - {name: candidate, model: 'openai:gpt-4o-mini'}",
        ]
    return "\n".join(lines) + "\n"


def _seconds(text: str) -> float:
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            start = time.thread_time()
            check_experiments_string(text, "scale.yaml")
            best = min(best, time.thread_time() - start)
    finally:
        gc.enable()
    return best


def _ratio(make: Callable[[int], str], n: int) -> float:
    small, large = make(n), make(4 * n)
    _seconds(small)  # warm imports and caches
    return min(_seconds(large) / _seconds(small) for _ in range(3))


def test_unknown_keys_cost_grows_linearly() -> None:
    check = check_experiments_string(unknown_keys(300), "scale.yaml")
    assert len(check.issues) == 300  # every unknown key is reported, once
    ratio = _ratio(unknown_keys, 1500)
    assert ratio < 10, ratio


def test_many_experiments_in_one_namespace_cost_grows_linearly() -> None:
    assert check_experiments_string(experiments(200), "scale.yaml").ok  # disjoint ranges: no collision
    ratio = _ratio(experiments, 300)
    assert ratio < 10, ratio


def test_colliding_experiments_are_reported_up_to_a_cap() -> None:
    check = check_experiments_string(experiments(400, colliding=True), "scale.yaml")
    assert len(check.issues) == MAX_COLLISIONS + 1  # 79,800 pairs collide: the first ones and a summary
    assert "more than" in check.issues[-1].message or any("more than" in i.message for i in check.issues)


def _one(extra: str, weight: str = "0.5") -> str:
    return (
        "experiments:\n  - id: e\n    variants:\n"
        f'      - {{name: control, model: "simulated:strong-expensive", control: true, weight: {weight}}}\n'
        '      - {name: candidate, model: "simulated:cheap-fast", weight: 0.5}\n'
        f"    {extra}\n"
    )


def test_a_five_thousand_digit_weight_is_a_located_issue_not_a_traceback() -> None:
    check = check_experiments_string(_one("", weight="1" + "0" * 5000), "w.yaml")  # > 4,300 digits
    assert not check.ok
    issue = check.issues[0]
    assert (issue.line, issue.field) == (4, "variants[0].weight") and "5,001 characters" in issue.message


def test_sticky_ttl_days_is_bounded() -> None:
    for value in ("1e300", "1e-12", "0"):
        (issue,) = check_experiments_string(_one(f"sticky_ttl_days: {value}"), "t.yaml").issues
        assert issue.field == "sticky_ttl_days"
    assert check_experiments_string(_one("sticky_ttl_days: 30"), "t.yaml").ok


def test_agent_names_are_plain_ascii_with_a_located_error() -> None:
    for name in ("dra\u202efter", "dr\u0430fter", "draf ter", "a\u200bb"):  # RTL override, Cyrillic a …
        (issue,) = check_experiments_string(_one(f"scope: [{json.dumps(name)}]"), "a.yaml").issues
        assert (issue.field, issue.line) == ("scope[0]", 6) and "only ASCII letters" in issue.message
    assert check_experiments_string(_one("scope: [drafter, rag.answer-v2]"), "a.yaml").ok
