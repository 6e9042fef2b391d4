"""The profile registry loads its shipped catalog once, and no thread sees it half-loaded."""

from __future__ import annotations

import threading

from routing_agent.providers.profiles import ProfileRegistry


def test_first_lookups_from_many_threads_all_find_the_shipped_profiles() -> None:
    for _ in range(50):
        registry = ProfileRegistry()
        barrier = threading.Barrier(8)
        errors: list[BaseException] = []

        def lookup(
            reg: ProfileRegistry = registry,
            gate: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            gate.wait()
            try:
                for name in ("strong-expensive", "fast-cheap", "regressed", "slow-candidate", "judge"):
                    reg.get(name)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=lookup) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
