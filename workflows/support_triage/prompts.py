"""Prompts of the support-triage agents, and the parsing of their answers."""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "CLASSIFIER_SYSTEM",
    "COMPLEXITY_SYSTEM",
    "DRAFTER_SYSTEM",
    "RESOLVER_SYSTEM",
    "RETRIEVER_SYSTEM",
    "Resolution",
    "TicketCategory",
    "TicketComplexity",
    "parse_citations",
    "parse_policy_ids",
    "policy_block",
    "ticket_block",
    "ticket_text",
]

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from routing_agent.workflows.base import first_mentions, listed_entries

CATEGORIES = ("billing", "shipping", "returns", "account", "technical", "cancellation")

CLASSIFIER_SYSTEM = (
    "You are the triage classifier of a customer-support desk. Read the ticket and give its category: one "
    "of billing, shipping, returns, account, technical, cancellation."
)
COMPLEXITY_SYSTEM = (
    "You are the triage classifier of a customer-support desk. Read the ticket and say how hard it is to "
    "resolve: easy (one standard policy answers it) or complex (several issues, exceptions, judgement)."
)
RETRIEVER_SYSTEM = (
    "You select knowledge-base policies for a support agent. Read the ticket and the candidate policies and "
    "reply with the ids of the policies that answer the ticket, comma-separated, or 'none'."
)
DRAFTER_SYSTEM = (
    "You write the reply to a customer's support ticket. Use only the policies given, state the concrete "
    "resolution, and cite every policy you rely on as [POLICY-ID]."
)
RESOLVER_SYSTEM = (
    "You review a draft reply before it is sent. Decide whether it fully resolves the customer's ticket "
    "according to the policies it cites."
)

_POLICY_ID = re.compile(r"POL-[A-Z]{3}-\d{2}")
_CITATION = re.compile(r"\[(POL-[A-Z]{3}-\d{2})\]")


class TicketCategory(BaseModel):
    """The classifier's answer."""

    category: Literal["billing", "shipping", "returns", "account", "technical", "cancellation"]


class TicketComplexity(BaseModel):
    """The classifier's second answer (asked when an experiment segments by ``complexity``)."""

    complexity: Literal["easy", "complex"]


class Resolution(BaseModel):
    """The resolver's verdict on a draft reply."""

    resolved: bool = Field(description="True when the draft fully resolves the ticket")
    reason: str = ""


def ticket_block(state: Mapping[str, Any]) -> str:
    """The ticket as every agent sees it."""
    tier, channel = state.get("tier", "unknown"), state.get("channel", "web")
    header = f"Ticket {state['session_id']} · tier {tier} · via {channel}"
    return f"{header}\nSubject: {state.get('subject', '')}\n\n{state['ticket']}"


def ticket_text(block: str) -> str:
    """The customer's text inside a ``ticket_block``."""
    return block.split("\n\n", 1)[-1].strip()


def policy_block(ids: Sequence[str], policies: Mapping[str, Mapping[str, Any]]) -> str:
    """Policies as listed in a prompt: ``[id] title: text`` per line."""
    return listed_entries(ids, policies)


def parse_policy_ids(text: str, allowed: Sequence[str]) -> list[str]:
    """Policy ids named in ``text`` that are among ``allowed``, in order of first mention."""
    return first_mentions(_POLICY_ID, text, allowed)


def parse_citations(text: str) -> list[str]:
    """``[POL-…]`` citations in a draft, in order of first mention."""
    return first_mentions(_CITATION, text)
