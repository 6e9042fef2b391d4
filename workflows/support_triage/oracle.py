"""What the simulated models "know" about support tickets: the oracle keyed on the shipped dataset.

It reads the prompt an agent built — the same text a real model gets — finds the ticket in the dataset by
its text, and returns the task with the right answer and its difficulty. Downstream tasks are judged on
what upstream agents actually produced: the drafter can only be right if the right policy is in its
prompt, and the resolver's truth is whether the draft really states the resolution and cites the policy.
"""

from __future__ import annotations

__all__ = ["SupportOracle", "draft_resolves"]

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from routing_agent.providers.tasks import Choice, CitedAnswer, Selection, Task, Verdict
from routing_agent.workflows.base import parse_sections
from routing_agent.workflows.support_triage import prompts
from routing_agent.workflows.support_triage.data import policies, tickets

NEAR_MISSES = {
    "billing": ("returns", "cancellation"),
    "shipping": ("returns",),
    "returns": ("shipping", "billing"),
    "account": ("technical",),
    "technical": ("account",),
    "cancellation": ("billing",),
}


def draft_resolves(draft: str, item: Mapping[str, Any]) -> bool:
    """True when a draft states the ticket's resolution and cites one of its policies."""
    cited = prompts.parse_citations(draft)
    return item["resolution"] in draft and any(pid in cited for pid in item["policy_ids"])


class SupportOracle:
    """Ticket text → labelled ticket; system prompt → which agent's task."""

    def __init__(self, items: Sequence[Mapping[str, Any]] | None = None) -> None:
        self._items = {row["ticket"]: row for row in (items if items is not None else tickets())}
        self._policies = policies()

    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        """The task of a support-agent prompt, or None for prompts of other workflows."""
        if len(messages) < 2 or messages[0].type != "system":
            return None
        system = messages[0].text
        sections = parse_sections(messages[-1].text)
        item = self._items.get(prompts.ticket_text(sections.get("Ticket", "")))
        if item is None:
            return None
        d = float(item["difficulty"])
        if system == prompts.CLASSIFIER_SYSTEM:
            return Choice(
                answer=item["category"],
                options=prompts.CATEGORIES,
                difficulty=d,
                field="category",
                near_misses=NEAR_MISSES[item["category"]],
            )
        if system == prompts.COMPLEXITY_SYSTEM:
            other = "complex" if item["complexity"] == "easy" else "easy"
            return Choice(
                answer=item["complexity"],
                options=("easy", "complex"),
                difficulty=0.5 * d,
                field="complexity",
                near_misses=(other,),
            )
        if system == prompts.RETRIEVER_SYSTEM:
            offered = prompts.parse_policy_ids(sections.get("Candidate policies", ""), list(self._policies))
            gold = tuple(p for p in item["policy_ids"] if p in offered)
            return Selection(gold=gold, candidates=tuple(offered), difficulty=0.6 * d)
        if system == prompts.DRAFTER_SYSTEM:
            offered = prompts.parse_policy_ids(sections.get("Policies", ""), list(self._policies))
            gold = tuple(p for p in item["policy_ids"] if p in offered)
            wrong = [
                self._policies[p]["resolution_template"].format(**item["slots"])
                for p in offered
                if p not in item["policy_ids"] and self._policies[p].get("resolution_template")
            ]
            if not wrong:  # the same category's other resolutions: the near misses of a real model
                wrong = [
                    row["resolution_template"].format(**item["slots"])
                    for pid, row in self._policies.items()
                    if row["category"] == item["category"]
                    and pid not in item["policy_ids"]
                    and row.get("resolution_template")
                ]
            return CitedAnswer(
                answer=item["resolution"],
                wrong_answers=tuple(wrong),
                sources=tuple(offered),
                gold_sources=gold,
                difficulty=d,
                target_tokens=90,
                no_answer="I need to check this with a colleague and will get back to you shortly.",
            )
        if system == prompts.RESOLVER_SYSTEM:
            truth = draft_resolves(sections.get("Draft reply", ""), item)
            return Verdict(truth=truth, difficulty=0.15 + 0.5 * d, field="resolved")
        return None
