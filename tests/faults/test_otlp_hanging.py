"""An OTLP collector that accepts connections and never answers (the nastier sibling of the unreachable
endpoint tested in ``tests/telemetry/test_failures.py``): traces and metrics export on background threads,
so no graph invocation waits for the collector; flushing is bounded by its timeout; the CLI still finishes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_agent.telemetry import RoutingTelemetry, configure_exporters
from tests.faults.support import SilentServer
from tests.telemetry.support import build_graph, experiments, scripted_catalog

LONG = os.environ.get("RA_LONG_TESTS") != "1"
EXPORT_TIMEOUT_S = 2.0


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def timed_runs(handler: RoutingTelemetry, n: int) -> list[float]:
    graph = build_graph(experiments(), scripted_catalog())
    out = []
    for i in range(n):
        started = time.perf_counter()
        state = graph.invoke({"session_id": f"s{i}", "tier": "gold"}, {"callbacks": [handler]})
        out.append(time.perf_counter() - started)
        assert state["answer"] == "the answer is 42"
    return out


def test_a_hanging_collector_never_slows_the_graph(silent: SilentServer) -> None:
    setup = configure_exporters(otlp=silent.url, otlp_metrics=True, timeout_s=EXPORT_TIMEOUT_S)
    handler = RoutingTelemetry(tracer_provider=setup.tracer_provider, meter_provider=setup.meter_provider)
    hanging = timed_runs(handler, 150)
    # no invocation ever waited for the collector's export timeout (a bound, not a speed: the overhead
    # figures are in benchmarks/telemetry_overhead.py)
    assert max(hanging) < EXPORT_TIMEOUT_S
    deadline = time.monotonic() + 10
    while silent.received == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # the batch processor exports after its schedule delay
    assert silent.received > 0  # the exporter really tried
    started = time.perf_counter()
    setup.force_flush(2000)
    # bounded: the flush timeout plus the export attempts in flight (traces, metrics), with slack for a busy
    # machine
    assert time.perf_counter() - started < 2.0 + 3 * EXPORT_TIMEOUT_S + 3.0
    started = time.perf_counter()
    setup.shutdown()
    assert time.perf_counter() - started < 35.0  # the SDK's own bound: 30 s for what is still queued


@pytest.mark.slow
@pytest.mark.skipif(LONG, reason="~30 s: run with RA_LONG_TESTS=1 pytest -m slow")
def test_the_demo_finishes_with_a_hanging_collector(silent: SilentServer, tmp_path: Path) -> None:
    """At exit the CLI waits for the collector at most its flush (10 s) and shutdown (30 s) bounds."""
    started = time.perf_counter()
    run = subprocess.run(
        [str(Path(sys.executable).parent / "routing-agent"), "demo", "--sessions", "200",
         "--workdir", str(tmp_path), "--otlp", silent.url],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert time.perf_counter() - started < 60
    assert "Traceback" not in run.stderr
    assert (tmp_path / "report.html").exists()
