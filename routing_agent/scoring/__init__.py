"""Scorers: turn agent outputs into observations the evaluator can test.

Declared per experiment in YAML (``scorers:``; see ``factory``), run inline after an agent
(``ScoringNode``), offline over stored outputs (``score_records``), or on shadow/replay pairs of control and
test for the same input (``ShadowRunner``, ``ShadowMirror``).

Types: ``exact`` and ``fuzzy`` (rapidfuzz) text match, ``json_schema`` validity (parse and schema failures
counted apart), ``json_fields`` field-level extraction accuracy, ``judge_likert`` (1–5 against a rubric) and
``judge_pairwise`` (both orders, position bias reported) with any catalog model as judge, and
``citations``: stability against control (Jaccard, exact set, rank-biased overlap) or correctness against
gold sources. A judge that returns no usable verdict after one retry records ``<name>.invalid`` = 1,
excluded from the metric, never raised.
"""

__all__: list[str] = []  # import from the modules named above; the supported names are top-level

from routing_agent.scoring import config_checks as _config_checks  # noqa: F401  (registers the check)
