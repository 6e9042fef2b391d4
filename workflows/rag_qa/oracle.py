"""What the simulated models "know" about the Nimbus documentation: the oracle keyed on the questions.

The answerer can only be right when the passage holding the answer is in its prompt; its plausible wrong
answers are the same attribute's values in the other passages it was given (a sibling tier, an old value
from the release notes). The citer's truth is computed from the answer actually written: the passages
that state the value it gives.
"""

from __future__ import annotations

__all__ = ["RagOracle", "supporting_docs"]

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from routing_agent.providers.tasks import CitedAnswer, Selection, Task
from routing_agent.workflows.base import parse_sections
from routing_agent.workflows.rag_qa import prompts
from routing_agent.workflows.rag_qa.data import corpus, questions


def supporting_docs(answer: str, item: Mapping[str, Any], offered: Sequence[str]) -> list[str]:
    """Offered documents stating the value ``answer`` gives for the question's attribute."""
    docs = corpus()
    support = [
        doc
        for doc in offered
        if any(f["attribute"] == item["attribute"] and f["value"] in answer for f in docs[doc]["facts"])
    ]
    if support and item["hops"] == 2 and item["answer"] in answer:
        support = [d for d in offered if d in item["gold_docs"]]  # the feature's page names the plan
    return support


class RagOracle:
    """Question text → labelled question; system prompt → which agent's task."""

    def __init__(self, items: Sequence[Mapping[str, Any]] | None = None) -> None:
        self._items = {row["question"]: row for row in (items if items is not None else questions())}
        self._corpus = corpus()
        self._values: dict[str, list[str]] = {}
        for doc in self._corpus.values():
            for fact in doc["facts"]:
                self._values.setdefault(fact["attribute"], []).append(fact["value"])

    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        """The task of a RAG-agent prompt, or None for prompts of other workflows."""
        if len(messages) < 2 or messages[0].type != "system":
            return None
        system = messages[0].text
        sections = parse_sections(messages[-1].text)
        item = self._items.get(sections.get("Question", ""))
        if item is None:
            return None
        d = float(item["difficulty"])
        offered = prompts.parse_doc_ids(sections.get("Passages", ""), list(self._corpus))
        gold = tuple(doc for doc in item["gold_docs"] if doc in offered)
        if system == prompts.RETRIEVER_SYSTEM:
            return Selection(gold=gold, candidates=tuple(offered), difficulty=0.6 * d)
        if system == prompts.ANSWERER_SYSTEM:
            answerable = item["gold_docs"][-1] in offered  # the page that states the value
            return CitedAnswer(
                answer=f"The {item['attribute']} of {item['subject']} is {item['answer']}.",
                wrong_answers=self._wrong(item, offered),
                sources=tuple(offered),
                gold_sources=gold if answerable else (),
                difficulty=d,
                target_tokens=45,
            )
        if system == prompts.CITER_SYSTEM:
            support = supporting_docs(sections.get("Answer", ""), item, offered)
            return Selection(
                gold=tuple(support), candidates=tuple(offered), difficulty=0.3 + 0.4 * d, citation=True
            )
        return None

    def _wrong(self, item: Mapping[str, Any], offered: Sequence[str]) -> tuple[str, ...]:
        values = [
            f["value"]
            for doc in offered
            if doc not in item["gold_docs"]
            for f in self._corpus[doc]["facts"]
            if f["attribute"] == item["attribute"] and f["value"] != item["answer"]
        ]
        if not values:
            values = [v for v in self._values.get(item["attribute"], []) if v != item["answer"]][:3]
        return tuple(f"The {item['attribute']} of {item['subject']} is {v}." for v in dict.fromkeys(values))
