"""``routed_model``: the chat model an agent node should use for the current unit.

Resolution for agent ``a`` (its LangGraph node name unless given):

1. an enrolled experiment whose scope includes ``a`` → the variant's model (``agent_models[a]`` if set);
2. an experiment that applies to ``a`` but did not enrol the unit → ``a``'s default (YAML ``agents.a``, else
   ``default_model``), else the ``default`` argument, else the experiment's control model;
3. no experiment applies → ``a``'s default, else the ``default`` argument; with none of those a
   ``ModelResolutionError`` says what to declare.

The assignments come from ``graph.resolution.call_routing``: the state's ``routing`` channel, else the graph's
channel (``Send`` branches), else the caller's (sub-agents), else a routing node deciding from the unit id —
then corrected by the experiment's live state (a rollback reaches checkpointed threads on their next call).

The model comes from the process-wide ``catalog`` (cached per model id and params) with routing metadata
attached, which LangChain passes to every callback, so telemetry knows experiment, variant and unit.
"""

from __future__ import annotations

__all__ = ["arouted_model", "resolve_choice", "routed_model"]

from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.runnables import RunnableConfig

from routing_agent.assignment.types import Assignment, ModelChoice
from routing_agent.config.targeting import matches
from routing_agent.errors import ModelResolutionError
from routing_agent.graph import metadata as meta
from routing_agent.graph.agent_outputs import with_agent_outputs
from routing_agent.graph.resolution import acall_routing, call_routing, router_defaults
from routing_agent.graph.state import DEFAULTS_KEY
from routing_agent.graph.units import attribute_lookup, current_config
from routing_agent.providers.catalog import ModelCatalog, catalog

_GIVEN_MODEL = "\x00default-model"  # marks the ``default`` chat model passed by the caller


def _agent_name(config: RunnableConfig | None, agent: str | None) -> str | None:
    if agent is not None:
        return agent
    config = current_config(config)
    if config is None:  # called outside a LangGraph node
        return None
    node = (config.get("metadata") or {}).get("langgraph_node")
    return str(node) if node is not None else None


def _read(state: Any, key: str) -> Any:
    return state.get(key) if isinstance(state, Mapping) else getattr(state, key, None)


def _applies(record: Assignment, agent: str | None) -> bool:
    scope = record.get("scope") or []
    return not scope or (agent is not None and agent in scope)


def _default(defaults: Mapping[str, ModelChoice], agent: str | None) -> ModelChoice | None:
    if agent is not None and agent in defaults:
        return defaults[agent]
    return defaults.get("*")


def _retargeted(record: Assignment, lookup: Callable[[str], Any] | None) -> Assignment:
    """``record`` with the variant of its first ``targeted`` rule the unit matches now (segment ship)."""
    rules = record.get("targeted") or []
    if not rules or lookup is None:
        return record
    for rule in rules:
        when = {k: tuple(v) for k, v in rule["when"].items()}
        if matches(when, lookup):
            return {
                **record,
                "variant": rule["variant"],
                "model": rule["model"],
                "params": dict(rule["params"]),
                "agent_models": dict(rule["agent_models"]),
            }
    return record


def resolve_choice(
    routing: Mapping[str, Assignment],
    defaults: Mapping[str, ModelChoice],
    agent: str | None,
    default: ModelChoice | None = None,
    lookup: Callable[[str], Any] | None = None,
) -> tuple[ModelChoice, Assignment | None]:
    """The model choice for ``agent`` and the assignment that decided it (None when none applies).

    A record of a segment-level ship carries its rule (``targeted``): ``lookup`` reads the unit's attributes
    now (state, then run context), so a segment learned after routing — a classifier's category — decides
    this call's model.
    """
    applicable = [_retargeted(r, lookup) for r in routing.values() if _applies(r, agent)]
    enrolled = [r for r in applicable if r.get("variant") is not None]
    if enrolled:
        record = enrolled[0]
        overrides = record.get("agent_models") or {}
        model = overrides.get(agent, record["model"]) if agent is not None else record["model"]
        assert model is not None
        return {"model": model, "params": dict(record.get("params") or {})}, record
    if applicable:
        record = applicable[0]
        chosen = _default(defaults, agent) or default or record.get("fallback")
        assert chosen is not None
        return chosen, record
    fallback = _default(defaults, agent) or default
    if fallback is None:
        raise ModelResolutionError(
            f"agent '{agent}' has no model: no experiment applies to it and no default is declared. "
            f"Declare 'agents: {{{agent}: {{model: …}}}}' or 'default_model' in the YAML, or pass "
            "routed_model(..., default='provider:model')."
        )
    return fallback, None


