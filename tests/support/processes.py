"""Racing OS processes in tests: start them all, and never leave one behind."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.process import BaseProcess


@contextmanager
def started(procs: Sequence[BaseProcess], join_timeout_s: float = 30.0) -> Iterator[None]:
    """Start ``procs``; when the block ends (even by an error) join each, killing any still alive."""
    for p in procs:
        p.start()
    try:
        yield
    finally:
        for p in procs:
            p.join(timeout=join_timeout_s)
            if p.is_alive():
                p.kill()
