"""TTFT is measured at the first streamed chunk and is absent when the call did not stream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from opentelemetry.trace import SpanKind

from routing_agent.stores.observations import MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry
from routing_agent.telemetry import semconv as sc
from tests.telemetry.conftest import Otel
from tests.telemetry.support import ScriptedChatModel, State

FIRST = 0.05  # seconds before the first chunk
GAP = 0.15  # between later chunks (3 more chunks: the call lasts about FIRST + 3 * GAP)


def graph_with(model: ScriptedChatModel) -> Any:
    """One agent whose model carries routing metadata the way ``routed_model`` attaches it."""
    routed = model.model_copy(
        update={
            "metadata": {
                "routing_agent.experiment": "e",
                "routing_agent.variant": "v",
                "routing_agent.unit": "session",
                "routing_agent.unit_id": "s",
            }
        }
    )

    def agent(state: State, config: RunnableConfig) -> dict[str, Any]:
        return {"answer": str(routed.invoke("q", config).content)}

    g = StateGraph(State)
    g.add_node("agent", agent)
    g.add_edge(START, "agent")
    g.add_edge("agent", END)
    return g.compile()


def chat_span(otel: Otel) -> Any:
    [span] = [s for s in otel.spans() if s.kind is SpanKind.CLIENT]
    return span


def assert_streamed(otel: Otel, handler: RoutingTelemetry, store: MemoryObservationStore) -> None:
    span = chat_span(otel)
    ttft = span.attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    latency = span.attributes[sc.RA_LATENCY_S]
    assert FIRST <= ttft < FIRST + GAP  # the first chunk, not the last, not the call start
    assert latency >= FIRST + 3 * GAP > ttft
    assert span.attributes[sc.GEN_AI_REQUEST_STREAM] is True
    [point] = otel.metric_points(sc.METRIC_CLIENT_TIME_TO_FIRST_CHUNK)
    assert point.count == 1 and point.sum == ttft
    handler.flush()
    [obs] = [o for o in store.observations("e") if o.metric == "ttft_s"]
    assert obs.value == ttft


def streaming_model(**kwargs: Any) -> ScriptedChatModel:
    return ScriptedChatModel(first_chunk_delay_s=FIRST, chunk_delay_s=GAP, **kwargs)


def test_graph_stream_messages(
    otel: Otel, handler: RoutingTelemetry, obs_store: MemoryObservationStore
) -> None:
    graph = graph_with(streaming_model())
    chunks = list(graph.stream({"session_id": "s"}, {"callbacks": [handler]}, stream_mode="messages"))
    assert len(chunks) >= 4  # the model really streamed through the graph
    assert_streamed(otel, handler, obs_store)


def test_astream_events(otel: Otel, handler: RoutingTelemetry, obs_store: MemoryObservationStore) -> None:
    graph = graph_with(streaming_model())

    async def consume() -> list[str]:
        kinds = []
        async for event in graph.astream_events({"session_id": "s"}, {"callbacks": [handler]}, version="v2"):
            kinds.append(event["event"])
        return kinds

    kinds = asyncio.run(consume())
    assert kinds.count("on_chat_model_stream") >= 4
    assert_streamed(otel, handler, obs_store)


def test_invoke_of_a_streaming_model(
    otel: Otel, handler: RoutingTelemetry, obs_store: MemoryObservationStore
) -> None:
    graph = graph_with(streaming_model(streaming=True))
    graph.invoke({"session_id": "s"}, {"callbacks": [handler]})
    assert_streamed(otel, handler, obs_store)


def test_async_invoke_of_a_streaming_model(
    otel: Otel, handler: RoutingTelemetry, obs_store: MemoryObservationStore
) -> None:
    graph = graph_with(streaming_model(streaming=True))
    asyncio.run(graph.ainvoke({"session_id": "s"}, {"callbacks": [handler]}))
    assert_streamed(otel, handler, obs_store)


def test_no_ttft_when_the_call_did_not_stream(
    otel: Otel, handler: RoutingTelemetry, obs_store: MemoryObservationStore
) -> None:
    graph_with(streaming_model()).invoke({"session_id": "s"}, {"callbacks": [handler]})
    span = chat_span(otel)
    assert sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in span.attributes
    assert sc.GEN_AI_REQUEST_STREAM not in span.attributes
    assert span.attributes[sc.RA_LATENCY_S] >= FIRST + GAP
    assert otel.metric_points(sc.METRIC_CLIENT_TIME_TO_FIRST_CHUNK) == []
    handler.flush()
    assert "ttft_s" not in {o.metric for o in obs_store.observations("e")}


@pytest.mark.parametrize("streamed", [True, False])
def test_model_reported_durations_win(otel: Otel, handler: RoutingTelemetry, streamed: bool) -> None:
    """Time-scaled simulations report real-world durations in response_metadata; telemetry uses them."""
    model = ScriptedChatModel(
        streaming=streamed, extra_metadata={"simulated_latency_s": 2.5, "simulated_ttft_s": 0.4}
    )
    graph_with(model).invoke({"session_id": "s"}, {"callbacks": [handler]})
    span = chat_span(otel)
    assert span.attributes[sc.RA_LATENCY_S] == 2.5
    assert span.attributes[sc.RA_DURATION_SOURCE] == "reported"
    [duration] = otel.metric_points(sc.METRIC_CLIENT_OPERATION_DURATION)
    assert duration.sum == 2.5
    if streamed:
        assert span.attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] == 0.4
    else:  # a reported TTFT of a call that did not stream is not recorded
        assert sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in span.attributes
    assert (span.end_time - span.start_time) / 1e9 < 1.0  # span timestamps stay wall-clock


def _chunk(**fields: Any) -> Any:
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk

    return ChatGenerationChunk(message=AIMessageChunk(**fields))


@pytest.mark.parametrize(
    ("fields", "content"),
    [
        ({"content": ""}, False),  # the OpenAI-compatible role chunk
        (
            {"content": "", "usage_metadata": {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}},
            False,
        ),
        ({"content": "", "response_metadata": {"finish_reason": "stop"}}, False),
        ({"content": [{"type": "text", "text": "", "index": 0}]}, False),  # Anthropic's empty block start
        ({"content": "Hel"}, True),
        ({"content": "", "tool_call_chunks": [{"name": "f", "args": "", "id": "c1", "index": 0}]}, True),
        ({"content": "", "additional_kwargs": {"reasoning_content": "Let me think"}}, True),  # DeepSeek-style
        ({"content": [{"type": "thinking", "thinking": "Hmm", "index": 0}]}, True),  # Anthropic thinking
        ({"content": [{"type": "reasoning", "reasoning": "step 1"}]}, True),  # LangChain v1 blocks
        ({"content": [{"type": "tool_use", "name": "f", "input": {}, "id": "t1", "index": 0}]}, True),
    ],
)
def test_which_chunks_carry_content(fields: dict[str, Any], content: bool) -> None:
    from routing_agent.telemetry.response import carries_content

    chunk = _chunk(**fields)
    assert carries_content(chunk.message.content, chunk) is content


def test_ttft_waits_for_the_first_content_chunk(otel: Otel, handler: RoutingTelemetry) -> None:
    """A model that sends an empty chunk at once and its text FIRST seconds later: TTFT is the later one."""
    model = streaming_model(streaming=True, text="answer")

    original = ScriptedChatModel._stream

    def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        yield ChatGenerationChunk(message=AIMessageChunk(content=""))  # role-only, at once
        yield from original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ScriptedChatModel, "_stream", stream)
        graph_with(model).invoke({"session_id": "s"}, {"callbacks": [handler]})
    ttft = chat_span(otel).attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert ttft >= FIRST
