"""Exporters: the service name the environment gives, honest export reports, and metrics over ``--otlp``,
against a loopback OTLP/HTTP receiver that accepts or rejects per path."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from routing_agent.simulation import RunSettings
from routing_agent.simulation.tracing import export_report
from routing_agent.telemetry.exporters import configure_exporters


class Receiver:
    """Records the OTLP paths it was sent; answers 200 on ``accept`` paths, 404 elsewhere."""

    def __init__(self, accept: tuple[str, ...]) -> None:
        self.accept = accept
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    rec = Receiver(getattr(request, "param", ("/v1/traces", "/v1/metrics")))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec.paths.append(self.path)
            rec.headers.append(dict(self.headers))
            self.send_response(200 if self.path in rec.accept else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_otel_service_name_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert configure_exporters().tracer_provider.resource.attributes["service.name"] == "routing-agent"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "support-bot")
    assert configure_exporters().tracer_provider.resource.attributes["service.name"] == "support-bot"
    assert configure_exporters(service_name="explicit").tracer_provider.resource.attributes[
        "service.name"
    ] == ("explicit")


def _one_span(setup: Any) -> None:
    with setup.tracer_provider.get_tracer("t").start_as_current_span("s"):
        pass
    setup.force_flush(10_000)
    setup.shutdown()


def test_report_says_exported_only_when_accepted(receiver: Receiver) -> None:
    setup = configure_exporters(otlp=receiver.url, headers={"x-mlflow-experiment-id": "7"})
    _one_span(setup)
    assert receiver.paths == ["/v1/traces"] and receiver.headers[0]["x-mlflow-experiment-id"] == "7"
    [line] = export_report(setup)
    assert line.startswith("traces exported to") and "(1 batches)" in line


@pytest.mark.parametrize("receiver", [("/nowhere",)], indirect=True)
def test_report_says_failed_when_every_export_failed(receiver: Receiver) -> None:
    setup = configure_exporters(otlp=receiver.url, timeout_s=2)
    _one_span(setup)
    assert receiver.paths  # the receiver was reached and said 404
    [line] = export_report(setup)
    assert "failed: 1 of 1 batches" in line and "exported to" not in line


def test_demo_otlp_exports_traces_and_metrics(receiver: Receiver, tmp_path: Path) -> None:
    """``routing-agent demo --otlp URL``'s pipeline sends metrics too and reports both exports."""
    from routing_agent.simulation.demo import demo

    out = io.StringIO()
    settings = RunSettings(sessions=4, workdir=tmp_path, workers=1, progress=False, otlp=receiver.url)
    demo(settings, console=Console(file=out, width=200))
    assert "/v1/traces" in receiver.paths and "/v1/metrics" in receiver.paths
    text = out.getvalue()
    assert f"traces exported to {receiver.url}/v1/traces" in text
    assert f"metrics exported to {receiver.url}/v1/metrics" in text
