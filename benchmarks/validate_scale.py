"""``routing-agent validate`` on large configs, beside the figures of issue 15 (before the fix) and two peers:
PyYAML's pure-Python ``yaml.safe_load`` and its libyaml ``CSafeLoader`` parsing the same text (no checks).

    python benchmarks/validate_scale.py [--keys 20000] [--experiments 5000] [--repeat 3]

Issue 15 measured 8,000 unknown keys in 33.6 s, 20,000 in > 300 s and 5,000 experiments in 67 s (targets:
< 2 s and < 5 s). Each figure is the median of ``--repeat`` runs in one process, as wall time and as this
process's CPU time (what a shared machine's load does not inflate); the load average is printed beside.
The 5,000 experiments are written out in full (no anchors), each in its own slice of one namespace (~1 MB).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing_agent.config.loader import check_experiments_string
from routing_agent.config.yaml_compose import AVAILABLE
from tests.config.test_validate_scaling import experiments, unknown_keys

BEFORE = {"keys": "> 300 s", "experiments": "67 s"}
TARGET = {"keys": 2.0, "experiments": 5.0}


def _times(fn: Callable[[str], object], text: str, repeat: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(text)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--experiments", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"libyaml: {AVAILABLE}; load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    for label, text in (
        ("keys", unknown_keys(args.keys)),
        ("experiments", experiments(args.experiments)),
    ):
        check = check_experiments_string(text, "bench.yaml")
        wall, cpu = _times(lambda t: check_experiments_string(t, "bench.yaml"), text, args.repeat)
        pure, _ = _times(yaml.safe_load, text, args.repeat)
        fast, _ = _times(lambda t: yaml.load(t, Loader=yaml.CSafeLoader), text, args.repeat)
        print(
            f"{label:>11}: validate {wall:5.2f} s wall, {cpu:5.2f} s CPU (target < {TARGET[label]:g} s; "
            f"before {BEFORE[label]}) | yaml.safe_load {pure:5.2f} s | CSafeLoader {fast:5.2f} s | "
            f"{len(text):,} bytes, {len(check.issues):,} issues"
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
