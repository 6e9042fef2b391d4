"""A real three-agent routed LangGraph graph under the real OTel SDK: span tree, names, kinds, attributes,
metrics and observations."""

from __future__ import annotations

import asyncio
import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from genai_prices import Usage, calc_price
from langgraph.graph import END, START, StateGraph
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from routing_agent.config.spec import PriceSpec, TelemetrySpec
from routing_agent.stores.observations import MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry, backends
from routing_agent.telemetry import semconv as sc
from tests.telemetry.conftest import Otel
from tests.telemetry.support import State, build_graph, experiments, scripted_catalog

GPT4O_COST = float(
    calc_price(Usage(input_tokens=120, output_tokens=30), "gpt-4o", provider_id="openai").total_price
)


def tree(spans: list[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in spans}


def parent_name(spans: list[ReadableSpan], span: ReadableSpan) -> str | None:
    if span.parent is None:
        return None
    return tree(spans)[span.parent.span_id].name


def run(handler: RoutingTelemetry, session: str = "s-1", **catalog_kwargs: Any) -> dict[str, Any]:
    graph = build_graph(experiments(), scripted_catalog(**catalog_kwargs))
    return dict(graph.invoke({"session_id": session, "tier": "gold"}, {"callbacks": [handler]}))


def test_span_tree_names_and_kinds(otel: Otel, handler: RoutingTelemetry) -> None:
    out = run(handler)
    model = out["routing"]["exp-support"]["model"].split(":", 1)[1]
    spans = otel.spans()
    assert sorted(s.name for s in spans) == sorted(
        ["invoke_workflow support-flow", "route route"]
        + ["invoke_agent triage", "invoke_agent research", "invoke_agent research", "invoke_agent writer"]
        + [f"chat {model}"] * 4
    )
    roots = [s for s in spans if s.parent is None]
    assert [r.name for r in roots] == ["invoke_workflow support-flow"]
    assert len({s.context.trace_id for s in spans}) == 1
    agents = [s for s in spans if s.attributes.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_INVOKE_AGENT]
    assert sorted(s.attributes[sc.GEN_AI_AGENT_NAME] for s in agents) == [
        "research",
        "research",
        "triage",
        "writer",
    ]
    for span in agents:
        assert span.kind is SpanKind.INTERNAL
        assert parent_name(spans, span) == "invoke_workflow support-flow"
        assert span.name == f"invoke_agent {span.attributes[sc.GEN_AI_AGENT_NAME]}"
    chats = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert len(chats) == 4
    for chat in chats:
        assert chat.name == f"chat {chat.attributes[sc.GEN_AI_REQUEST_MODEL]}"
        parent = tree(spans)[chat.parent.span_id]
        assert parent.attributes[sc.GEN_AI_AGENT_NAME] == chat.attributes[sc.RA_AGENT]
    # the two Send branches each own exactly one chat span
    research = [s for s in agents if s.attributes[sc.GEN_AI_AGENT_NAME] == "research"]
    children = [sum(1 for c in chats if c.parent.span_id == r.context.span_id) for r in research]
    assert children == [1, 1]
    route = next(s for s in spans if s.name == "route route")
    assert route.kind is SpanKind.INTERNAL and parent_name(spans, route) == "invoke_workflow support-flow"


def test_attributes_of_every_span(otel: Otel, handler: RoutingTelemetry) -> None:
    out = run(handler)
    record = out["routing"]["exp-support"]
    variant, model = record["variant"], record["model"].split(":", 1)[1]
    spans = otel.spans()
    workflow = next(s for s in spans if s.parent is None)
    route = next(s for s in spans if s.name == "route route")
    decision = {
        sc.RA_EXPERIMENT: "exp-support",
        sc.RA_VARIANT: variant,
        sc.RA_UNIT: "session",
        sc.RA_UNIT_ID: "s-1",
        sc.RA_REASON: "hashed",
        sc.RA_ASSIGNMENTS: (f"exp-support={variant} (hashed)",),
    }
    assert dict(workflow.attributes) == {
        sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW,
        sc.GEN_AI_WORKFLOW_NAME: "support-flow",
        sc.GEN_AI_CONVERSATION_ID: "s-1",  # the session unit: the run has no thread id
        backends.OPENINFERENCE_SPAN_KIND: "CHAIN",
        backends.MLFLOW_SPAN_TYPE: "WORKFLOW",
        **decision,
    }
    assert dict(route.attributes) == {
        sc.GEN_AI_OPERATION_NAME: "route",
        sc.GEN_AI_AGENT_NAME: "route",
        sc.GEN_AI_CONVERSATION_ID: "s-1",
        backends.OPENINFERENCE_SPAN_KIND: "CHAIN",
        backends.MLFLOW_SPAN_TYPE: "CHAIN",
        **decision,
    }
    for agent in (s for s in spans if s.name.startswith("invoke_agent")):
        assert agent.attributes[sc.GEN_AI_CONVERSATION_ID] == "s-1"
        assert agent.attributes[backends.OPENINFERENCE_SPAN_KIND] == "AGENT"
    writer = next(s for s in spans if s.name == "invoke_agent writer")
    assert writer.attributes[sc.RA_CITATIONS] == ("doc-1", "doc-2")
    assert writer.attributes[sc.GEN_AI_PROVIDER_NAME] == "scripted"
    assert writer.attributes[sc.RA_VARIANT] == variant
    for chat in (s for s in spans if s.kind is SpanKind.CLIENT):
        attrs = dict(chat.attributes)
        latency = attrs.pop(sc.RA_LATENCY_S)
        assert 0 < latency < (chat.end_time - chat.start_time) / 1e9 + 1e-3
        response_id = attrs.pop(sc.GEN_AI_RESPONSE_ID, None)
        assert response_id is None
        cost = attrs.pop(sc.RA_COST_USD)
        assert attrs.pop(backends.LLM_COST_TOTAL) == cost
        prompt, completion = attrs.pop(backends.LLM_COST_PROMPT), attrs.pop(backends.LLM_COST_COMPLETION)
        assert math.isclose(prompt + completion, cost, rel_tol=1e-12) and completion > 0
        assert json.loads(attrs.pop(backends.MLFLOW_LLM_COST)) == {
            "input_cost": prompt, "output_cost": completion, "total_cost": cost,
        }  # fmt: skip
        if model == "gpt-4o":
            assert math.isclose(cost, GPT4O_COST, rel_tol=1e-9)
        else:
            want = calc_price(
                Usage(input_tokens=120, output_tokens=30), model, provider_id="openai"
            ).total_price
            assert math.isclose(cost, float(want), rel_tol=1e-9)
        assert attrs == {
            sc.GEN_AI_OPERATION_NAME: "chat",
            sc.GEN_AI_PROVIDER_NAME: "scripted",
            sc.GEN_AI_REQUEST_MODEL: model,
            sc.GEN_AI_RESPONSE_MODEL: model + "-2024-08-06",
            sc.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
            sc.GEN_AI_USAGE_INPUT_TOKENS: 120,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: 30,
            sc.GEN_AI_CONVERSATION_ID: "s-1",
            sc.RA_EXPERIMENT: "exp-support",
            sc.RA_VARIANT: variant,
            sc.RA_UNIT: "session",
            sc.RA_UNIT_ID: "s-1",
            sc.RA_REASON: "hashed",
            sc.RA_AGENT: attrs[sc.RA_AGENT],
            sc.RA_MODEL_ID: record["model"],
            sc.RA_DURATION_SOURCE: "measured",
        }
        assert chat.status.status_code is StatusCode.UNSET


def test_metrics_per_experiment_and_variant(otel: Otel, handler: RoutingTelemetry) -> None:
    out = run(handler)
    variant = out["routing"]["exp-support"]["variant"]
    durations = otel.metric_points(sc.METRIC_CLIENT_OPERATION_DURATION)
    assert sum(p.count for p in durations) == 4
    for point in durations:
        assert point.attributes[sc.RA_EXPERIMENT] == "exp-support"
        assert point.attributes[sc.RA_VARIANT] == variant
        assert point.attributes[sc.GEN_AI_OPERATION_NAME] == "chat"
        assert sc.RA_UNIT_ID not in point.attributes  # never unbounded cardinality on metrics
        assert list(point.explicit_bounds) == list(sc.DURATION_BUCKETS)
    tokens = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: 0 for p in otel.metric_points(sc.METRIC_CLIENT_TOKEN_USAGE)}
    for p in otel.metric_points(sc.METRIC_CLIENT_TOKEN_USAGE):
        tokens[p.attributes[sc.GEN_AI_TOKEN_TYPE]] += p.sum
    assert tokens == {"input": 480, "output": 120}
    cost = sum(p.value for p in otel.metric_points(sc.METRIC_COST))
    spans_cost = sum(s.attributes[sc.RA_COST_USD] for s in otel.spans() if s.kind is SpanKind.CLIENT)
    assert math.isclose(cost, spans_cost, rel_tol=1e-9)
    assert otel.metric_points(sc.METRIC_CLIENT_TIME_TO_FIRST_CHUNK) == []
    assert otel.metric_points(sc.METRIC_UNPRICED_CALLS) == []


