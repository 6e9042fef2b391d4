"""LangChain's real ``ChatOpenAI`` behind a loopback OpenAI-compatible server with known timing.

The server sends the empty ``role`` chunk at once and the first content ``FIRST`` seconds later: telemetry's
TTFT must be the latter (within 20 ms), and tokens and cost must be exactly the server's usage priced by the
YAML — streamed (``stream_mode="messages"``: LangChain streams the call) and not streamed. A catalog-built
``ChatOpenAI`` with a ``base_url`` asks for usage on streamed calls; without it the call is counted as
``usage_missing``, the cause of its being unpriced.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from opentelemetry.trace import SpanKind

from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, PriceSpec, VariantSpec
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry
from routing_agent.telemetry import semconv as sc
from tests.providers.openai_server import OpenAICompatibleServer, serve
from tests.telemetry.conftest import Otel, obs_store, otel

__all__ = ["obs_store", "otel"]  # fixtures re-used from the telemetry tests

FIRST = 0.3  # server: role chunk at once, first content after FIRST seconds
GAP = 0.1  # server: every later chunk GAP after the one before
PRICES = {
    "openai:gpt-loop": PriceSpec(input=2.5, output=10.0),
    "openai:gpt-loop-mini": PriceSpec(input=0.15, output=0.6),
}


@pytest.fixture
def server() -> Iterator[OpenAICompatibleServer]:
    yield from serve(OpenAICompatibleServer(first_delay_s=FIRST, gap_s=GAP))


@pytest.fixture
def handler(otel: Otel, obs_store: MemoryObservationStore, server: OpenAICompatibleServer) -> Iterator[Any]:
    """A handler pricing with the YAML prices of ``_config`` (the loopback models are unknown elsewhere)."""
    writer = BufferedObservationWriter(obs_store, flush_interval_s=0.01)
    yield RoutingTelemetry(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        observations=writer,
        config=_config(server.url),
    )
    writer.close()


@pytest.fixture(autouse=True)
def _test_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RA_TEST_OPENAI_KEY", "sk-test")


class _State(RoutingState, total=False):
    session_id: str
    answer: str


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def _config(url: str, **extra: Any) -> ExperimentsConfig:
    params = {"base_url": url, "api_key_env": "RA_TEST_OPENAI_KEY", "max_retries": 0, "timeout": 10, **extra}
    return ExperimentsConfig(
        experiments=(
            ExperimentSpec(
                id="loop",
                variants=(
                    VariantSpec(name="control", model="openai:gpt-loop", params=params, control=True),
                    VariantSpec(name="candidate", model="openai:gpt-loop-mini", params=params),
                ),
            ),
        ),
        prices=PRICES,
    )


def _graph(experiments: ExperimentsConfig, *, tools: bool = False) -> Any:
    def agent(state: _State, config: RunnableConfig) -> dict[str, Any]:
        llm: Any = routed_model(state, config)
        if tools:
            llm = llm.bind_tools([weather])
        return {"answer": str(llm.invoke("hello", config).content)}

    g = StateGraph(_State)
    g.add_node("route", RoutingNode(experiments))
    g.add_node("agent", agent)
    g.add_edge(START, "route")
    g.add_edge("route", "agent")
    g.add_edge("agent", END)
    return g.compile(name="loopback")


def _warm_up(experiments: ExperimentsConfig, server: OpenAICompatibleServer, otel: Otel) -> None:
    """One call per variant model first: the OpenAI client is built lazily on a model's first call, a
    one-off cost that is not the time to first token of steady traffic."""
    from routing_agent.providers.catalog import catalog

    for variant in experiments.experiments[0].variants:
        catalog.get(variant.model, variant.params).invoke("warm up")
    server.served.clear()
    otel.spans_exporter.clear()


def _chat_spans(otel: Otel) -> list[Any]:
    return [s for s in otel.spans() if s.kind is SpanKind.CLIENT]


def _expected_cost(model_id: str, server: OpenAICompatibleServer) -> float:
    price = PRICES[model_id]
    return server.prompt_tokens * price.input / 1e6 + server.completion_tokens * price.output / 1e6


def _assert_priced(span: Any, server: OpenAICompatibleServer) -> None:
    attrs = span.attributes
    assert attrs[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == server.prompt_tokens
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == server.completion_tokens
    assert attrs[sc.RA_COST_USD] == pytest.approx(_expected_cost(attrs[sc.RA_MODEL_ID], server), rel=1e-12)
    assert sc.RA_UNPRICED not in attrs and sc.RA_USAGE_MISSING not in attrs


@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool_call"])
def test_streamed_ttft_is_the_first_content_chunk_and_usage_is_exact(
    server: OpenAICompatibleServer,
    otel: Otel,
    handler: RoutingTelemetry,
    obs_store: MemoryObservationStore,
    tools: bool,
) -> None:
    experiments = _config(server.url)
    app = _graph(experiments, tools=tools)
    _warm_up(experiments, server, otel)
    for i in range(4):
        chunks = list(app.stream({"session_id": f"s-{i}"}, {"callbacks": [handler]}, stream_mode="messages"))
        assert len(chunks) >= 3  # LangChain really streamed the call
        assert server.last().body["stream"] is True
        assert server.last().body["stream_options"] == {"include_usage": True}
    spans = _chat_spans(otel)
    assert len(spans) == 4
    errors = []
    for span, served in zip(spans, server.served, strict=True):
        assert served.first_content is not None
        true_ttft = served.first_content - served.received  # the server's own clock, same process
        ttft = span.attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
        # never the role chunk's ~0 s: the client starts its clock before the server receives the request,
        # and the server stamps the first content chunk before writing it
        assert ttft >= true_ttft >= FIRST
        errors.append(ttft - true_ttft)
        assert span.attributes[sc.GEN_AI_REQUEST_STREAM] is True
        _assert_priced(span, server)
    # nor a later chunk's: that one is written GAP later, so its error would be >= GAP; only the client's own
    # overhead (building the request, parsing SSE) separates the two, well under GAP even on a busy machine
    assert sorted(errors)[len(errors) // 2] < GAP, errors
    handler.flush()
    observed = list(obs_store.observations("loop"))
    ttfts = sorted(o.value for o in observed if o.metric == "ttft_s")
    assert len(ttfts) == 4 and all(t >= FIRST for t in ttfts)
    assert {o.value for o in observed if o.metric == "input_tokens"} == {float(server.prompt_tokens)}
    assert not [o for o in observed if o.metric == "usage_missing"]


def test_not_streamed_has_no_ttft_and_exact_usage(
    server: OpenAICompatibleServer, otel: Otel, handler: RoutingTelemetry
) -> None:
    app = _graph(_config(server.url))
    for i in range(3):
        app.invoke({"session_id": f"n-{i}"}, {"callbacks": [handler]})
        assert "stream" not in server.last().body or server.last().body["stream"] is False
    spans = _chat_spans(otel)
    assert len(spans) == 3
    for span in spans:
        assert sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in span.attributes
        assert span.attributes[sc.RA_LATENCY_S] >= FIRST
        _assert_priced(span, server)


def test_stream_usage_off_is_counted_with_its_cause(
    server: OpenAICompatibleServer,
    otel: Otel,
    handler: RoutingTelemetry,
    obs_store: MemoryObservationStore,
) -> None:
    """``params: {stream_usage: false}``: the server sends no usage; the call is unpriced *because* of it."""
    app = _graph(_config(server.url, stream_usage=False))
    list(app.stream({"session_id": "u-1"}, {"callbacks": [handler]}, stream_mode="messages"))
    assert "stream_options" not in server.last().body
    [span] = _chat_spans(otel)
    assert span.attributes[sc.RA_UNPRICED] is True
    assert span.attributes[sc.RA_USAGE_MISSING] is True
    assert span.attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] >= FIRST
    handler.flush()
    metrics = {o.metric: o.value for o in obs_store.observations("loop")}
    assert metrics["usage_missing"] == 1.0 and metrics["unpriced"] == 1.0
    assert "input_tokens" not in metrics


def test_a_ready_chatopenai_is_provider_openai_and_priced(
    server: OpenAICompatibleServer, otel: Otel, obs_store: MemoryObservationStore
) -> None:
    """A ``ChatOpenAI`` the app built itself (``routed_model(default=...)``) reports LangChain's
    ``_llm_type`` ``openai-chat``: telemetry records the well-known ``openai`` and prices it as OpenAI's."""
    from genai_prices import Usage, calc_price
    from langchain_openai import ChatOpenAI

    ready = ChatOpenAI(model="gpt-4o", base_url=server.url, api_key="sk-test", max_retries=0)

    def agent(state: _State, config: RunnableConfig) -> dict[str, Any]:
        return {"answer": str(routed_model(state, config, default=ready).invoke("hi", config).content)}

    g = StateGraph(_State)
    g.add_node("agent", agent)
    g.add_edge(START, "agent")
    g.add_edge("agent", END)
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    g.compile().invoke({"session_id": "ready-1"}, {"callbacks": [handler]})
    [span] = _chat_spans(otel)
    assert span.attributes[sc.GEN_AI_PROVIDER_NAME] == "openai"
    want = calc_price(
        Usage(input_tokens=server.prompt_tokens, output_tokens=server.completion_tokens), "gpt-4o",
        provider_id="openai",
    ).total_price  # fmt: skip
    assert span.attributes[sc.RA_COST_USD] == pytest.approx(float(want), rel=1e-9)


