# The public surface, one name per line. Read by type checkers AND, at run time, by routing_agent/__init__.py
# (lazy_loader.attach_stub): each name is imported from its module on first use, so `import routing_agent`
# and the hot path (RoutingNode, routed_model, instrument, load_experiments) load no statistics, schema or CLI
# library. Adding a public name is one line here (and one in tests/test_public_api.py, which pins the list).
# Only `from .module import Name as Name` lines belong here.

from .assignment.types import Assignment as Assignment
from .assignment.types import Reason as Reason
from .config.spec import ExperimentsConfig as ExperimentsConfig
from .config.spec import ExperimentSpec as ExperimentSpec
from .config.spec import ExperimentStatus as ExperimentStatus
from .control.review import ReviewQueue as ReviewQueue
from .control.rollout import Rollout as Rollout
from .control.watch import Watcher as Watcher
from .errors import ConfigError as ConfigError
from .errors import ConfigIssue as ConfigIssue
from .errors import ExperimentNotFound as ExperimentNotFound
from .errors import MissingDependency as MissingDependency
from .errors import ModelResolutionError as ModelResolutionError
from .errors import RoutingAgentError as RoutingAgentError
from .errors import StateTransitionError as StateTransitionError
from .errors import StoreError as StoreError
from .errors import StoreUnavailable as StoreUnavailable
from .evaluation.analysis import Evaluation as Evaluation
from .evaluation.decision import Decision as Decision
from .evaluation.decision import DecisionKind as DecisionKind
from .evaluation.evaluator import evaluate as evaluate
from .evaluation.report import write_report as write_report
from .graph.agents import RoutingMiddleware as RoutingMiddleware
from .graph.agents import routed_agent_model as routed_agent_model
from .graph.models import arouted_model as arouted_model
from .graph.models import routed_model as routed_model
from .graph.node import ReloadResult as ReloadResult
from .graph.node import RoutingNode as RoutingNode
from .graph.outcomes import arecord_outcome as arecord_outcome
from .graph.outcomes import record_outcome as record_outcome
from .graph.resolution import inherited_routing as inherited_routing
from .graph.state import Routing as Routing
from .graph.state import RoutingState as RoutingState
from .loading import check_experiments as check_experiments
from .loading import load_experiments as load_experiments
from .loading import load_experiments_from_string as load_experiments_from_string
from .providers.catalog import catalog as catalog
from .scoring.factory import build_scorers as build_scorers
from .scoring.node import ScoringNode as ScoringNode
from .scoring.runner import score_records as score_records
from .scoring.shadow import ShadowRunner as ShadowRunner
from .stores import AssignmentStore as AssignmentStore
from .stores import ObservationStore as ObservationStore
from .stores import open_observation_store as open_observation_store
from .stores import open_store as open_store
from .stores.assignments.state import ExperimentState as ExperimentState
from .stores.observations.observation import Observation as Observation
from .telemetry.callbacks import RoutingTelemetry as RoutingTelemetry
from .telemetry.exporters import configure_exporters as configure_exporters
from .telemetry.install import instrument as instrument
from .telemetry.install import instrumented as instrumented
from .telemetry.install import uninstrument as uninstrument

__version__: str
