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

from routing_agent.scoring.base import BaseScorer, Pair, Sample, Score, Scorer, Status, observations
from routing_agent.scoring.citations import (
    CitationCorrectnessScorer,
    CitationStabilityScorer,
    citation_list,
    exact_set,
    jaccard,
    rbo,
)
from routing_agent.scoring.events import ROLE, ROLE_JUDGE, ROLE_SHADOW, record_evaluation
from routing_agent.scoring.exact import ExactScorer
from routing_agent.scoring.factory import build_scorer, build_scorers
from routing_agent.scoring.fuzzy import FuzzyScorer
from routing_agent.scoring.json_fields import JsonFieldsScorer
from routing_agent.scoring.json_schema import JsonSchemaScorer
from routing_agent.scoring.judge import LikertJudge, PairwiseJudge
from routing_agent.scoring.node import ScoringNode
from routing_agent.scoring.outputs import OutputRecord, read_records, write_records
from routing_agent.scoring.runner import ScoringResult, ascore_records, score_records
from routing_agent.scoring.shadow import ShadowMirror, ShadowResult, ShadowRunner

__all__ = [
    "ROLE",
    "ROLE_JUDGE",
    "ROLE_SHADOW",
    "BaseScorer",
    "CitationCorrectnessScorer",
    "CitationStabilityScorer",
    "ExactScorer",
    "FuzzyScorer",
    "JsonFieldsScorer",
    "JsonSchemaScorer",
    "LikertJudge",
    "OutputRecord",
    "Pair",
    "PairwiseJudge",
    "Sample",
    "Score",
    "Scorer",
    "ScoringNode",
    "ScoringResult",
    "ShadowMirror",
    "ShadowResult",
    "ShadowRunner",
    "Status",
    "ascore_records",
    "build_scorer",
    "build_scorers",
    "citation_list",
    "exact_set",
    "jaccard",
    "observations",
    "rbo",
    "read_records",
    "record_evaluation",
    "score_records",
    "write_records",
]
