"""Control: change an experiment's live state safely — rollback, human review, and the ``watch`` loop.

Every worker's ``RoutingNode`` reads the experiment's live state from the shared store (cached for
``state_refresh_s``), so a change made here reaches every worker on every machine without a redeploy:
``rolled_back`` sends every unit to control, ``shipped`` sends every unit to the winner, ``stopped`` sends
every agent to its default model, ``paused`` stops new enrollment.

Usage::

    from routing_agent.control import Rollout, ReviewQueue, WatchSettings, Watcher

    store = open_store("redis://redis:6379/0")
    Rollout(store, spec).rollback(actor="alice", reason="p95 latency 2x control")   # audited, idempotent

    watcher = Watcher(spec, store, lambda s: evaluate(s, observations), WatchSettings(every_s=30))
    watcher.run()   # rollback at once; ship → review queue (review: required) or shipped; ends when done

    queue = ReviewQueue(store)      # the queue beside the store (same SQLite file / same Redis)
    queue.approve("support-triage:1a2b3c4d", reviewer="alice", note="quality up, cost down")

Every change is recorded in the store's history with its actor (``watch@host:pid`` or a person), time, reason
and evidence (the evaluator's ``Decision`` JSON), and applied with a compare-and-set on the state version, so
several ``watch`` processes on several machines never write the same transition twice.
"""

from __future__ import annotations

__all__ = ["ReviewQueue", "Rollout", "TickAction", "WatchSettings", "Watcher"]

from routing_agent.control.review import ReviewQueue
from routing_agent.control.rollout import Rollout
from routing_agent.control.ticks import TickAction
from routing_agent.control.watch import Watcher, WatchSettings
