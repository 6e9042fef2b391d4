"""A worker process for the SIGKILL tests: writes observations through a spooled writer, forever.

Usage: ``python -m tests.faults.spool_worker <store file> <spool dir | default>`` (``default``: a writer built
with every default, spooling where the environment says). Every observation has the id
``obs-<i>``; after each ``add`` the worker prints ``<i> <monotonic time>`` (line-buffered), so the parent
knows which observations were accepted, and when, at the moment it kills the worker.
"""

from __future__ import annotations

import sys
import time

from routing_agent.stores.observations.observation import Observation
from routing_agent.stores.observations.sqlite import SQLiteObservationStore
from routing_agent.stores.observations.writer import BufferedObservationWriter


def main() -> None:
    store = SQLiteObservationStore(sys.argv[1], busy_timeout_ms=200)
    if sys.argv[2] == "default":
        writer = BufferedObservationWriter(store)
    else:
        writer = BufferedObservationWriter(store, spool_dir=sys.argv[2], flush_interval_s=0.25, max_retries=0)
    i = 0
    while True:
        writer.add(Observation("exp", "control", f"u{i % 97}", "resolved", 1.0, id=f"obs-{i}"))
        print(i, time.monotonic(), flush=True)
        i += 1
        time.sleep(0.001)


if __name__ == "__main__":
    main()
