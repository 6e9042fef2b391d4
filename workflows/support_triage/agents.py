"""The four support agents. Each calls its routed model and degrades instead of raising.

classifier → category · retriever → relevant policies (among keyword candidates) · drafter → reply with
citations · resolver → is the ticket resolved by this reply? A failed or refused call is recorded and the
session continues where it can (no category: keyword retrieval; no draft: escalate, not resolved).
"""

from __future__ import annotations

__all__ = ["candidate_policies", "classifier", "drafter", "resolver", "retriever", "triage"]

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from routing_agent.workflows.base import ask, failure_update, render_sections
from routing_agent.workflows.support_triage import prompts
from routing_agent.workflows.support_triage.data import policies, policy_index


def candidate_policies(category: str | None, ticket: str, *, keyword_k: int = 3) -> list[str]:
    """The category's policies plus the best keyword matches overall (all keyword matches if no category)."""
    table = policies()
    ids = [pid for pid, row in table.items() if row["category"] == category] if category else []
    for pid in policy_index().search(ticket, keyword_k if category else 6):
        if pid not in ids:
            ids.append(pid)
    return ids


def classifier(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """Category of the ticket (structured output)."""
    messages = [
        SystemMessage(prompts.CLASSIFIER_SYSTEM),
        HumanMessage(render_sections({"Ticket": prompts.ticket_block(state)})),
    ]
    reply = ask(state, config, "classifier", messages, schema=prompts.TicketCategory)
    if not reply.ok:
        return {"category": None, **failure_update(reply, "classifier")}
    return {"category": reply.parsed.category}


def triage(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """Category and complexity (easy | complex): the classifier asked twice; a segment for experiments."""
    update = classifier(state, config)
    if update.get("category") is None:
        return {**update, "complexity": None}
    messages = [
        SystemMessage(prompts.COMPLEXITY_SYSTEM),
        HumanMessage(render_sections({"Ticket": prompts.ticket_block(state)})),
    ]
    reply = ask(state, config, "classifier", messages, schema=prompts.TicketComplexity)
    if not reply.ok:
        return {**update, "complexity": None, **failure_update(reply, "classifier")}
    return {**update, "complexity": reply.parsed.complexity}


def retriever(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """Keyword candidates, then the model picks the relevant ones (fallback: the top two candidates)."""
    candidates = candidate_policies(state.get("category"), state["ticket"])
    sections = {
        "Ticket": prompts.ticket_block(state),
        "Candidate policies": prompts.policy_block(candidates, policies()),
    }
    messages = [SystemMessage(prompts.RETRIEVER_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "retriever", messages)
    if not reply.ok:
        return {"candidates": candidates, "policies": candidates[:2], **failure_update(reply, "retriever")}
    return {"candidates": candidates, "policies": prompts.parse_policy_ids(reply.text, candidates)}


def drafter(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """The reply to the customer, citing policies as [POL-…]."""
    sections = {
        "Ticket": prompts.ticket_block(state),
        "Policies": prompts.policy_block(state.get("policies") or [], policies()) or "(none found)",
    }
    messages = [SystemMessage(prompts.DRAFTER_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "drafter", messages, stream=True)  # streamed: its TTFT is measured
    if not reply.ok:
        return {"draft": None, "citations": [], **failure_update(reply, "drafter")}
    return {"draft": reply.text, "citations": prompts.parse_citations(reply.text)}


def resolver(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """Whether the draft resolves the ticket (structured output); a failure escalates (not resolved)."""
    sections = {"Ticket": prompts.ticket_block(state), "Draft reply": state.get("draft") or ""}
    messages = [SystemMessage(prompts.RESOLVER_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "resolver", messages, schema=prompts.Resolution)
    if not reply.ok:
        return {
            "resolved": False,
            "resolution_reason": "escalated: resolver failed",
            **failure_update(reply, "resolver"),
        }
    return {"resolved": bool(reply.parsed.resolved), "resolution_reason": reply.parsed.reason}
