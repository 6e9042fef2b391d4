"""Attributes two popular backends read, emitted next to the GenAI ones (no message content is duplicated).

**Arize Phoenix** maps ``gen_ai.*`` to OpenInference itself (``chat`` → LLM, ``invoke_agent`` → AGENT,
``gen_ai.conversation.id`` → session), but has no kind for a workflow, a routing step or a plain graph
node (they show as "unknown"), and it prices spans only from its own model table, so a model it does not
know shows $0. We therefore set ``openinference.span.kind`` on workflow, route, agent and step spans and the
OpenInference cost attributes ``llm.cost.total`` / ``llm.cost.prompt`` / ``llm.cost.completion`` (USD) on
priced chat spans.

**MLflow** (OTLP at ``/v1/traces`` with header ``x-mlflow-experiment-id``) types spans from
``gen_ai.operation.name`` (``chat`` → CHAT_MODEL, ``invoke_agent`` → AGENT) and leaves the rest UNKNOWN;
it reads ``mlflow.spanType`` when set, so workflow spans get ``WORKFLOW`` and route/step spans ``CHAIN``. It
takes a span's cost from ``mlflow.llm.cost`` (JSON ``{"input_cost", "output_cost", "total_cost"}``) when
present, else computes one for models it knows; ours is the experiment's price, so we set it, and MLflow
sums it into the trace's cost. Sessions come from ``gen_ai.conversation.id`` in both.
"""

from __future__ import annotations

__all__ = [
    "LLM_COST_COMPLETION",
    "LLM_COST_PROMPT",
    "LLM_COST_TOTAL",
    "MLFLOW_LLM_COST",
    "MLFLOW_SPAN_TYPE",
    "OPENINFERENCE_SPAN_KIND",
    "agent_kind",
    "cost_attributes",
    "route_kind",
    "step_kind",
    "workflow_kind",
]

import json
from typing import Any

from routing_agent.telemetry.pricing import ModelPrice, TokenUsage

OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
"""OpenInference's span kind (Phoenix, Arize): LLM, CHAIN, AGENT, TOOL …"""
MLFLOW_SPAN_TYPE = "mlflow.spanType"
"""MLflow's span type: CHAT_MODEL, AGENT, WORKFLOW, CHAIN …"""
LLM_COST_TOTAL = "llm.cost.total"
"""OpenInference: the call's total cost in USD."""
LLM_COST_PROMPT = "llm.cost.prompt"
"""OpenInference: the cost of the input (prompt) tokens in USD."""
LLM_COST_COMPLETION = "llm.cost.completion"
"""OpenInference: the cost of the output (completion) tokens in USD."""
MLFLOW_LLM_COST = "mlflow.llm.cost"
"""MLflow: JSON ``{"input_cost", "output_cost", "total_cost"}`` in USD."""


def _kinds(openinference: str, mlflow: str) -> dict[str, str]:
    return {OPENINFERENCE_SPAN_KIND: openinference, MLFLOW_SPAN_TYPE: mlflow}


def workflow_kind() -> dict[str, str]:
    """A graph invocation: Phoenix CHAIN, MLflow WORKFLOW."""
    return _kinds("CHAIN", "WORKFLOW")


def agent_kind() -> dict[str, str]:
    """An agent invocation: AGENT in both."""
    return _kinds("AGENT", "AGENT")


def route_kind() -> dict[str, str]:
    """The routing node (assigns variants): CHAIN in both."""
    return _kinds("CHAIN", "CHAIN")


def step_kind() -> dict[str, str]:
    """A graph node that is not an agent (``record``, ``join``, create_agent's ``model``/``tools``)."""
    return _kinds("CHAIN", "CHAIN")


def cost_attributes(cost: float, usage: TokenUsage, price: ModelPrice | None) -> dict[str, Any]:
    """Phoenix's and MLflow's cost attributes for a call priced at ``cost`` USD.

    The input/output split is given when the per-token ``price`` is known (not for tiered prices)."""
    if price is None or price.tiered is not None:
        text = _TOTAL % (cost,) if _finite(cost) else json.dumps({"total_cost": cost})
        return {LLM_COST_TOTAL: cost, MLFLOW_LLM_COST: text}
    output = usage.output * price.output
    prompt = cost - output
    if _finite(cost) and _finite(prompt) and _finite(output):
        text = _SPLIT % (cost, prompt, output)  # json.dumps' text for finite floats, in a third of its time
    else:
        text = json.dumps({"total_cost": cost, "input_cost": prompt, "output_cost": output})
    return {LLM_COST_TOTAL: cost, LLM_COST_PROMPT: prompt, LLM_COST_COMPLETION: output, MLFLOW_LLM_COST: text}


_TOTAL = '{"total_cost": %r}'
_SPLIT = '{"total_cost": %r, "input_cost": %r, "output_cost": %r}'
_INF = float("inf")


def _finite(value: object) -> bool:
    return type(value) is float and -_INF < value < _INF
