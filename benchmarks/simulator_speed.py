"""Simulated-provider throughput, side by side with LangChain's own test chat models, in one run.

Every row is single-threaded ``invoke`` calls through LangChain's full ``BaseChatModel`` path (callbacks,
message objects), i.e. calls per second per core. Peers: ``GenericFakeChatModel`` and ``FakeListChatModel``
from ``langchain_core`` — canned answers, no latency, no quality model. Target: the simulator sustains
≥ 2,000 calls/s per core with latencies time-scaled (``time_scale`` 0, and a tiny non-zero scale where
every call really sleeps).

Rows: plain text prompts; the support classifier prompt answered through its oracle with structured output;
streaming (chunks consumed); the full support workflow (four LLM calls + routing per session).

    python benchmarks/simulator_speed.py [--calls 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_core.exceptions import ModelError, OutputParserException
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from routing_agent.config.loader import load_experiments
from routing_agent.providers.simulated import SimulatedChatModel, set_time_scale
from routing_agent.workflows import get_workflow
from routing_agent.workflows.support_triage import prompts

ANSWER = "I have reversed the duplicate charge; the refund reaches your card within 5 business days."


def _rate(call: Callable[[int], Any], n: int, repeats: int) -> float:
    for i in range(min(200, n)):  # warm-up
        call(i)
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            call(r * n + i)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def _safe(fn: Callable[[int], Any]) -> Callable[[int], Any]:
    def call(i: int) -> Any:
        try:
            return fn(i)
        except (ModelError, OutputParserException):  # the profile's errors and JSON slips: part of the load
            return None

    return call


def _simulated_rows(
    scale: float, classifier_prompt: Callable[[int], list[Any]], n: int, repeats: int, peer: float
) -> list[tuple[str, float, float | None]]:
    sim = SimulatedChatModel(sim_profile="fast-cheap", time_scale=scale)
    structured = sim.with_structured_output(prompts.TicketCategory)
    label = f"time_scale={scale:g}"
    text = _rate(_safe(lambda i: sim.invoke(f"question {i}")), n, repeats)
    parsed = _rate(_safe(lambda i: structured.invoke(classifier_prompt(i))), n, repeats)
    streamed = _rate(_safe(lambda i: sum(1 for _ in sim.stream(f"question {i}"))), n // 3, repeats)
    return [
        (f"Simulated.invoke, text, {label}", text, peer),
        (f"Simulated structured+oracle, {label}", parsed, peer),
        (f"Simulated.stream (all chunks), {label}", streamed, None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, repeats = args.calls, args.repeats

    generic = GenericFakeChatModel(messages=itertools.cycle([AIMessage(ANSWER)]))
    fake_list = FakeListChatModel(responses=[ANSWER])
    support = get_workflow("support")
    support.register_oracle()
    tickets = support.items()

    def classifier_prompt(i: int) -> list[Any]:
        state = {"session_id": f"b-{i}", **support.session_input(tickets[i % len(tickets)], f"b-{i}")}
        return [
            SystemMessage(prompts.CLASSIFIER_SYSTEM),
            HumanMessage(f"### Ticket\n{prompts.ticket_block(state)}"),
        ]

    rows: list[tuple[str, float, float | None]] = []
    peer_text = _rate(lambda i: generic.invoke(f"question {i}"), n, repeats)
    peer_list = _rate(lambda i: fake_list.invoke(f"question {i}"), n, repeats)
    rows.append(("GenericFakeChatModel.invoke (peer)", peer_text, None))
    rows.append(("FakeListChatModel.invoke (peer)", peer_list, None))
    for scale in (0.0, 1e-5):
        rows.extend(_simulated_rows(scale, classifier_prompt, n, repeats, peer_text))
    set_time_scale(0.0)
    graph = support.build(load_experiments(support.default_config), "memory://")
    sessions = max(200, n // 10)
    per_session = _rate(
        lambda i: graph.invoke(support.session_input(tickets[i % len(tickets)], f"w-{i}")), sessions, 1
    )
    rows.append(("support workflow sessions/s (4 LLM calls each)", per_session, None))
    rows.append(("  → simulated LLM calls/s inside the graph", per_session * 4, None))

    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'per second':>11}  {'vs GenericFake':>14}")
    for name, rate, peer in rows:
        ratio = f"{rate / peer:.2f}x" if peer else ""
        print(f"{name:<{width}}  {rate:>11,.0f}  {ratio:>14}")
    floor = min(rate for name, rate, _ in rows if name.startswith("Simulated.invoke"))
    verdict = "met" if floor >= 2000 else "NOT met"
    print(f"\ntarget ≥ 2,000 simulated calls/s per core: {verdict} ({floor:,.0f}/s)")


if __name__ == "__main__":
    main()
