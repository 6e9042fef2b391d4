"""What every reference workflow shares: its descriptor, safe agent calls, prompt sections, datasets, graph.

An agent never lets an LLM failure crash the graph: ``ask`` catches the provider's exception (LangChain's
``ModelError`` family, output-parsing errors, refusals) and returns it as data, which the node records in
``state["errors"]`` / ``state["refusals"]`` (``failure_update``) before it continues or ends the session with
an error outcome. Every reference graph is ``route → agents… → record`` (``pipeline_graph``).
"""

from __future__ import annotations

__all__ = [
    "AgentError",
    "Reply",
    "WorkflowSpec",
    "ask",
    "failure_update",
    "first_mentions",
    "listed_entries",
    "load_jsonl",
    "parse_sections",
    "pipeline_graph",
    "recorded_outcome",
    "register_oracle_once",
    "render_sections",
    "shipped_config",
    "with_oracle",
]

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent.errors import RoutingAgentError
from routing_agent.graph import RoutingNode, routed_model
from routing_agent.providers.refusal import is_refusal
from routing_agent.providers.tasks import oracles

logger = logging.getLogger("routing_agent.workflows")


def shipped_config(name: str) -> Path:
    """The example config ``name`` shipped in the package (the repository's ``configs/``)."""
    return Path(str(resources.files("routing_agent.configs").joinpath(name)))


class AgentError(TypedDict):
    """One failed LLM call, as recorded in ``state["errors"]``."""

    agent: str
    type: str
    message: str
    retryable: bool


@dataclass(frozen=True)
class Reply:
    """The outcome of one agent's LLM call: a message (and parsed object) or an error, never both."""

    message: AIMessage | None = None
    parsed: Any = None
    error: AgentError | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        """True when the call returned a usable answer (no error, no refusal)."""
        return self.error is None and not self.refused

    @property
    def text(self) -> str:
        """The message text ('' when there is none)."""
        return self.message.text if self.message is not None else ""


def ask(
    state: Any,
    config: RunnableConfig,
    agent: str,
    messages: Sequence[BaseMessage],
    *,
    schema: type | None = None,
    stream: bool = False,
) -> Reply:
    """Call ``agent``'s routed model; structured output when ``schema`` is given; with ``stream`` the reply
    is streamed and the chunks joined (so telemetry measures its time to first token). Never raises."""
    try:
        llm = routed_model(state, config, agent=agent)
        if schema is not None:
            return Reply(parsed=llm.with_structured_output(schema).invoke(list(messages), config))
        if stream:
            message: Any = None
            for chunk in llm.stream(list(messages), config):
                message = chunk if message is None else message + chunk
            if message is None:
                message = AIMessage(content="")
        else:
            message = llm.invoke(list(messages), config)
        assert isinstance(message, AIMessage)
        return Reply(message=message, refused=is_refusal(message))
    except ModelRefusalError as exc:
        raw = exc.raw_message if isinstance(exc.raw_message, AIMessage) else None
        return Reply(message=raw, refused=True)
    except OutputParserException as exc:
        return Reply(error=_error(agent, exc))
    except RoutingAgentError:  # a config problem (e.g. no model declared for the agent): fail loudly
        raise
    except Exception as exc:  # a provider error of any SDK: record it, never crash the session
        return Reply(error=_error(agent, exc))


def _error(agent: str, exc: Exception) -> AgentError:
    logger.debug("agent %s: %s", agent, exc)
    return AgentError(
        agent=agent,
        type=type(exc).__name__,
        message=str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__,
        retryable=bool(getattr(exc, "is_retryable", False)),
    )


def failure_update(reply: Reply, agent: str) -> dict[str, Any]:
    """The state update recording ``agent``'s failed or refused call (empty when the call succeeded)."""
    if reply.error is not None:
        return {"errors": [reply.error]}
    return {"refusals": [agent]} if reply.refused else {}


def first_mentions(pattern: re.Pattern[str], text: str, allowed: Sequence[str] | None = None) -> list[str]:
    """Matches of ``pattern`` in ``text`` (only those in ``allowed``, when given), each once, in order."""
    out: list[str] = []
    for found in pattern.findall(text):
        if (allowed is None or found in allowed) and found not in out:
            out.append(found)
    return out


