"""Who a chat-model call is, read from its LangChain run metadata, built once per distinct identity.

Everything about a call that does not change from one call to the next of the same model in the same
experiment variant (provider, models, experiment, variant, unit kind, reason, agent, role, request
parameters) is a ``CallIdentity``: read from the metadata, converted, and turned into the span name, the
span's start attributes, the metric attribute sets and the resolved price *once*, then shared by every call
with the same identity. Per call only the unit id, conversation id and segments are read.
"""

from __future__ import annotations

__all__ = ["CallIdentity", "IdentityCache"]

import threading
from collections.abc import Mapping
from typing import Any

from routing_agent.assignment.types import NOT_RANDOMIZED
from routing_agent.graph import metadata as meta
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.pricing import ModelPrice

_UNRESOLVED: Any = object()
_MAX_IDENTITIES = 4096


class CallIdentity:
    """The per-(model, variant, agent) facts of a call and the attribute sets derived from them."""

    __slots__ = (
        "agent",
        "experiment",
        "live",
        "max_tokens",
        "metric",
        "model_id",
        "operation",
        "price",
        "provider",
        "raw_provider",
        "reason",
        "request_model",
        "role",
        "routing",
        "span_name",
        "start_attributes",
        "temperature",
        "tokens_in",
        "tokens_out",
        "unit",
        "variant",
    )

    def __init__(self, md: Mapping[str, Any], params: Mapping[str, Any], operation: str) -> None:
        model_id = md.get(meta.MODEL_ID)
        provider: Any = None
        model_name: str | None = None
        if isinstance(model_id, str) and ":" in model_id:
            provider, _, model_name = model_id.partition(":")
        provider = sc.canonical_provider(
            provider or md.get("ls_provider") or params.get("_type") or "unknown"
        )
        request_model = (
            md.get("ls_model_name") or params.get("model") or params.get("model_name") or model_name
        )
        temperature = md.get("ls_temperature")
        max_tokens = md.get("ls_max_tokens")
        role = md.get(sc.RA_ROLE)
        self.operation = operation
        self.raw_provider: str = str(provider)
        self.provider: str = sc.PROVIDER_NAMES.get(self.raw_provider, self.raw_provider)
        self.request_model: str | None = str(request_model) if request_model else None
        self.model_id: str | None = model_id if isinstance(model_id, str) else None
        self.experiment: Any = md.get(meta.EXPERIMENT)
        self.variant: Any = md.get(meta.VARIANT)
        self.unit: Any = md.get(meta.UNIT)
        self.reason: Any = md.get(meta.REASON)
        self.agent: Any = md.get(meta.AGENT) or md.get("langgraph_node")
        self.role: str | None = str(role) if role is not None else None
        self.temperature = float(temperature) if isinstance(temperature, int | float) else None
        self.max_tokens = int(max_tokens) if isinstance(max_tokens, int) else None
        self.span_name = f"{operation} {self.request_model}" if self.request_model else operation
        # shadow/replay runs, and units placed by a rollback or a ship, are traced, never counted as traffic
        self.live = bool(
            self.experiment
            and self.variant
            and self.role != sc.ROLE_SHADOW
            and not (isinstance(self.reason, str) and self.reason in NOT_RANDOMIZED)
        )
        self.price: ModelPrice | None = _UNRESOLVED

        common: dict[str, Any] = {sc.GEN_AI_OPERATION_NAME: operation, sc.GEN_AI_PROVIDER_NAME: self.provider}
        if self.request_model:
            common[sc.GEN_AI_REQUEST_MODEL] = self.request_model
        routing: dict[str, Any] = {}
        for key, value in (
            (sc.RA_EXPERIMENT, self.experiment),
            (sc.RA_VARIANT, self.variant),
            (sc.RA_UNIT, self.unit),
            (sc.RA_REASON, self.reason),
            (sc.RA_AGENT, self.agent),
            (sc.RA_MODEL_ID, self.model_id),
            (sc.RA_ROLE, self.role),
        ):
            if value is not None:
                routing[key] = str(value)
        self.routing = routing  # routing_agent.* without the (per call) unit id
        start = {**common, **routing}
        if self.temperature is not None:
            start[sc.GEN_AI_REQUEST_TEMPERATURE] = self.temperature
        if self.max_tokens is not None:
            start[sc.GEN_AI_REQUEST_MAX_TOKENS] = self.max_tokens
        self.start_attributes = start
        metric = dict(common)
        for key, value in (
            (sc.RA_EXPERIMENT, self.experiment),
            (sc.RA_VARIANT, self.variant),
            (sc.RA_ROLE, self.role),
        ):
            if value is not None:
                metric[key] = str(value)
        self.metric = metric  # the same dict object every call: RunningSums keys on it
        self.tokens_in = {**metric, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}
        self.tokens_out = {**metric, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}

    def resolved_price(self, pricer: Any) -> ModelPrice | None:
        """The model's price (looked up once per identity; the ``Pricer`` caches per model too)."""
        price = self.price
        if price is _UNRESOLVED:
            price = pricer.price(
                provider=self.raw_provider,
                model=self.request_model,
                model_id=self.model_id,
                experiment=self.experiment,
            )
            self.price = price
        return price


_KEYS = (
    meta.MODEL_ID,
    "ls_provider",
    "ls_model_name",
    meta.EXPERIMENT,
    meta.VARIANT,
    meta.UNIT,
    meta.REASON,
    meta.AGENT,
    "langgraph_node",
    sc.RA_ROLE,
    "ls_temperature",
    "ls_max_tokens",
)


class IdentityCache:
    """``CallIdentity`` per distinct metadata values (bounded; cleared when it grows past 4096)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], CallIdentity] = {}
        self._lock = threading.Lock()

    def get(self, md: Mapping[str, Any], params: Mapping[str, Any], operation: str) -> CallIdentity:
        """The identity of a call with run metadata ``md`` and invocation ``params``."""
        key = (
            operation,
            params.get("_type"),
            params.get("model"),
            params.get("model_name"),
            *map(md.get, _KEYS),
        )
        try:
            return self._cache[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable metadata value: no caching for this call
            return CallIdentity(md, params, operation)
        found = CallIdentity(md, params, operation)
        with self._lock:
            if len(self._cache) >= _MAX_IDENTITIES:
                self._cache.clear()
            self._cache[key] = found
        return found
