"""Generate the support-triage dataset: a policy knowledge base and labelled customer tickets.

    python -m evals.datasets.support_tickets            # writes workflows/support_triage/data/*.jsonl
    python -m evals.datasets.support_tickets --check    # exits 1 if the committed files differ

Seeded and deterministic; the words come from ``support_intents.yaml``. Each ticket has one intent
(→ category, the policy that answers it, the resolution a correct reply states) and a difficulty in
[0, 1] built from what makes real tickets hard: vague wording, a second issue from another category,
rambling, typos. ``complexity`` (easy / complex) and ``tier`` are segments for per-segment analysis.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from evals.datasets.common import main_for, typos

SEED = 20240611
N_TICKETS = 600
OUT = Path(__file__).resolve().parents[2] / "workflows" / "support_triage" / "data"
SOURCE = Path(__file__).with_name("support_intents.yaml")
CATEGORIES = ("billing", "shipping", "returns", "account", "technical", "cancellation")


@cache
def source() -> dict[str, Any]:
    """The intents, policies and vocabulary of ``support_intents.yaml``."""
    data: dict[str, Any] = yaml.safe_load(SOURCE.read_text("utf-8"))
    return data


def policies() -> list[dict[str, object]]:
    """The policy knowledge base: one snippet per intent plus an overview per category.

    ``resolution_template`` is read only by the simulator's oracle (to write the wrong answer a model that
    follows this policy would give); the workflow never shows it to an agent.
    """
    rows: list[dict[str, object]] = []
    for category in CATEGORIES:
        general = source()["general_policies"][category]
        rows.append(
            {"id": general["id"], "category": category, "title": general["title"], "text": general["text"]}
        )
        for intent in source()["intents"]:
            if intent["category"] == category:
                rows.append(
                    {
                        "id": intent["policy_id"],
                        "category": category,
                        "title": intent["title"],
                        "text": intent["policy"],
                        "resolution_template": intent["resolution"],
                    }
                )
    return rows


def _slots(rng: random.Random) -> dict[str, str]:
    words = source()["slots"]
    return {
        "amount": f"${rng.choice((19, 29, 49, 59, 99, 149, 249))}.{rng.choice(('00', '99', '50'))}",
        "order": f"#{rng.randint(100000, 999999)}",
        "date": f"{rng.choice(words['months'])} {rng.randint(1, 28)}",
        "plan": rng.choice(words["plans"]),
        "product": rng.choice(words["products"]),
        "device": rng.choice(words["devices"]),
        "email": f"{rng.choice(words['names'])}.{rng.randint(10, 99)}@example.com",
    }


def ticket(rng: random.Random, index: int) -> dict[str, object]:
    """One labelled ticket."""
    intents = source()["intents"]
    intent = rng.choice(intents)
    slots = _slots(rng)
    difficulty = intent["base_difficulty"] + rng.uniform(-0.05, 0.05)
    vague = rng.random() < 0.15
    body = (rng.choice(intent["vague"]) if vague else rng.choice(intent["templates"])).format(**slots)
    difficulty += 0.3 if vague else 0.0
    parts = [rng.choice(source()["openers"]), body]
    second = None
    if rng.random() < 0.2:
        second = rng.choice([i for i in intents if i["category"] != intent["category"]])
        parts.append("Also, " + rng.choice(second["templates"]).format(**_slots(rng)).lower())
        difficulty += 0.22
    if rng.random() < 0.25:
        parts.insert(1, rng.choice(source()["ramble"]))
        difficulty += 0.08
    text = " ".join(p for p in parts if p)
    if rng.random() < 0.2:
        text = typos(text, rng, rate=0.06)
        difficulty += 0.1
    difficulty = round(min(max(difficulty, 0.02), 0.98), 3)
    tier = rng.choices(("free", "pro", "enterprise"), weights=(0.5, 0.35, 0.15))[0]
    return {
        "id": f"T-{index:05d}",
        "subject": rng.choice(source()["subjects"][intent["category"]]),
        "ticket": text,
        "tier": tier,
        "channel": rng.choice(("email", "chat", "web")),
        "category": intent["category"],
        "intent": intent["name"],
        "policy_ids": [intent["policy_id"]],
        "resolution": intent["resolution"].format(**slots),
        "slots": slots,
        "secondary_intent": second["name"] if second else None,
        "difficulty": difficulty,
        "complexity": "complex" if difficulty >= 0.4 else "easy",
    }


def tickets(n: int = N_TICKETS, seed: int = SEED) -> list[dict[str, object]]:
    """``n`` labelled tickets with unique texts."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    while len(rows) < n:
        row = ticket(rng, len(rows) + 1)
        if row["ticket"] in seen:
            continue
        seen.add(str(row["ticket"]))
        rows.append(row)
    return rows


def build() -> dict[Path, list[dict[str, object]]]:
    """Every file this script writes, with its rows."""
    return {OUT / "policies.jsonl": policies(), OUT / "tickets.jsonl": tickets()}


if __name__ == "__main__":
    main_for(build)
