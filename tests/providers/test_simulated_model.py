"""SimulatedChatModel behaves like a LangChain provider: invoke/ainvoke/stream/astream/batch, metadata, usage,
determinism, time scaling, LangChain's standard errors, refusals and structured output."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelConnectionError,
    ModelError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
    OutputParserException,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from routing_agent.providers.catalog import catalog
from routing_agent.providers.profiles import SimulatedProfile, profiles
from routing_agent.providers.refusal import is_refusal
from routing_agent.providers.simulated import LATENCY_KEY, TTFT_KEY, SimulatedChatModel
from routing_agent.providers.simulated_errors import SimulatedProviderError
from routing_agent.providers.tasks import Choice, Task

CLEAN = {"errors": {}, "refusal_rate": 0.0}


def model(profile: str | SimulatedProfile = "strong-expensive", **kwargs: Any) -> SimulatedChatModel:
    return SimulatedChatModel(sim_profile=profile, time_scale=kwargs.pop("time_scale", 0.0), **kwargs)


def custom(name: str, **spec: Any) -> SimulatedProfile:
    base = profiles.get("strong-expensive").model_dump(exclude={"name", "model_name"})
    base.update(spec)
    return SimulatedProfile.model_validate({**base, "name": name})


class Label(BaseModel):
    category: Literal["billing", "shipping", "returns"]


class LabelOracle:
    def task_for(self, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> Task | None:
        return Choice(
            answer="billing", options=("billing", "shipping", "returns"), difficulty=0.1, field="category"
        )


def test_invoke_reports_provider_model_finish_latency_and_usage() -> None:
    msg = model(custom("m1", **CLEAN)).invoke([HumanMessage("Where is my order #123?")])
    meta = msg.response_metadata
    assert meta["model_provider"] == "simulated"
    assert meta["model_name"] == "m1"
    assert meta["finish_reason"] == "stop"
    assert 0 < meta[TTFT_KEY] < meta[LATENCY_KEY]
    usage = msg.usage_metadata
    assert usage is not None and usage["output_tokens"] > 10
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert abs(usage["output_tokens"] - len(msg.text) / 4) <= 2


def test_deterministic_per_profile_seed_and_input_and_random_across_inputs() -> None:
    a = model(custom("m2", **CLEAN), seed=1)
    again = model(custom("m2", **CLEAN), seed=1)
    other_seed = model(custom("m2", **CLEAN), seed=2)
    first = a.invoke("ticket 1")
    assert again.invoke("ticket 1").text == first.text
    assert again.invoke("ticket 1").response_metadata == first.response_metadata
    assert (
        other_seed.invoke("ticket 1").response_metadata[LATENCY_KEY] != first.response_metadata[LATENCY_KEY]
    )
    texts = {a.invoke(f"ticket {i}").text for i in range(30)}
    latencies = {a.invoke(f"ticket {i}").response_metadata[LATENCY_KEY] for i in range(30)}
    assert len(texts) > 20 and len(latencies) == 30


def test_time_scale_sleeps_the_scaled_latency_but_reports_the_simulated_one() -> None:
    slow = custom("slow", **CLEAN, latency={"ttft_median_s": 20.0, "ttft_sigma": 0.0, "spike_rate": 0.0})
    m = model(slow, time_scale=0.002)
    start = time.perf_counter()
    msg = m.invoke("hello")
    elapsed = time.perf_counter() - start
    simulated = msg.response_metadata[LATENCY_KEY]
    assert simulated >= 20.0
    # slept at least the scaled latency, and far less than the unscaled 20 s even on a busy machine
    assert simulated * 0.002 * 0.95 <= elapsed < simulated * 0.002 + 5.0


def test_stream_chunks_arrive_after_the_scaled_time_to_first_token() -> None:
    slow = custom(
        "stream",
        **CLEAN,
        latency={"ttft_median_s": 3.0, "ttft_sigma": 0.0, "spike_rate": 0.0, "per_output_token_s": 0.05},
    )
    m = model(slow, time_scale=0.02)
    start = time.perf_counter()
    arrivals: list[float] = []
    chunks: list[AIMessageChunk] = []
    for chunk in m.stream("tell me something"):
        arrivals.append(time.perf_counter() - start)
        chunks.append(chunk)
    assert len(chunks) > 5
    ttft = chunks[-1].response_metadata[TTFT_KEY]
    latency = chunks[-1].response_metadata[LATENCY_KEY]
    assert ttft * 0.02 * 0.9 <= arrivals[0]  # the first chunk waits the scaled TTFT …
    assert arrivals[-1] >= latency * 0.02 * 0.9  # … the last one the scaled whole latency
    assert arrivals[-1] - arrivals[0] >= (latency - ttft) * 0.02 * 0.9  # tokens arrive spread, not at once
    assert arrivals[0] < ttft * 0.02 + 5.0  # a hang guard, generous for a busy machine
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.text == m.invoke("tell me something").text
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] > 0


async def test_async_twins_match_sync() -> None:
    m = model(custom("m3", **CLEAN))
    sync = m.invoke("async please")
    assert (await m.ainvoke("async please")).text == sync.text
    text = "".join([str(c.content) async for c in m.astream("async please")])
    assert text == sync.text
    batch = await m.abatch(["one", "two"])
    assert [b.text for b in batch] == [b.text for b in m.batch(["one", "two"])]


@pytest.mark.parametrize(
    ("kind", "expected", "status"),
    [
        ("rate_limit", ModelRateLimitError, 429),
        ("server", ModelAPIError, 500),
        ("overloaded", ModelAPIError, 529),
        ("connection", ModelConnectionError, None),
    ],
)
def test_errors_are_langchain_model_errors_with_status(kind: str, expected: type, status: int | None) -> None:
    m = model(custom(f"err-{kind}", errors={kind: 1.0}))
    with pytest.raises(expected) as info:
        m.invoke("hi")
    assert isinstance(info.value, ModelError) and info.value.is_retryable
    assert isinstance(info.value, SimulatedProviderError)
    assert getattr(info.value, "status_code", None) == status
    with pytest.raises(expected):
        list(m.stream("hi"))


def test_error_rate_matches_the_profile() -> None:
    m = model(custom("err-rate", errors={"rate_limit": 0.05}, refusal_rate=0.0))
    failures = 0
    n = 4000
    for i in range(n):
        try:
            m.invoke(f"request {i}")
        except ModelRateLimitError:
            failures += 1
    assert abs(failures / n - 0.05) < 4 * (0.05 * 0.95 / n) ** 0.5


def test_timeout_and_context_overflow() -> None:
    slow = custom("to", **CLEAN, latency={"ttft_median_s": 5.0, "ttft_sigma": 0.0, "spike_rate": 0.0})
    with pytest.raises(ModelTimeoutError):
        model(slow, timeout=1.0).invoke("hi")
    small = custom("ctx", **CLEAN, context_window=50)
    with pytest.raises(ContextOverflowError) as info:
        model(small).invoke("word " * 400)
    assert not info.value.is_retryable and getattr(info.value, "status_code", None) == 400


def test_refusal_is_detectable_and_structured_output_raises_model_refusal_error() -> None:
    m = model(custom("refuser", errors={}, refusal_rate=1.0))
    msg = m.invoke("help me")
    assert msg.response_metadata["finish_reason"] == "refusal"
    assert any(block["type"] == "refusal" for block in msg.content_blocks)
    assert is_refusal(msg)
    with pytest.raises(ModelRefusalError) as info:
        m.with_structured_output(Label).invoke("classify")
    assert isinstance(info.value.raw_message, AIMessage)


def test_structured_output_answers_through_the_oracle_and_json_slips_raise_parser_errors() -> None:
    m = model(custom("so", **CLEAN), oracle=LabelOracle())
    assert m.with_structured_output(Label).invoke("classify: double charge") == Label(category="billing")
    sloppy = model(custom("sloppy", **CLEAN, format={"json_slip_rate": 1.0}), oracle=LabelOracle())
    with pytest.raises(OutputParserException):
        sloppy.with_structured_output(Label).invoke("classify: double charge")
    raw = sloppy.with_structured_output(Label, include_raw=True).invoke("classify: double charge")
    assert raw["parsed"] is None and isinstance(raw["parsing_error"], OutputParserException)
    assert raw["raw"].invalid_tool_calls


def test_bind_tools_without_oracle_calls_the_tool_with_schema_shaped_args() -> None:
    def lookup_order(order_id: str, include_items: bool) -> str:
        """Look up an order."""
        return order_id

    msg = model(custom("tools", **CLEAN)).bind_tools([lookup_order], tool_choice="any").invoke("find order 7")
    assert msg.tool_calls[0]["name"] == "lookup_order"
    args = msg.tool_calls[0]["args"]
    assert isinstance(args["order_id"], str) and isinstance(args["include_items"], bool)
    assert msg.response_metadata["finish_reason"] == "tool_calls"


def test_resolves_by_id_with_yaml_params_and_registers_in_the_catalog() -> None:
    m = catalog.get("simulated:fast-cheap", {"seed": 3, "time_scale": 0, "temperature": 0.2})
    assert isinstance(m, SimulatedChatModel) and m.seed == 3 and m.temperature == 0.2
    assert m.model_name == "sim-fast-1"
    assert m.profile is not None and m.profile["tool_calling"]
    assert "simulated" in catalog.providers()


def test_max_tokens_cuts_with_finish_reason_length() -> None:
    msg = model(custom("short", **CLEAN), max_tokens=5).invoke("write a long answer")
    assert msg.response_metadata["finish_reason"] == "length"
    assert msg.usage_metadata is not None and msg.usage_metadata["output_tokens"] <= 5


def test_concurrent_calls_are_independent_of_thread_order() -> None:
    m = model(custom("threads", **CLEAN))
    expected = [m.invoke(f"q{i}").text for i in range(40)]

    async def run() -> list[str]:
        return [r.text for r in await asyncio.gather(*(m.ainvoke(f"q{i}") for i in range(40)))]

    assert asyncio.run(run()) == expected
    assert [r.text for r in m.batch([f"q{i}" for i in range(40)], config={"max_concurrency": 8})] == expected


def test_system_messages_and_history_change_the_answer() -> None:
    m = model(custom("hist", **CLEAN))
    plain = m.invoke([HumanMessage("hi")]).text
    assert m.invoke([SystemMessage("be brief"), HumanMessage("hi")]).text != plain
