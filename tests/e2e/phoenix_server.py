"""Start a real Arize Phoenix server on loopback for end-to-end tests (SQLite in a temp dir, no telemetry)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support.redis_server import free_port


class PhoenixServer:
    """``phoenix serve`` in a subprocess; ``url`` is the base URL (OTLP/HTTP at ``url/v1/traces``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.grpc_port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ra-phoenix-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> PhoenixServer:
        env = {
            **os.environ,
            "PHOENIX_WORKING_DIR": str(self.dir),
            "PHOENIX_PORT": str(self.port),
            "PHOENIX_GRPC_PORT": str(self.grpc_port),
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_TELEMETRY_ENABLED": "false",
        }
        exe = shutil.which("phoenix", path=str(Path(sys.executable).parent)) or shutil.which("phoenix")
        args = [exe, "serve"] if exe else [sys.executable, "-m", "phoenix.server.main", "serve"]
        log = (self.dir / "phoenix.log").open("ab")
        self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"Phoenix did not start on {self.url}: {self.log()}")

    def log(self) -> str:
        path = self.dir / "phoenix.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PhoenixServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
