"""The three invoice agents. Each calls its routed model and degrades instead of raising.

parser → document type, vendor, currency · extractor → fields as a JSON object (ISO dates) · validator →
payment terms, totals check, approve? The validator reads the extractor's JSON, so the extractor's date
format flows downstream. Without parseable JSON there is nothing to validate: the session ends unapproved.
"""

from __future__ import annotations

__all__ = ["extractor", "parser", "validator"]

import json
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from routing_agent.workflows.base import ask, failure_update, render_sections
from routing_agent.workflows.invoice_extraction import prompts


def _header(state: dict[str, Any]) -> str:
    return f"Request {state['invoice_id']}"


def parser(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """Document type, vendor and currency (structured output)."""
    sections = {"Request": _header(state), "Document": state["document"]}
    messages = [SystemMessage(prompts.PARSER_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "parser", messages, schema=prompts.ParsedHeader)
    if not reply.ok:
        return {"header": None, **failure_update(reply, "parser")}
    return {"header": reply.parsed.model_dump()}


def extractor(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """The invoice fields as the JSON text the model wrote, and its parse (a code fence is tolerated)."""
    sections = {"Request": _header(state), "Document": state["document"]}
    messages = [SystemMessage(prompts.EXTRACTOR_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "extractor", messages, stream=True)  # streamed: its TTFT is measured
    if not reply.ok:
        return {"extracted_text": None, "extracted": None, **failure_update(reply, "extractor")}
    return {"extracted_text": reply.text, "extracted": prompts.parse_json_tolerant(reply.text)}


def validator(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """Terms, totals check and approval, from the parsed header and the extracted fields only."""
    sections = {
        "Request": _header(state),
        "Parsed header": json.dumps(state.get("header") or {}),
        "Extracted fields": json.dumps(state.get("extracted") or {}),
    }
    messages = [SystemMessage(prompts.VALIDATOR_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "validator", messages, schema=prompts.Validation)
    if not reply.ok:
        return {"validation": None, "approved": False, **failure_update(reply, "validator")}
    validation = reply.parsed.model_dump()
    return {"validation": validation, "approved": bool(validation["approve"])}
