"""The simulated provider drives a real ``create_agent`` loop offline: it calls the right bound tool with
arguments read from the question and its schema, answers after the tool result, and fills structured output
with schema-valid values taken from the input. Everything replays by seed."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Any

import jsonschema
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from routing_agent.providers.profiles import SimulatedProfile, profiles
from routing_agent.providers.simulated import SimulatedChatModel

CITIES = ("Paris", "Lisbon", "Oslo", "Nairobi", "Santiago", "Hanoi", "Toronto", "Cairo", "Lima", "Perth")


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny and 21 C in {city}"


@tool
def lookup_order(order_id: str) -> str:
    """Look up the shipping status of an order by its order id."""
    return f"order {order_id} shipped yesterday"


@tool
def convert_currency(amount: float, currency: str) -> str:
    """Convert an amount of money to another currency."""
    return f"{amount} EUR is {amount * 1.1:.2f} {currency}"


TOOLS = [get_weather, lookup_order, convert_currency]


def _questions() -> list[tuple[str, str, dict[str, Any]]]:
    """(question, the right tool, the arguments it should get) — 50 of them."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(20):
        city = CITIES[i % len(CITIES)]
        out.append((f"Hi! What is the weather like in {city} right now?", "get_weather", {"city": city}))
    for i in range(20):
        oid = f"A-{4000 + 17 * i}"
        out.append((f"Can you tell me where my order {oid} is? I'd like the shipping status.", "lookup_order",
                    {"order_id": oid}))  # fmt: skip
    for i in range(10):
        out.append((f"Please convert {10 * (i + 1)} euros, currency: USD", "convert_currency",
                    {"amount": float(10 * (i + 1)), "currency": "USD"}))  # fmt: skip
    return out


def _reliable(base: str, name: str, **changes: Any) -> str:
    """``base`` without provider errors or refusals (an agent loop that raises tells nothing about tools)."""
    data = profiles.get(base).model_dump(exclude={"name"})
    profiles.register(
        SimulatedProfile.model_validate({**data, "name": name, "errors": {}, "refusal_rate": 0.0, **changes})
    )
    return name


STRONG = _reliable("strong-expensive", "tools-strong")
FAST = _reliable("fast-cheap", "tools-fast")
CLUMSY = _reliable("fast-cheap", "tools-clumsy", task_quality={"tool_use": {"skill": 0.2, "sharpness": 8.0}})


def _agent(profile: str = STRONG, seed: int = 0) -> Any:
    model = SimulatedChatModel(sim_profile=profile, seed=seed, time_scale=0)
    return create_agent(model, TOOLS, system_prompt="You are a helpful support agent.")


def _tool_calls(messages: list[Any]) -> list[dict[str, Any]]:
    return [tc for m in messages if isinstance(m, AIMessage) for tc in m.tool_calls]


def test_create_agent_loop_calls_the_right_tool_and_answers_from_its_result() -> None:
    agent = _agent()
    right = called = 0
    questions = _questions()
    for question, tool_name, args in questions:
        result = agent.invoke({"messages": [{"role": "user", "content": question}]})
        messages = result["messages"]
        final = messages[-1]
        assert isinstance(final, AIMessage) and not final.tool_calls  # the loop ended with an answer
        calls = _tool_calls(messages)
        if not calls:
            continue
        called += 1
        results = [m for m in messages if isinstance(m, ToolMessage)]
        assert len(results) == len(calls)  # every call was executed by the agent's tool node
        assert results[0].text in final.text  # the answer uses what the tool returned
        if calls[0]["name"] == tool_name and calls[0]["args"] == args:
            right += 1
    assert called >= 0.95 * len(questions)  # the issue measured 0 of 50
    assert right >= 0.9 * len(questions)  # a capable profile: the right tool with the right arguments


def test_the_loop_replays_by_seed_and_a_weaker_profile_errs_more() -> None:
    questions = _questions()

    def run(profile: str, seed: int) -> list[list[tuple[str, str]]]:
        agent = _agent(profile, seed)
        return [
            [(tc["name"], json.dumps(tc["args"], sort_keys=True)) for tc in _tool_calls(
                agent.invoke({"messages": [{"role": "user", "content": q}]})["messages"])]
            for q, _, _ in questions
        ]  # fmt: skip

    assert run(FAST, 3) == run(FAST, 3)
    assert run(FAST, 3) != run(FAST, 4) or run(CLUMSY, 3) != run(CLUMSY, 4)

    def wrong(profile: str) -> int:
        return sum(
            not calls or calls[0][0] != name
            for calls, (_, name, _) in zip(run(profile, 3), questions, strict=True)
        )

    assert wrong(CLUMSY) > wrong(STRONG) + 10


class Priority(StrEnum):
    low = "low"
    high = "high"


class Ticket(BaseModel):
    customer_name: str
    email: str = Field(description="The customer's e-mail address")
    order_id: str
    quantity: int = Field(ge=1, le=100)
    priority: Priority
    due: date
    tags: list[str]
    summary: str = Field(max_length=80)


def test_structured_output_is_schema_valid_and_read_from_the_input() -> None:
    model = SimulatedChatModel(sim_profile=FAST, time_scale=0).with_structured_output(Ticket)
    prompt = (
        "New ticket from Maria Silva (maria.silva@example.org): order B-7731 arrived broken, she wants "
        "3 replacements by 2026-03-14. Priority high."
    )
    ticket = model.invoke(prompt)
    assert isinstance(ticket, Ticket)
    assert ticket.customer_name == "Maria Silva"
    assert ticket.email == "maria.silva@example.org"
    assert ticket.order_id == "B-7731"
    assert ticket.quantity == 3 and ticket.priority is Priority.high and ticket.due == date(2026, 3, 14)
    assert ticket.tags and ticket.summary and len(ticket.summary) <= 80


@pytest.mark.parametrize("seed", range(5))
def test_structured_output_from_a_dict_schema_validates(seed: int) -> None:
    schema = convert_to_openai_tool(Ticket)["function"]["parameters"]
    schema = {"title": "ticket", "description": "a support ticket", **schema}
    model = SimulatedChatModel(sim_profile=STRONG, seed=seed, time_scale=0)
    value = model.with_structured_output(schema).invoke(f"Anything at all, attempt {seed}")
    jsonschema.validate(value, schema)