def test_one_observation_per_metric_per_call(
    otel: Otel, handler: RoutingTelemetry, obs_store: MemoryObservationStore
) -> None:
    out = run(handler)
    variant = out["routing"]["exp-support"]["variant"]
    handler.flush()
    rows = list(obs_store.observations("exp-support"))
    chats = {s.context.span_id: s for s in otel.spans() if s.kind is SpanKind.CLIENT}
    assert len(rows) == 4 * 8
    assert {r.metric for r in rows} == {
        "calls", "latency_s", "error", "refusal", "input_tokens", "output_tokens", "unpriced", "cost_usd"
    }  # fmt: skip
    for r in rows:
        assert (r.experiment, r.variant, r.unit_id, dict(r.segments)) == (
            "exp-support",
            variant,
            "s-1",
            {"tier": "gold"},
        )
        span = chats[int(r.span_id, 16)]
        assert r.trace_id == format(span.context.trace_id, "032x")
        assert r.agent == span.attributes[sc.RA_AGENT]
        expected = {
            "calls": 1.0, "error": 0.0, "refusal": 0.0, "input_tokens": 120.0, "output_tokens": 30.0,
            "unpriced": 0.0, "cost_usd": span.attributes[sc.RA_COST_USD],
            "latency_s": span.attributes[sc.RA_LATENCY_S],
        }  # fmt: skip
        assert r.value == expected[r.metric]
    agg = obs_store.unit_aggregates("exp-support", "calls")
    assert agg[variant].sum_x == 4.0


