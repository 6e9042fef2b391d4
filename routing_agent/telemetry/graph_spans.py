"""The span tree of a LangGraph run: workflow, agent, step and route spans, and the conversation id.

Built from LangChain's ``run_id``/``parent_run_id`` (right under ``Send`` fan-out, subgraphs, threads and
asyncio, where context variables alone are not):

* **workflow** — ``invoke_workflow {graph name}``, the root run of a graph (its ``compile(name=...)``; an
  unnamed graph, LangGraph's default ``LangGraph``, takes ``workflow_name`` when the handler has one);
* **agent** — ``invoke_agent {name}`` with ``gen_ai.agent.name``. Which nodes are agents:

  1. a ``create_agent`` agent is one, under its own name (``create_agent(..., name="researcher")``), whether
     it is the graph, a node of it, or a sub-agent a tool calls; its ``model``/``tools`` nodes are steps;
  2. a node declared one: ``agents={...}`` given to the handler (then *only* those nodes, plus
     ``create_agent`` agents), an agent the YAML names (``agents:``, an experiment's ``scope``), or
     ``graph.add_node(name, fn, metadata={"routing_agent.node_role": "agent"})``;
  3. otherwise a node becomes an agent when it calls a chat model itself (not inside another agent), and
     a node marked ``"routing_agent.node_role": "step"`` never does (LangGraph passes node metadata on to
     the nodes of a subgraph it runs, so the mark covers those too);

* **step** — any other node (``record``, ``join``, a subgraph wrapper), named after the node;
* **route** — the routing node's step, renamed ``route {node}`` once its output shows the decision.

Every span of a session carries ``gen_ai.conversation.id``: LangGraph's ``thread_id`` when the run has one,
else the session unit id (known once the routing node ran; earlier spans get it when they end). Workflow,
agent, step and route spans also carry ``openinference.span.kind`` and ``mlflow.spanType``
(``telemetry.backends``).
"""

from __future__ import annotations

__all__ = ["NODE_ROLE", "GraphSpans", "Run"]

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer

from routing_agent.telemetry import backends
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.spans import assignment_attributes

NODE_ROLE = "routing_agent.node_role"
"""Node metadata: ``"agent"`` or ``"step"`` (``add_node(..., metadata={NODE_ROLE: "step"})``)."""

_ROUTING_KEY = "routing"  # routing_agent.graph.state.ROUTING_KEY (kept literal: no import cycle at load)
_ROUTING_NODE_KEYS = frozenset({_ROUTING_KEY, "routing_defaults"})  # all a RoutingNode ever returns
_CREATE_AGENT = "langchain_create_agent"
_UNNAMED = "LangGraph"


@dataclass(slots=True)
class Run:
    """One open LangChain run: a span of ours, or a transparent run that passes its parent's context on."""

    span: Span | None
    ctx: Context | None  # the context children are started in
    ns: str | None  # LangGraph checkpoint namespace (identifies a node task)
    agent: Run | None = None  # the nearest agent run (itself for agent runs)
    root: Run | None = None  # the workflow (or standalone agent) run
    node_run: Run | None = None  # the nearest node span run (itself for node runs)
    node: str | None = None
    role: str | None = None  # declared node role: "agent" | "step" | None
    routed: bool = False  # agent span already carries routing attributes
    conversation: str | None = None  # root runs: the conversation id, once known
    late: list[Span] = field(default_factory=list)  # root runs: spans still missing the conversation id


