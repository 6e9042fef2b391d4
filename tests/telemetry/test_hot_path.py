"""The per-call fast path records exactly what a call-by-call recording would: batched histograms (all
values, caller's context for exemplars), per-identity caches (variants kept apart, custom pricers asked on
every call) and observation groups validated once per call (a bad value drops only itself, a bad shared
field drops the call's observations, both counted); the chat span created at the call's end keeps its start
time and parent; the fast paths (cost JSON, observation check, observation building) equal their slow
definitions."""

from __future__ import annotations

import dataclasses
import itertools
import json
import pickle
import time
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from opentelemetry.trace import SpanKind

from routing_agent.stores.observations import BufferedObservationWriter, MemoryObservationStore, observation
from routing_agent.stores.observations.observation import Observation, observation_problem
from routing_agent.telemetry import Pricer, RoutingTelemetry, TokenUsage, callbacks
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.backends import MLFLOW_LLM_COST, cost_attributes
from routing_agent.telemetry.instruments import CallMeasurements
from routing_agent.telemetry.pricing import ModelPrice
from tests.telemetry.conftest import Otel

ROUTING = {
    "routing_agent.experiment": "e",
    "routing_agent.variant": "candidate",
    "routing_agent.unit": "session",
    "routing_agent.unit_id": "s-1",
    "routing_agent.model_id": "openai:gpt-4o",
}


def model(metadata: dict[str, Any], **response_metadata: Any) -> GenericFakeChatModel:
    reply = AIMessage(
        "ok [doc-1]",
        usage_metadata={"input_tokens": 100, "output_tokens": 10, "total_tokens": 110},
        response_metadata={"model_name": "gpt-4o", "finish_reason": "stop", **response_metadata},
    )
    return GenericFakeChatModel(messages=itertools.repeat(reply), metadata=metadata)


def chat_spans(otel: Otel) -> list[Any]:
    return [s for s in otel.spans() if s.kind is SpanKind.CLIENT]


def test_batched_histograms_hold_every_call_when_read(otel: Otel) -> None:
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    llm = model(ROUTING)
    calls = 2 * handler.instruments.calls.batch + 3  # two full batches and a partial one
    for _ in range(calls):
        llm.invoke("q", {"callbacks": [handler]})
    [duration] = otel.metric_points(sc.METRIC_CLIENT_OPERATION_DURATION)
    latencies = [s.attributes[sc.RA_LATENCY_S] for s in chat_spans(otel)]
    assert duration.count == calls and duration.sum == pytest.approx(sum(latencies))
    tokens = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p for p in otel.metric_points(sc.METRIC_CLIENT_TOKEN_USAGE)}
    assert tokens["input"].count == calls and tokens["input"].sum == 100 * calls
    assert tokens["output"].sum == 10 * calls
    llm.invoke("q", {"callbacks": [handler]})  # one more after a collection: read by the next one
    [duration] = otel.metric_points(sc.METRIC_CLIENT_OPERATION_DURATION)
    assert duration.count == calls + 1


def test_batched_histograms_keep_the_callers_context_for_exemplars(otel: Otel) -> None:
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    tracer = otel.tracer_provider.get_tracer("user")
    with tracer.start_as_current_span("user request") as outer:
        model(ROUTING).invoke("q", {"callbacks": [handler]})
    [duration] = otel.metric_points(sc.METRIC_CLIENT_OPERATION_DURATION)
    assert [e.trace_id for e in duration.exemplars] == [outer.get_span_context().trace_id]


def test_a_batch_is_recorded_by_whichever_thread_finds_it_full(otel: Otel) -> None:
    meter = otel.meter_provider.get_meter("t")
    hist = meter.create_histogram("h")
    calls = CallMeasurements(hist, hist, hist, batch=4)
    for i in range(3):
        calls.add(float(i), {"a": 1}, None, {}, None, {}, {})
    assert otel.metric_points("h") == []  # queued, not recorded yet
    calls.add(3.0, {"a": 1}, 0.5, {"a": 2}, (7, 9), {"a": 3}, {"a": 4})
    points = {p.attributes["a"]: (p.count, p.sum) for p in otel.metric_points("h")}
    assert points == {1: (4, 6.0), 2: (1, 0.5), 3: (1, 7), 4: (1, 9)}


