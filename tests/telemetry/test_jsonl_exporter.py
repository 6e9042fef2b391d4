"""The demo's file exporter: one JSON span per line, readable back, file closed on shutdown."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from routing_agent.telemetry.exporters import JsonLinesSpanExporter


def test_spans_are_written_one_json_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    exporter = JsonLinesSpanExporter(path)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("invoke_workflow demo"),
        tracer.start_as_current_span("chat simulated", attributes={"routing_agent.variant": "candidate"}),
    ):
        pass
    provider.shutdown()
    lines = path.read_text(encoding="utf-8").splitlines()
    spans = [json.loads(line) for line in lines]
    assert [s["name"] for s in spans] == ["chat simulated", "invoke_workflow demo"]
    assert spans[0]["attributes"] == {"routing_agent.variant": "candidate"}
    assert spans[0]["parent_id"] == spans[1]["context"]["span_id"]
    exporter.shutdown()  # idempotent