def test_async_invocation_builds_the_same_tree(otel: Otel, handler: RoutingTelemetry) -> None:
    graph = build_graph(experiments(), scripted_catalog())
    asyncio.run(graph.ainvoke({"session_id": "s-async", "tier": "free"}, {"callbacks": [handler]}))
    spans = otel.spans()
    assert len([s for s in spans if s.parent is None]) == 1
    for chat in (s for s in spans if s.kind is SpanKind.CLIENT):
        assert parent_name(spans, chat) == f"invoke_agent {chat.attributes[sc.RA_AGENT]}"


def test_concurrent_graphs_in_threads_do_not_mix(otel: Otel, handler: RoutingTelemetry) -> None:
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda i: run(handler, session=f"s-{i}"), range(8)))
    spans = otel.spans()
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 8
    for root in roots:
        in_trace = [s for s in spans if s.context.trace_id == root.context.trace_id]
        assert len(in_trace) == 10
        units = {s.attributes.get(sc.RA_UNIT_ID) for s in in_trace} - {None}
        assert units == {root.attributes[sc.RA_UNIT_ID]}
    assert {o["session_id"] for o in outs} == {f"s-{i}" for i in range(8)}


def test_subgraph_agents_nest_under_the_calling_node(otel: Otel, handler: RoutingTelemetry) -> None:
    """A node that only runs a subgraph is a step, not an agent; the subgraph's agents nest under it."""
    inner = build_graph(experiments(), scripted_catalog(), fan_out=1)
    outer = StateGraph(State)
    outer.add_node("delegate", inner)
    outer.add_edge(START, "delegate")
    outer.add_edge("delegate", END)
    outer.compile(name="outer").invoke({"session_id": "s-sub", "tier": "gold"}, {"callbacks": [handler]})
    spans = otel.spans()
    assert [s.name for s in spans if s.parent is None] == ["invoke_workflow outer"]
    delegate = next(s for s in spans if s.name == "delegate")
    for name in ("invoke_agent triage", "invoke_agent research", "invoke_agent writer", "route route"):
        assert parent_name(spans, next(s for s in spans if s.name == name)) == "delegate"
    assert sc.GEN_AI_OPERATION_NAME not in delegate.attributes
    assert delegate.attributes[backends.OPENINFERENCE_SPAN_KIND] == "CHAIN"
    assert delegate.attributes[sc.GEN_AI_CONVERSATION_ID] == "s-sub"  # set once the route node ran


def test_unpriced_and_yaml_prices(otel: Otel, obs_store: MemoryObservationStore) -> None:
    from routing_agent.stores.observations import BufferedObservationWriter
    from routing_agent.telemetry import Pricer

    config = experiments(prices={"scripted:gpt-4o": PriceSpec(input=1.0, output=2.0)})
    writer = BufferedObservationWriter(obs_store)
    handler = RoutingTelemetry(
        tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider, observations=writer,
        pricer=Pricer(config, use_genai_prices=False),
    )  # fmt: skip
    out = build_graph(config, scripted_catalog()).invoke({"session_id": "s-9"}, {"callbacks": [handler]})
    writer.flush()
    chats = [s for s in otel.spans() if s.kind is SpanKind.CLIENT]
    if out["routing"]["exp-support"]["variant"] == "control":  # YAML price: 120 * 1e-6 + 30 * 2e-6
        assert all(math.isclose(s.attributes[sc.RA_COST_USD], 120e-6 + 60e-6) for s in chats)
        assert otel.metric_points(sc.METRIC_UNPRICED_CALLS) == []
    else:  # gpt-4o-mini has no YAML price and genai-prices is off: unpriced, never a silent 0
        assert all(sc.RA_COST_USD not in s.attributes and s.attributes[sc.RA_UNPRICED] for s in chats)
        assert sum(p.value for p in otel.metric_points(sc.METRIC_UNPRICED_CALLS)) == 4
        assert obs_store.unit_aggregates("exp-support", "unpriced")["candidate"].sum_x == 4.0
        assert obs_store.unit_aggregates("exp-support", "cost_usd") == {}
    writer.close()


