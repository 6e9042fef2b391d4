"""``routing-agent validate`` on large configs, beside the figures of issue 15 (before the fix) and the
peer it now runs at the speed of: PyYAML's own safe parse of the same text (``yaml.safe_load``).

    python benchmarks/validate_scale.py [--keys 20000] [--experiments 5000]

Issue 15 measured 8,000 unknown keys in 33.6 s, 20,000 in > 300 s and 5,000 experiments in 67 s (targets:
< 2 s and < 5 s).
"""

from __future__ import annotations

import argparse
import time

import yaml

from routing_agent.config.loader import check_experiments_string
from tests.config.test_validate_scaling import experiments, unknown_keys

BEFORE = {"keys": "> 300 s (20,000 keys)", "experiments": "67 s (5,000 experiments)"}


def _time(fn: object, text: str) -> float:
    start = time.perf_counter()
    fn(text)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--experiments", type=int, default=5_000)
    args = parser.parse_args()
    for label, text in (
        ("keys", unknown_keys(args.keys)),
        ("experiments", experiments(args.experiments)),
    ):
        ours = _time(lambda t: check_experiments_string(t, "bench.yaml"), text)
        peer = _time(yaml.safe_load, text)
        print(
            f"{label:>12}: validate {ours:6.2f} s | yaml.safe_load {peer:6.2f} s | ratio {ours / peer:4.1f}x "
            f"| {len(text):,} bytes | before: {BEFORE[label]}"
        )


if __name__ == "__main__":
    main()
