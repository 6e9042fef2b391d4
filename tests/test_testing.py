"""The public ``routing_agent.testing`` helpers work the way their docstrings promise."""

from __future__ import annotations

from routing_agent.testing import MemoryStore, capture_telemetry, variants_seen
from tests.support.echo_graph import CONFIG, build


def test_capture_telemetry_records_spans_and_observations_per_variant() -> None:
    graph = build(MemoryStore())
    with capture_telemetry(config=CONFIG) as telemetry:
        outputs = [graph.invoke({"session_id": f"s{i}"}) for i in range(20)]
    assert variants_seen(outputs, "exp") == {"control", "candidate"}
    for out in outputs:  # the echo model answers with its own name
        assert out["answer"] == {"control": "big", "candidate": "small"}[out["routing"]["exp"]["variant"]]
    chats = telemetry.spans("chat")
    assert len(chats) == 20
    by_unit = {s.attributes["routing_agent.unit_id"]: s.attributes["routing_agent.variant"] for s in chats}
    assert by_unit == {f"s{i}": out["routing"]["exp"]["variant"] for i, out in enumerate(outputs)}
    calls = telemetry.observed("exp", "calls")
    assert len(calls) == 20 and {o.unit_id for o in calls} == set(by_unit)
