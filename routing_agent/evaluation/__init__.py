"""Evaluation: read an experiment's observations the playbook's way and decide, with a report people trust.

Usage::

    from routing_agent.evaluation import evaluate, write_report

    evaluation = evaluate(spec, observations="redis://redis:6379/0", assignments=store, timeline=True)
    evaluation.decision.kind        # ship | keep_running | rollback | no_difference | invalid | segmentation
    evaluation.decision.summary     # the decision in one sentence with its evidence
    write_report(evaluation, "report.html")     # or .md / .json (schema: report --schema)

    # inside the watch loop (routing-agent watch uses it by default): looks are chained, so the always-valid
    # tests stay valid however often it looks
    Watcher(spec, store, WatchEvaluator(observations, store), WatchSettings(every_s=30)).run()

Decision policy (``decide``, which states each rule's error rate): guardrails (always-valid breach test,
``min_sample``, Bonferroni across bounds) → validity (SRM, differential attrition, invalid judge verdicts,
unpriced calls) → the primary metric read by intention to treat (fixed horizon at the planned sample, early
only when the always-valid test is conclusive; Holm across arms; non-inferiority honoured) → no difference
(a significantly cheaper variant only where non-inferiority at the declared margin is shown, else control)
→ every guardrail of the arm readable → segments (a move that loses on a declared segment is a
``segmentation`` decision). Statistics come from ``routing_agent.stats``; the stores
aggregate per unit where the data lives (``routing_agent.evaluation.metrics``).
"""

from __future__ import annotations

__all__ = [
    "DecisionKind",
    "Evaluation",
    "EvaluationSettings",
    "WatchEvaluator",
    "aevaluate",
    "decide",
    "evaluate",
    "load_schema",
    "validate_report",
    "write_report",
]

from routing_agent.evaluation.analysis import Evaluation
from routing_agent.evaluation.decision import DecisionKind
from routing_agent.evaluation.evaluator import aevaluate, evaluate
from routing_agent.evaluation.policy import decide
from routing_agent.evaluation.report import load_schema, validate_report, write_report
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.evaluation.watching import WatchEvaluator