SESSIONS = ["s-1", "s-2", "s-3", "s-4", "s-5", "s-6"]


def test_sessions_cover_both_variants() -> None:
    graph = build_graph(experiments(), scripted_catalog())
    variants = {graph.invoke({"session_id": s})["routing"]["exp-support"]["variant"] for s in SESSIONS}
    assert variants == {"control", "candidate"}


@pytest.mark.parametrize("session", SESSIONS)
def test_both_price_paths_over_sessions(otel: Otel, session: str) -> None:
    """Run both variants across sessions: the unpriced path and the YAML path each get exercised."""
    config = experiments(prices={"scripted:gpt-4o": PriceSpec(input=1.0, output=2.0)})
    from routing_agent.telemetry import Pricer

    handler = RoutingTelemetry(
        tracer_provider=otel.tracer_provider, pricer=Pricer(config, use_genai_prices=False)
    )
    out = build_graph(config, scripted_catalog()).invoke({"session_id": session}, {"callbacks": [handler]})
    chats = [s for s in otel.spans() if s.kind is SpanKind.CLIENT]
    priced = out["routing"]["exp-support"]["variant"] == "control"
    assert all((sc.RA_COST_USD in s.attributes) is priced for s in chats)
    assert all((sc.RA_UNPRICED in s.attributes) is (not priced) for s in chats)


def test_model_errors_mark_spans_and_observations(
    otel: Otel, handler: RoutingTelemetry, obs_store: MemoryObservationStore
) -> None:
    with pytest.raises(TimeoutError, match="provider timed out"):
        run(handler, fail_with="provider timed out")
    handler.flush()
    spans = otel.spans()
    chat = next(s for s in spans if s.kind is SpanKind.CLIENT)
    assert chat.status.status_code is StatusCode.ERROR
    assert chat.attributes[sc.ERROR_TYPE] == "TimeoutError"
    for name in ("invoke_agent triage", "invoke_workflow support-flow"):
        span = next(s for s in spans if s.name == name)
        assert (
            span.status.status_code is StatusCode.ERROR and span.attributes[sc.ERROR_TYPE] == "TimeoutError"
        )
    [duration] = otel.metric_points(sc.METRIC_CLIENT_OPERATION_DURATION)
    assert duration.attributes[sc.ERROR_TYPE] == "TimeoutError"
    errors = {o.metric: o.value for o in obs_store.observations("exp-support")}
    assert errors == {"calls": 1.0, "latency_s": errors["latency_s"], "error": 1.0}


def test_content_is_not_captured_by_default(otel: Otel, handler: RoutingTelemetry) -> None:
    run(handler)
    for span in otel.spans():
        assert sc.GEN_AI_INPUT_MESSAGES not in span.attributes
        assert sc.GEN_AI_OUTPUT_MESSAGES not in span.attributes
        assert not any("s-1" in str(v) and k.startswith("gen_ai.input") for k, v in span.attributes.items())


@pytest.mark.parametrize("how", ["env", "yaml", "argument"])
def test_content_capture_opt_in(otel: Otel, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    kwargs: dict[str, Any] = {"tracer_provider": otel.tracer_provider}
    if how == "env":
        monkeypatch.setenv(sc.CAPTURE_CONTENT_ENV, "true")
    elif how == "yaml":
        kwargs["config"] = experiments(telemetry=TelemetrySpec(capture_content=True))
    else:
        kwargs["capture_content"] = True
    run(RoutingTelemetry(**kwargs))
    chat = next(
        s for s in otel.spans() if s.attributes.get(sc.RA_AGENT) == "triage" and s.kind is SpanKind.CLIENT
    )
    assert json.loads(chat.attributes[sc.GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "classify: s-1"}]}
    ]
    assert json.loads(chat.attributes[sc.GEN_AI_OUTPUT_MESSAGES]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "the answer is 42"}],
            "finish_reason": "stop",
        }
    ]


def test_env_false_overrides_yaml(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sc.CAPTURE_CONTENT_ENV, "false")
    run(
        RoutingTelemetry(
            tracer_provider=otel.tracer_provider,
            config=experiments(telemetry=TelemetrySpec(capture_content=True)),
        )
    )
    assert all(sc.GEN_AI_INPUT_MESSAGES not in s.attributes for s in otel.spans())