def listed_entries(ids: Sequence[str], rows: Mapping[str, Mapping[str, Any]]) -> str:
    """Rows (documents, policies) as a prompt lists them: ``[id] title: text`` per line."""
    return "\n".join(f"[{key}] {rows[key]['title']}: {rows[key]['text']}" for key in ids)


def render_sections(sections: Mapping[str, str]) -> str:
    """``### Title`` blocks: the prompt layout every reference workflow uses."""
    return "\n\n".join(f"### {title}\n{body}" for title, body in sections.items())


def parse_sections(text: str) -> dict[str, str]:
    """Inverse of ``render_sections``."""
    out: dict[str, str] = {}
    title: str | None = None
    lines: list[str] = []
    for line in text.split("\n"):
        if line.startswith("### "):
            if title is not None:
                out[title] = "\n".join(lines).strip()
            title, lines = line[4:].strip(), []
        else:
            lines.append(line)
    if title is not None:
        out[title] = "\n".join(lines).strip()
    return out


@cache
def _read_jsonl(path: str) -> tuple[dict[str, Any], ...]:
    with open(path, encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def load_jsonl(path: Path) -> tuple[dict[str, Any], ...]:
    """A shipped dataset file (cached; treat the rows as read-only)."""
    return _read_jsonl(str(path))


@dataclass(frozen=True)
class WorkflowSpec:
    """A reference workflow: how to build its graph, its dataset, and how a session starts and ends.

    ``build(config, store)`` returns the compiled graph (routing node first); ``items()`` the dataset rows;
    ``session_input(item, session_id)`` the graph input for one session (no ground truth in it except under
    ``reference``, which agents never read); ``outcome(state)`` the session's metrics.
    """

    name: str
    description: str
    default_config: Path
    unit_key: str
    build: Callable[..., Any]
    items: Callable[[], Sequence[Mapping[str, Any]]]
    session_input: Callable[[Mapping[str, Any], str], dict[str, Any]]
    outcome: Callable[[Mapping[str, Any]], dict[str, Any]]
    register_oracle: Callable[[], None]
    agents: tuple[str, ...] = ()
    """The agent (node) names that call ``routed_model``."""
    headline: tuple[str, ...] = ()
    """Outcome metrics a summary shows first."""


def pipeline_graph(
    state: type[Any],
    routing: RoutingNode,
    agents: Sequence[tuple[str, Callable[..., Any]]],
    *,
    skip_last_unless: str,
    outcome: Callable[[Any], dict[str, Any]],
) -> Any:
    """``route → agents… → record``, compiled: the agents run in order, except that the last one is skipped
    when the one before left ``state[skip_last_unless]`` empty; ``record`` stores ``outcome(state)`` under
    ``"outcome"``."""
    names = [name for name, _ in agents]
    last = names[-1]

    def after(state: Mapping[str, Any]) -> str:
        return last if state.get(skip_last_unless) else "record"

    def record(state: Mapping[str, Any]) -> dict[str, Any]:
        return {"outcome": outcome(state)}

    graph = StateGraph(state)
    graph.add_node("route", routing)
    for name, agent in agents:
        graph.add_node(name, agent)
    graph.add_node("record", record)
    graph.add_edge(START, "route")
    chain = ["route", *names[:-1]]
    for source, target in pairwise(chain):
        graph.add_edge(source, target)
    graph.add_conditional_edges(chain[-1], after, [last, "record"])
    graph.add_edge(last, "record")
    graph.add_edge("record", END)
    return graph.compile()


def register_oracle_once(name: str, make: Callable[[], Any]) -> None:
    """Let simulated models answer a workflow's prompts: ``make()`` becomes oracle ``name`` unless one is."""
    if name not in oracles.names():
        oracles.register(name, make())


def with_oracle(build_graph: Callable[..., Any], register_oracle: Callable[[], None]) -> Callable[..., Any]:
    """``build_graph(config, store=None, **kwargs)`` that first calls ``register_oracle()``."""

    def build(config: Any, store: Any = None, **kwargs: Any) -> Any:
        register_oracle()
        return build_graph(config, store, **kwargs)

    return build


def recorded_outcome(state: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics ``record`` stored in a session's final state (``{}`` when there are none)."""
    return dict(state.get("outcome") or {})