def routed_model(
    state: Any,
    config: RunnableConfig | None = None,
    *,
    agent: str | None = None,
    default: str | BaseChatModel | None = None,
    models: ModelCatalog | None = None,
) -> BaseChatModel:
    """The chat model ``agent`` must use for the unit in ``state`` (see module docstring for the rules).

    ``agent`` defaults to the LangGraph node name from ``config`` (or the current node's config).
    ``default`` is a model id or a ready chat model for agents no experiment or YAML default covers.
    """
    name = _agent_name(config, agent)
    routing = call_routing(state, current_config(config), agent=name)
    lookup = with_agent_outputs(state, routing, attribute_lookup(state, config))  # segment ships
    return _build(state, routing, name, default, models, lookup)


async def arouted_model(
    state: Any,
    config: RunnableConfig | None = None,
    *,
    agent: str | None = None,
    default: str | BaseChatModel | None = None,
    models: ModelCatalog | None = None,
) -> BaseChatModel:
    """Async twin of ``routed_model``: any store round trip (live state, a fallback decision) is awaited."""
    name = _agent_name(config, agent)
    routing = await acall_routing(state, current_config(config), agent=name)
    lookup = with_agent_outputs(state, routing, attribute_lookup(state, config))  # segment ships
    return _build(state, routing, name, default, models, lookup)


def _build(  # noqa: PLR0917
    state: Any,
    routing: Mapping[str, Assignment],
    name: str | None,
    default: str | BaseChatModel | None,
    models: ModelCatalog | None,
    lookup: Callable[[str], Any] | None = None,
) -> BaseChatModel:
    default_choice: ModelChoice | None = None
    if isinstance(default, str):
        default_choice = {"model": default, "params": {}}
    elif isinstance(default, BaseChatModel):
        default_choice = {"model": _GIVEN_MODEL, "params": {}}
    defaults = _read(state, DEFAULTS_KEY) or router_defaults()
    choice, record = resolve_choice(routing, defaults, name, default_choice, lookup)
    if choice["model"] == _GIVEN_MODEL:
        assert isinstance(default, BaseChatModel)
        return _with_metadata(default, name, _model_id_of(default), record)
    model = (models or catalog).get(choice["model"], choice["params"])
    return _with_metadata(model, name, choice["model"], record)


def _model_id_of(model: BaseChatModel) -> str:
    provider = getattr(model, "_llm_type", "unknown")
    name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
    return f"{provider}:{name}"


def _with_metadata(
    model: BaseChatModel, agent: str | None, model_id: str, record: Assignment | None
) -> BaseChatModel:
    info: dict[str, Any] = {meta.MODEL_ID: model_id}
    if agent is not None:
        info[meta.AGENT] = agent
    if record is not None:
        info[meta.EXPERIMENT] = record["experiment"]
        info[meta.UNIT] = record["unit"]
        info[meta.REASON] = record["reason"]
        if record.get("unit_id") is not None:
            info[meta.UNIT_ID] = record["unit_id"]
        if record.get("variant") is not None:
            info[meta.VARIANT] = record["variant"]
        if record.get("segments"):
            info[meta.SEGMENTS] = dict(record["segments"])
    merged = {**(model.metadata or {}), **info}
    return model.model_copy(update={"metadata": merged})
