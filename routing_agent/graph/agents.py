"""Prebuilt agents: ``RoutingMiddleware`` for LangChain v1 ``create_agent`` and ``routed_agent_model`` for
LangGraph's ``create_react_agent``.

``create_agent(model, tools, middleware=[RoutingMiddleware(experiments, store=…)], name="researcher")``:

* before the agent runs, the unit is resolved **once** (a checkpointed thread keeps its record) and written to
  the agent's ``routing`` channel — the middleware declares that channel and the experiments' unit keys and
  segment keys, so no state schema is declared by hand;
* every model call swaps the model with ``request.override(model=…)`` to the unit's variant for the agent
  named by ``create_agent(name=…)`` (or ``agent=``), never the internal node ``model``; the experiment's live
  state wins (a rollback reaches the next call of every thread);
* every tool call runs inside ``inherited_routing``, so a sub-agent called from a tool inherits the parent's
  assignment with no forwarding.

``create_react_agent(routed_agent_model("researcher", tools=tools), tools)`` does the same per model call
for LangGraph's prebuilt agent (the unit comes from the state's channel, the caller, or the unit source).
"""

from __future__ import annotations

__all__ = ["RoutingMiddleware", "routed_agent_model"]

import types
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NotRequired

from langchain.agents import AgentState
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.runtime import Runtime

from routing_agent.assignment.types import ModelChoice
from routing_agent.graph.models import arouted_model, routed_model
from routing_agent.graph.node import ExperimentsLike, RoutingNode, StoreLike
from routing_agent.graph.resolution import found_routing, inherited_routing
from routing_agent.graph.state import DEFAULTS_KEY, ROUTING_KEY, Routing
from routing_agent.graph.units import current_config, read_field
from routing_agent.providers.catalog import ModelCatalog


def _agent_state(node: RoutingNode) -> type:
    keys = {node.unit_key or s.state_key for s in node.config.experiments if s.unit_source == "state"}
    keys |= {name for s in node.config.experiments for name in s.segments}
    annotations: dict[str, Any] = {
        ROUTING_KEY: NotRequired[Routing],
        DEFAULTS_KEY: NotRequired[dict[str, ModelChoice]],
        **{key: NotRequired[Any] for key in sorted(keys)},
    }

    def body(ns: dict[str, Any]) -> None:
        ns.update({"__annotations__": annotations, "__module__": __name__})

    return types.new_class("RoutingAgentState", (AgentState,), {}, body)


def _agent_name(agent: str | None) -> str | None:
    if agent is not None:
        return agent
    config = current_config(None)
    metadata = (config or {}).get("metadata") or {}
    name = metadata.get("lc_agent_name") or metadata.get("langgraph_node")
    return str(name) if name else None


class RoutingMiddleware(AgentMiddleware[Any, Any]):
    """Routes a ``create_agent`` agent's model calls to the unit's variant (see the module docstring).

    Args:
        experiments: a ``RoutingNode`` (share it with the rest of your graph) or what it takes: a loaded
            config, spec(s) or a YAML path.
        store: the assignment store or URL when ``experiments`` is not a ``RoutingNode``.
        agent: the agent's name in the YAML (default: ``create_agent(name=…)``).
        models: a model catalog (default: the process-wide one).
    """

    def __init__(
        self,
        experiments: RoutingNode | ExperimentsLike,
        *,
        store: StoreLike = None,
        agent: str | None = None,
        models: ModelCatalog | None = None,
    ) -> None:
        super().__init__()
        node = experiments if isinstance(experiments, RoutingNode) else RoutingNode(experiments, store)
        self.router = node
        self.agent = agent
        self.models = models
        self.state_schema = _agent_state(node)
        self.tools: Sequence[BaseTool] = []

    # -- resolve once per unit ----------------------------------------------------------------------

    def _inherited(self, state: Any, config: RunnableConfig | None) -> dict[str, Any] | None:
        if read_field(state, ROUTING_KEY):
            return None
        found = found_routing({}, config) if config is not None else {}
        return {ROUTING_KEY: found} if found else None

    def before_agent(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Write the unit's assignments to the agent's state (inherited from a caller when there is one)."""
        config = current_config(None)
        return self._inherited(state, config) or self.router.invoke(state, config) or None

    async def abefore_agent(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Async twin of ``before_agent``."""
        config = current_config(None)
        return self._inherited(state, config) or await self.router.ainvoke(state, config) or None

    # -- swap the model per call --------------------------------------------------------------------

    def _routed(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        agent = _agent_name(self.agent)
        model = routed_model(request.state, None, agent=agent, default=request.model, models=self.models)
        return request.override(model=model)

    async def _arouted(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        agent = _agent_name(self.agent)
        model = await arouted_model(
            request.state, None, agent=agent, default=request.model, models=self.models
        )
        return request.override(model=model)

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        """Call the model of the unit's variant."""
        return handler(self._routed(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """Async twin of ``wrap_model_call``."""
        return await handler(await self._arouted(request))

    # -- sub-agents inherit -------------------------------------------------------------------------

    def wrap_tool_call(self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Any]) -> Any:
        """Run the tool with the agent's routing inherited (sub-agents called from it follow it)."""
        with inherited_routing(request.state):
            return handler(request)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[Any]]
    ) -> Any:
        """Async twin of ``wrap_tool_call``."""
        with inherited_routing(request.state):
            return await handler(request)


def routed_agent_model(
    agent: str,
    *,
    tools: Sequence[BaseTool | Callable[..., Any] | dict[str, Any]] = (),
    default: str | BaseChatModel | None = None,
    models: ModelCatalog | None = None,
) -> Callable[[Any, Runtime[Any]], Runnable[LanguageModelInput, BaseMessage]]:
    """A dynamic model for ``create_react_agent``: the unit's variant for ``agent``, with ``tools`` bound."""

    def select(state: Any, runtime: Runtime[Any]) -> Runnable[LanguageModelInput, BaseMessage]:
        model = routed_model(state, None, agent=agent, default=default, models=models)
        return model.bind_tools(list(tools)) if tools else model

    return select