def test_evaluation_names_the_model_and_cause_of_unpriced_calls(
    otel: Otel, obs_store: MemoryObservationStore
) -> None:
    """Streamed candidate calls to an endpoint with ``stream_usage: false`` lose usage: the unpriced check
    fails and says which model and why, instead of a bare 'unpriced 50 %'."""
    from routing_agent.evaluation.checks import run_checks
    from routing_agent.evaluation.settings import EvaluationSettings

    for fast in serve(OpenAICompatibleServer(first_delay_s=0.005, gap_s=0.0)):
        base = _config(fast.url)
        spec = base.experiments[0]
        candidate = spec.variants[1].model_copy(
            update={"params": {**spec.variants[1].params, "stream_usage": False}}
        )
        spec = spec.model_copy(update={"variants": (spec.variants[0], candidate)})
        experiments = base.model_copy(update={"experiments": (spec,)})
        writer = BufferedObservationWriter(obs_store, flush_interval_s=0.01)
        handler = RoutingTelemetry(
            tracer_provider=otel.tracer_provider, observations=writer, config=experiments
        )
        app = _graph(experiments)
        for i in range(40):
            list(app.stream({"session_id": f"e-{i}"}, {"callbacks": [handler]}, stream_mode="messages"))
        writer.close()
    metrics = {o.metric for o in obs_store.observations("loop")}
    settings = EvaluationSettings(min_observations_for_rates=5)
    checks = run_checks(spec, obs_store, {}, settings, metrics)
    [unpriced] = [c for c in checks if c.name == "unpriced"]
    assert not unpriced.passed
    assert "openai:gpt-loop-mini" in unpriced.message and "reported no token usage" in unpriced.message
    assert "stream_usage: true" in unpriced.message
