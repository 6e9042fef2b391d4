"""End to end: a routed three-agent graph exports over OTLP/HTTP into a real Arize Phoenix on loopback, and
the spans are read back through Phoenix's own client: span kinds (no "unknown"), variant, tokens, cost as
Phoenix's OpenInference attributes, session and TTFT arrived."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from routing_agent.telemetry import RoutingTelemetry, configure_exporters
from tests.e2e.phoenix_server import PhoenixServer
from tests.telemetry.support import build_graph, experiments, scripted_catalog

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("phoenix")]  # one server, on one worker


@pytest.fixture(scope="module")
def phoenix() -> Iterator[PhoenixServer]:
    try:
        import phoenix.client  # noqa: F401
    except ImportError:
        pytest.fail("Arize Phoenix is not installed: pip install -e '.[dev,e2e]' (the e2e extra)")
    with PhoenixServer() as server:
        yield server


def read_spans(url: str, project: str, want: int, timeout_s: float = 60.0, workflows: int = 0) -> Any:
    """Poll Phoenix until ``want`` spans, ``workflows`` of them ``invoke_workflow``, arrived."""
    from phoenix.client import Client

    client = Client(base_url=url)
    deadline = time.monotonic() + timeout_s
    frame = None
    while time.monotonic() < deadline:
        try:
            frame = client.spans.get_spans_dataframe(project_identifier=project, limit=1000)
            done = int(frame["name"].str.startswith("invoke_workflow").sum()) if len(frame) else 0
            if len(frame) >= want and done >= workflows:
                return frame
        except Exception:  # the project appears with its first span
            pass
        time.sleep(0.5)
    raise AssertionError(f"Phoenix returned {0 if frame is None else len(frame)} spans, wanted {want}")


def test_spans_arrive_in_phoenix(phoenix: PhoenixServer) -> None:
    project = f"ra-e2e-{uuid.uuid4().hex[:8]}"
    setup = configure_exporters(
        otlp=phoenix.url, project=project, timeout_s=60.0
    )  # what arrives, not how fast
    handler = RoutingTelemetry(tracer_provider=setup.tracer_provider, config=experiments())
    models = scripted_catalog(first_chunk_delay_s=0.02, streaming=True)
    graph = build_graph(experiments(), models)
    outs = [
        graph.invoke({"session_id": f"s-{i}", "tier": "gold"}, {"callbacks": [handler]}) for i in range(4)
    ]
    assert setup.force_flush(120_000)
    setup.shutdown()

    frame = read_spans(phoenix.url, project, want=4 * 10)
    assert len(frame) == 40
    by_name = frame.groupby("name").size().to_dict()
    assert by_name["invoke_workflow support-flow"] == 4 and by_name["route route"] == 4
    assert by_name["invoke_agent research"] == 8
    # Phoenix stores attributes nested ({"gen_ai": {"usage": {...}}}) and maps GenAI spans to its own kinds
    assert set(frame[frame["name"].str.startswith("invoke_agent")]["span_kind"]) == {"AGENT"}
    # workflow and route spans are typed too (they showed as "unknown" before)
    assert set(frame[frame["name"].str.startswith(("invoke_workflow", "route "))]["span_kind"]) == {"CHAIN"}
    assert "UNKNOWN" not in set(frame["span_kind"])
    chats = frame[frame["name"].str.startswith("chat ")]
    assert len(chats) == 16 and set(chats["span_kind"]) == {"LLM"}
    variants = {o["session_id"]: o["routing"]["exp-support"]["variant"] for o in outs}
    for _, row in chats.iterrows():
        ours, genai = row["attributes.routing_agent"], row["attributes.gen_ai"]
        assert ours["variant"] == variants[ours["unit_id"]]
        assert ours["experiment"] == "exp-support" and ours["reason"] == "hashed"
        assert genai["usage"] == {"input_tokens": 120, "output_tokens": 30}
        assert genai["provider"]["name"] == "scripted"
        assert ours["cost_usd"] > 0
        # Phoenix's OpenInference view of the same span (flattened columns)
        assert row["attributes.llm.cost.total"] == pytest.approx(ours["cost_usd"], rel=1e-12)
        parts = row["attributes.llm.cost.prompt"] + row["attributes.llm.cost.completion"]
        assert parts == pytest.approx(ours["cost_usd"], rel=1e-12)
        assert row["attributes.llm.token_count.prompt"] == 120
        assert row["attributes.llm.token_count.completion"] == 30
        assert row["attributes.llm.model_name"] == genai["request"]["model"]
        assert row["attributes.session.id"] == ours["unit_id"]  # gen_ai.conversation.id → session
        ttft = genai["response"]["time_to_first_chunk"]
        assert 0.02 <= ttft < ours["latency_s"]
        assert genai["request"]["stream"] is True
    parents = set(frame.index)
    assert all(p in parents for p in chats["parent_id"])  # every LLM span's parent arrived too
    writers = frame[frame["name"] == "invoke_agent writer"]
    assert all(list(a["citations"]) == ["doc-1", "doc-2"] for a in writers["attributes.routing_agent"])


def test_demo_workflow_exports_into_phoenix(phoenix: PhoenixServer, tmp_path: Any) -> None:
    """``routing-agent demo --otlp URL``: the support workflow on simulated models, traced into Phoenix."""
    import io

    from rich.console import Console

    from routing_agent.simulation import RunSettings, demo

    project = f"ra-demo-{uuid.uuid4().hex[:8]}"
    settings = RunSettings(
        sessions=12, workdir=tmp_path, workers=2, progress=False, otlp=phoenix.url, project=project
    )
    run = demo(settings, console=Console(file=io.StringIO()))
    assert run.summary.sessions == 12
    frame = read_spans(phoenix.url, project, want=12, workflows=12)
    workflows = frame[frame["name"].str.startswith("invoke_workflow")]
    assert len(workflows) == 12
    chats = frame[frame["name"].str.startswith("chat ")]
    assert len(chats) >= 12
    for _, row in chats.iterrows():
        ours, genai = row["attributes.routing_agent"], row["attributes.gen_ai"]
        if "experiment" not in ours:
            continue  # an agent outside the experiment's scope
        assert ours["variant"] in {"control", "candidate"}
        assert genai["usage"]["input_tokens"] > 0 and genai["usage"]["output_tokens"] > 0
        assert ours["cost_usd"] > 0  # simulated profiles carry indicative prices
        assert row["attributes.llm.cost.total"] == pytest.approx(ours["cost_usd"], rel=1e-12)
        assert ours["duration_source"] == "reported"  # simulated latency, not the scaled wall clock
    assert (tmp_path / "observations.sqlite3").exists()
