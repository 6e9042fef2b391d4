"""The reference workflows record their session outcomes through the public outcome API."""

from __future__ import annotations

from routing_agent.config.loader import load_experiments
from routing_agent.observations import BufferedObservationWriter, MemoryObservationStore
from routing_agent.telemetry import RoutingTelemetry
from tests.support.time_scale import instant_models
from workflows import get_workflow


def test_support_sessions_record_the_primary_metric_through_record_outcome() -> None:
    workflow = get_workflow("support")
    config = load_experiments(workflow.default_config)
    spec = config.experiments[0]
    store = MemoryObservationStore()
    writer = BufferedObservationWriter(store, flush_interval_s=0.01)
    handler = RoutingTelemetry(observations=writer, config=config)  # on the run, not process-wide
    graph = workflow.build(config, "memory://")
    with instant_models():
        states = [
            graph.invoke(workflow.session_input(item, f"wf-{i}"), {"callbacks": [handler]})
            for i, item in enumerate(workflow.items()[:30])
        ]
    handler.flush()
    recorded = {(o.unit_id, o.variant): o.value for o in store.observations(spec.id, "resolved")}
    expected = {
        (s["session_id"], s["routing"][spec.id]["variant"]): s["outcome"]["resolved"]
        for s in states
        if s["routing"][spec.id]["variant"] is not None
    }
    assert recorded == expected and len(expected) == 30
    assert {o.id for o in store.observations(spec.id, "resolved")} == {
        f"wf-{i}:outcome:resolved" for i in range(30)
    }
    writer.close()
