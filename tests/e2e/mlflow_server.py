"""Start a real MLflow tracking server on loopback for end-to-end tests (SQLite in a temp dir).

The server runs from its own virtual environment, ``.venv/mlflow-server``, made on first use from the
``mlflow-server`` extra of ``pyproject.toml`` (MLflow pins ``graphene``, whose ``graphql-core`` conflicts with
Arize Phoenix's, so the two servers cannot share the test environment; the client side, ``mlflow-skinny``,
is in the ``e2e`` extra). ``RA_MLFLOW`` may name a ready ``mlflow`` executable instead. A server that cannot
be installed or started is a test failure, never a skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "mlflow-server"


def _requirements() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["project"]["optional-dependencies"]["mlflow-server"])


def mlflow_executable(timeout_s: float = 900.0) -> str:
    """The ``mlflow`` executable of the server environment (installed once, under a file lock)."""
    given = os.environ.get("RA_MLFLOW")
    if given:
        return given
    exe = VENV / "bin" / "mlflow"
    stamp = VENV / ".requirements"
    wanted = json.dumps(_requirements())
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with (VENV.parent / "mlflow-server.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer across pytest-xdist workers
        if exe.exists() and stamp.exists() and stamp.read_text() == wanted:
            return str(exe)
        shutil.rmtree(VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True, timeout=120)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", *_requirements()]
        done = subprocess.run(pip, check=False, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise RuntimeError(f"could not install the MLflow server ({pip}):\n{done.stderr[-3000:]}")
        stamp.write_text(wanted)
    return str(exe)


class MlflowServer:
    """``mlflow server`` in a subprocess; OTLP/HTTP at ``url/v1/traces``, REST and the client at ``url``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ra-mlflow-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 180.0) -> MlflowServer:
        args = [
            mlflow_executable(),
            "server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--backend-store-uri", f"sqlite:///{self.dir / 'mlflow.db'}",
            "--default-artifact-root", str(self.dir / "artifacts"),
            "--workers", "1",
        ]  # fmt: skip
        env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
        log = (self.dir / "mlflow.log").open("ab")
        self.proc = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"MLflow did not start on {self.url}: {self.log()}")

    def create_experiment(self, name: str) -> str:
        """A new experiment's id (the value of the ``x-mlflow-experiment-id`` OTLP header)."""
        request = urllib.request.Request(
            self.url + "/api/2.0/mlflow/experiments/create",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return str(json.loads(resp.read())["experiment_id"])

    def log(self) -> str:
        path = self.dir / "mlflow.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 15)  # the server and its uvicorn/job workers
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> MlflowServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