def test_identities_are_cached_per_variant_and_model(otel: Otel) -> None:
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    for variant, unit in (("control", "s-1"), ("candidate", "s-2"), ("control", "s-3")):
        md = {**ROUTING, "routing_agent.variant": variant, "routing_agent.unit_id": unit}
        model(md).invoke("q", {"callbacks": [handler]})
    got = [(s.attributes[sc.RA_VARIANT], s.attributes[sc.RA_UNIT_ID]) for s in chat_spans(otel)]
    assert got == [("control", "s-1"), ("candidate", "s-2"), ("control", "s-3")]
    variants = {
        p.attributes[sc.RA_VARIANT]: p.count for p in otel.metric_points(sc.METRIC_CLIENT_OPERATION_DURATION)
    }
    assert variants == {"control": 2, "candidate": 1}


def test_unhashable_metadata_is_traced_uncached(otel: Otel) -> None:
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    model({**ROUTING, "routing_agent.reason": ["not", "hashable"]}).invoke("q", {"callbacks": [handler]})
    [span] = chat_spans(otel)
    assert span.attributes[sc.RA_REASON] == "['not', 'hashable']"
    assert handler.failures.count == 0


class RisingPricer(Pricer):
    """Each call costs more than the last: a pricer subclass must be asked on every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def cost(self, usage: TokenUsage, **kwargs: Any) -> float | None:
        self.calls += 1
        return 0.01 * self.calls


def test_a_custom_pricer_is_asked_on_every_call(otel: Otel) -> None:
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, pricer=RisingPricer())
    llm = model(ROUTING)
    for _ in range(3):
        llm.invoke("q", {"callbacks": [handler]})
    assert [s.attributes[sc.RA_COST_USD] for s in chat_spans(otel)] == pytest.approx([0.01, 0.02, 0.03])


def observed(
    metadata: dict[str, Any], otel: Otel | None = None, **response_metadata: Any
) -> tuple[MemoryObservationStore, Any]:
    store = MemoryObservationStore()
    writer = BufferedObservationWriter(store, flush_interval_s=0.01)
    handler = RoutingTelemetry(observations=writer, tracer_provider=otel.tracer_provider if otel else None)
    model(metadata, **response_metadata).invoke("q", {"callbacks": [handler]})
    assert writer.flush(5)
    writer.close()
    return store, writer


def test_an_unstorable_value_drops_only_that_observation_counted() -> None:
    store, writer = observed(ROUTING, simulated_latency_s=float("inf"))
    metrics = {o.metric: o.value for o in store.observations("e")}
    assert "latency_s" not in metrics
    assert metrics["calls"] == 1.0 and metrics["input_tokens"] == 100.0 and "cost_usd" in metrics
    assert writer.stats()["dropped"] == 1


def test_an_unstorable_shared_field_drops_the_calls_observations_counted() -> None:
    store, writer = observed({**ROUTING, "routing_agent.unit_id": "s-\ud800"})
    assert list(store.observations("e")) == []
    assert writer.stats()["dropped"] == 8  # calls, latency, error, refusal, 2 x tokens, unpriced, cost
    assert writer.stats()["written"] == 0


def test_observations_of_a_call_share_its_span_and_ids(otel: Otel) -> None:
    store, _ = observed(ROUTING, otel)
    rows = list(store.observations("e"))
    assert len(rows) == 8 and len({o.id for o in rows}) == 8
    assert len({(o.trace_id, o.span_id, o.ts, o.unit_id, o.agent) for o in rows}) == 1
    [span] = chat_spans(otel)
    assert rows[0].trace_id == format(span.context.trace_id, "032x")
    assert rows[0].span_id == format(span.context.span_id, "016x")


def test_the_chat_span_is_backdated_and_parented_where_the_call_started(otel: Otel) -> None:
    """The span is created when the call ends; it still starts when the call started, under the span that
    was current then (a stream finished after its caller's span closed), with every attribute."""
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    tracer = otel.tracer_provider.get_tracer("user")
    before = time.time_ns()
    with tracer.start_as_current_span("user request") as outer:
        stream = model(ROUTING).stream("q", {"callbacks": [handler]})
        first = next(stream)
        first_ns = time.time_ns()
    rest = list(stream)
    after = time.time_ns()
    assert first.content and rest
    [span] = chat_spans(otel)
    assert span.parent is not None and span.parent.span_id == outer.get_span_context().span_id
    assert span.context.trace_id == outer.get_span_context().trace_id
    assert span.start_time is not None and span.end_time is not None
    assert before <= span.start_time <= first_ns <= span.end_time <= after
    attrs = span.attributes or {}
    assert attrs[sc.RA_UNIT_ID] == "s-1" and attrs[sc.GEN_AI_CONVERSATION_ID] == "s-1"
    assert attrs[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o" and attrs[sc.RA_LATENCY_S] > 0
    assert sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in attrs and attrs[sc.GEN_AI_REQUEST_STREAM] is True


def test_a_call_that_never_ends_is_traced_when_evicted(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callbacks, "_MAX_OPEN_RUNS", 2)
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider)
    llm = model(ROUTING)
    streams = [llm.stream("q", {"callbacks": [handler]}) for _ in range(3)]
    for stream in streams:
        next(stream)  # started, never finished
    [span] = chat_spans(otel)  # the oldest, evicted when the third started
    assert (span.attributes or {})[sc.RA_UNIT_ID] == "s-1"
    assert sc.RA_LATENCY_S not in (span.attributes or {})
    assert handler.failures.count == 1


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(
    cost=st.one_of(finite, st.floats(), st.integers(-(10**6), 10**6)),
    output_tokens=st.integers(0, 10**7),
    output_price=st.one_of(finite, st.just(float("inf"))),
    split=st.booleans(),
)
def test_the_mlflow_cost_json_is_what_json_dumps_writes(
    cost: float, output_tokens: int, output_price: float, split: bool
) -> None:
    price = ModelPrice(input=1e-6, output=output_price) if split else None
    attrs = cost_attributes(cost, TokenUsage(input=10, output=output_tokens), price)
    expected: dict[str, float] = {"total_cost": cost}
    if split:
        expected["input_cost"] = cost - output_tokens * output_price
        expected["output_cost"] = output_tokens * output_price
    assert attrs[MLFLOW_LLM_COST] == json.dumps(expected)


text = st.one_of(st.text(max_size=4), st.sampled_from(["", "s-\ud800", "é"]), st.integers(), st.none())
number = st.one_of(st.floats(), st.integers(), st.booleans(), st.sampled_from([1e151, -1e150]), st.none())
segments = st.one_of(st.dictionaries(text, text, max_size=2), st.sampled_from([{}, [], MappingProxyType({})]))


@given(
    fields=st.tuples(text, text, text, text, number, text, segments, number, text, text, text),
)
def test_the_fast_observation_check_agrees_with_the_full_one(fields: tuple[Any, ...]) -> None:
    obs = Observation(*fields)
    assert observation_problem(obs) == observation._problem(obs)


def test_observations_built_on_the_writer_thread_are_real_observations() -> None:
    store, _ = observed({**ROUTING, "routing_agent.segments": {"tier": "pro"}})
    rows = list(store.observations("e"))
    assert len(rows) == 8
    for row in rows:
        twin = Observation(**{f.name: getattr(row, f.name) for f in dataclasses.fields(Observation)})
        assert type(row) is Observation and row == twin
        assert pickle.loads(pickle.dumps(row)) == row
        with pytest.raises(dataclasses.FrozenInstanceError):
            row.value = 2.0  # type: ignore[misc]
    assert rows[0].segments == {"tier": "pro"}
