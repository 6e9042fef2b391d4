"""Each ``watch`` transition line is printed once (not once on stdout and again on stderr by logging)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.control.test_cli import watch_slow_candidate


def test_a_rollback_line_is_printed_once(tmp_path: Path) -> None:
    args = watch_slow_candidate(tmp_path, str(tmp_path / "state.db"))
    cli = str(Path(sys.executable).with_name("routing-agent"))
    cmd = [cli, *args, "--once",
           "--evaluator", "tests.control.cli_evaluators:p95_latency"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    both = done.stdout + done.stderr
    assert both.count("→ rolled_back") == 1, both