class GraphSpans:
    """Starts and ends the non-LLM spans of a graph run (see the module docstring)."""

    def __init__(
        self,
        tracer: Tracer,
        agents: Collection[str] | None = None,
        declared: Collection[str] = (),
        workflow_name: str | None = None,
    ) -> None:
        self.tracer = tracer
        self.exact = agents is not None  # only the given agents (and create_agent agents) are agents
        self.agents = frozenset(agents if agents is not None else declared)
        self.workflow_name = workflow_name

    # -- starting runs ------------------------------------------------------------------------------

    def root(self, name: str, md: Mapping[str, Any]) -> Run:
        """The root run of a graph (or of a standalone ``create_agent`` agent)."""
        thread = md.get("thread_id")
        conversation = str(thread) if thread is not None else None
        if md.get("ls_integration") == _CREATE_AGENT:
            agent_name = str(md.get("lc_agent_name") or name)
            attrs = self._agent_attrs(agent_name)
            op_name = f"{sc.OP_INVOKE_AGENT} {agent_name}"
        else:
            if name == _UNNAMED and self.workflow_name:
                name = self.workflow_name
            attrs = {
                sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW,
                sc.GEN_AI_WORKFLOW_NAME: name,
                **backends.workflow_kind(),
            }
            op_name = f"{sc.OP_INVOKE_WORKFLOW} {name}"
        if conversation is not None:
            attrs[sc.GEN_AI_CONVERSATION_ID] = conversation
        span = self.tracer.start_span(op_name, kind=SpanKind.INTERNAL, attributes=attrs)
        run = Run(span, trace.set_span_in_context(span), md.get("langgraph_checkpoint_ns"))
        run.root, run.conversation = run, conversation
        if md.get("ls_integration") == _CREATE_AGENT:
            run.agent = run
        return run

    def child(self, parent: Run, name: str, md: Mapping[str, Any]) -> Run:
        """A run inside a graph: a node span, a sub-agent span, or a transparent run."""
        node = md.get("langgraph_node")
        ns = md.get("langgraph_checkpoint_ns")
        agent_name = md.get("lc_agent_name")
        if md.get("ls_integration") == _CREATE_AGENT and agent_name and name == agent_name:
            enclosing = parent.agent
            if enclosing is None or enclosing.node != agent_name:
                node_run = parent.node_run
                if node_run is not None and node_run is parent and node_run.ns == ns:
                    self.make_agent(node_run, str(agent_name))  # create_agent added as a node
                    return self._transparent(parent, ns)
                return self._node(parent, str(agent_name), ns, role="agent")
        if node is not None and ns is not None and ns != parent.ns and name == node:
            role = md.get(NODE_ROLE)
            if parent.agent is not None:
                role = "step"  # a node inside an agent (create_agent's model/tools) is one of its steps
            elif role is None and str(node) in self.agents:
                role = "agent"
            return self._node(parent, str(node), ns, role=role if isinstance(role, str) else None)
        return self._transparent(parent, ns)

    def transparent(self, parent: Run | None) -> Run:
        """A run with no span of its own (tools, retrievers, sequences)."""
        if parent is None:
            return Run(None, None, None)
        return self._transparent(parent, None)

    def _transparent(self, parent: Run, ns: Any) -> Run:
        return Run(
            None, parent.ctx, ns if ns is not None else parent.ns, parent.agent, parent.root, parent.node_run
        )

    def _node(self, parent: Run, node: str, ns: Any, *, role: str | None) -> Run:
        root = parent.root
        attrs: dict[str, Any] = dict(self._agent_attrs(node) if role == "agent" else backends.step_kind())
        if root is not None and root.conversation is not None:
            attrs[sc.GEN_AI_CONVERSATION_ID] = root.conversation
        name = f"{sc.OP_INVOKE_AGENT} {node}" if role == "agent" else node
        span = self.tracer.start_span(name, context=parent.ctx, kind=SpanKind.INTERNAL, attributes=attrs)
        run = Run(span, trace.set_span_in_context(span), ns, parent.agent, root, node=node, role=role)
        run.node_run = run
        if role == "agent":
            run.agent = run
        if root is not None and root.conversation is None:
            root.late.append(span)
        return run

    @staticmethod
    def _agent_attrs(name: str) -> dict[str, Any]:
        return {
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
            sc.GEN_AI_AGENT_NAME: name,
            **backends.agent_kind(),
        }

    # -- agents and conversations -------------------------------------------------------------------

    def make_agent(self, run: Run, name: str) -> None:
        """Turn a node span into an agent span (a node found to be an agent once it runs)."""
        run.agent, run.role, run.node = run, "agent", name
        if run.span is not None:
            run.span.update_name(f"{sc.OP_INVOKE_AGENT} {name}")
            run.span.set_attributes(self._agent_attrs(name))

    def agent_for_call(self, parent: Run) -> Run | None:
        """The agent run a chat-model call under ``parent`` belongs to (making its node one if needed)."""
        if parent.agent is not None:
            return parent.agent
        node_run = parent.node_run
        if node_run is None:
            return None
        if node_run.agent is node_run:
            return node_run
        if node_run.role is None and not self.exact and node_run.node is not None:
            self.make_agent(node_run, node_run.node)
            return node_run
        return None

    def learn_conversation(self, run: Run | None, conversation: str | None) -> None:
        """Record the session's conversation id on its root and every span started before it was known."""
        root = run.root if run is not None else None
        if root is None or conversation is None or root.conversation is not None:
            return
        root.conversation = conversation
        for span in (root.span, *root.late):
            if span is not None and span.is_recording():
                span.set_attribute(sc.GEN_AI_CONVERSATION_ID, conversation)
        root.late.clear()

    # -- ending runs --------------------------------------------------------------------------------

    def node_outputs(self, run: Run, outputs: Mapping[str, Any]) -> None:
        """A routing node's output: rename it ``route``, put the decision on it and the workflow span."""
        span = run.span
        if span is None or run.agent is run or not outputs.keys() <= _ROUTING_NODE_KEYS:
            return
        routing = outputs.get(_ROUTING_KEY)
        if not isinstance(routing, Mapping) or not routing:
            return
        records = [r for r in routing.values() if isinstance(r, Mapping) and "experiment" in r]
        if not records:
            return
        span.update_name(f"route {run.node}")
        span.set_attributes(
            {sc.GEN_AI_OPERATION_NAME: "route", sc.GEN_AI_AGENT_NAME: str(run.node), **backends.route_kind()}
        )
        targets = [span] + ([run.root.span] if run.root is not None and run.root.span is not None else [])
        summary = [f"{r['experiment']}={r.get('variant') or '-'} ({r.get('reason')})" for r in records]
        for target in targets:
            target.set_attribute(sc.RA_ASSIGNMENTS, summary)
            if len(records) == 1:
                target.set_attributes(assignment_attributes(records[0]))
        session = next((r for r in records if r.get("unit") == "session" and r.get("unit_id")), None)
        if session is not None:
            self.learn_conversation(run, str(session["unit_id"]))
