"""Model ids → LangChain chat models, through one registry.

A model id is ``provider:model`` as written in the YAML. Providers registered here (``simulated`` registers
itself) are built by their factory; any other provider goes through LangChain's ``init_chat_model``
(``openai:gpt-5``, ``anthropic:claude-…``), so real providers need no code change, only the YAML and the
provider's LangChain package plus its API key in the environment.

Built models are cached per (model id, params): a chat model is a client, not a conversation.

Secrets never sit in params (the config refuses them): a param ``<name>_env: VAR`` is passed to the model as
``<name>`` = the value of ``$VAR`` when the model is built (e.g. ``api_key_env: VLLM_KEY`` for a second
OpenAI-compatible endpoint); a missing variable is a ``ModelResolutionError`` naming it.

**Usage on streamed calls.** LangChain's OpenAI integration stops asking for token usage on streamed calls
when a ``base_url`` is set (many OpenAI-compatible servers cannot send it), so every streamed call to a vLLM,
LiteLLM or Azure-style endpoint would be unpriced. A model this catalog builds whose integration has a
``stream_usage`` switch gets ``stream_usage=True`` unless the YAML sets it (``params: {stream_usage: false}``
for a server that rejects ``stream_options``). Calls that still report no usage are counted with their
cause (``routing_agent.usage_missing`` on the span, the ``usage_missing`` observation).
"""

from __future__ import annotations

__all__ = ["ModelCatalog", "ModelFactory", "catalog", "with_stream_usage"]

import importlib
import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel

from routing_agent.errors import ModelResolutionError

_SELF_REGISTERING = {
    "simulated": "routing_agent.providers.simulated",
    "simjudge": "routing_agent.scoring.simulated_judge",
}

ModelFactory = Callable[[str, Mapping[str, Any]], BaseChatModel]
"""``factory(model_name, params) -> BaseChatModel`` for one provider prefix."""


def _params_key(params: Mapping[str, Any]) -> str:
    try:
        return json.dumps(params, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(sorted(params.items()))


class ModelCatalog:
    """Resolves model ids to chat models; providers can be registered by prefix."""

    def __init__(self) -> None:
        self._factories: dict[str, ModelFactory] = {}
        self._cache: dict[tuple[str, str], BaseChatModel] = {}
        self._lock = threading.Lock()

    def register(self, provider: str, factory: ModelFactory, *, replace: bool = False) -> None:
        """Route ids ``provider:<name>`` to ``factory``. Registering an existing prefix needs ``replace``."""
        with self._lock:
            if provider in self._factories and not replace:
                raise ValueError(f"provider '{provider}' is already registered (pass replace=True)")
            self._factories[provider] = factory
            for key in [k for k in self._cache if k[0].startswith(provider + ":")]:
                del self._cache[key]

    def unregister(self, provider: str) -> None:
        """Remove a provider registration (and its cached models)."""
        with self._lock:
            self._factories.pop(provider, None)
            for key in [k for k in self._cache if k[0].startswith(provider + ":")]:
                del self._cache[key]

    def providers(self) -> list[str]:
        """Registered provider prefixes (others fall through to ``init_chat_model``)."""
        return sorted(self._factories)

    def get(self, model_id: str, params: Mapping[str, Any] | None = None) -> BaseChatModel:
        """The chat model for ``model_id`` with ``params`` (cached)."""
        params = dict(params or {})
        key = (model_id, _params_key(params))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        model = self._build(model_id, params)
        with self._lock:
            return self._cache.setdefault(key, model)

    def clear_cache(self) -> None:
        """Forget built models (e.g. after changing environment credentials)."""
        with self._lock:
            self._cache.clear()

    def _build(self, model_id: str, params: dict[str, Any]) -> BaseChatModel:
        provider, sep, name = model_id.partition(":")
        if not sep or not provider or not name:
            raise ModelResolutionError(
                f"model id '{model_id}' is not of the form provider:model (e.g. simulated:fast-cheap, "
                "openai:gpt-5)"
            )
        factory = self._factories.get(provider)
        if factory is None and provider in _SELF_REGISTERING:
            # Offline providers register themselves in the process-wide catalog on import.
            importlib.import_module(_SELF_REGISTERING[provider])
            factory = self._factories.get(provider) or catalog._factories.get(provider)
        params = _from_environment(model_id, params)
        if factory is not None:
            return factory(name, params)
        return _init_chat_model(provider, name, params)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _from_environment(model_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """``<name>_env: VAR`` params replaced by ``<name>: $VAR``."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key.endswith("_env") and len(key) > 4 and isinstance(value, str) and _ENV_NAME.fullmatch(value):
            if value not in os.environ:
                raise ModelResolutionError(
                    f"model '{model_id}': environment variable ${value} (named by '{key}') is not set"
                )
            out[key[: -len("_env")]] = os.environ[value]
        else:
            out[key] = value
    return out


def _init_chat_model(provider: str, name: str, params: dict[str, Any]) -> BaseChatModel:
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:  # pragma: no cover - langchain is a core dependency
        raise ModelResolutionError(f"langchain is needed to build '{provider}:{name}': {exc}") from exc
    try:
        model = init_chat_model(name, model_provider=provider, **params)
    except ImportError as exc:
        raise ModelResolutionError(
            f"model '{provider}:{name}' needs the LangChain integration for '{provider}': {exc}. "
            f"Install it (e.g. pip install langchain-{provider.replace('_', '-')})."
        ) from exc
    except ValueError as exc:
        raise ModelResolutionError(f"cannot build model '{provider}:{name}': {exc}") from exc
    if not isinstance(model, BaseChatModel):  # pragma: no cover - init_chat_model contract
        raise ModelResolutionError(f"'{provider}:{name}' did not build a chat model")
    return with_stream_usage(model, params)


def with_stream_usage(model: BaseChatModel, params: Mapping[str, Any]) -> BaseChatModel:
    """``model`` asking for token usage on streamed calls, when its integration has the switch and the
    params leave it unset (see the module docstring)."""
    if "stream_usage" in params or "stream_usage" not in type(model).model_fields:
        return model
    if getattr(model, "stream_usage", None) is None:
        model.stream_usage = True  # type: ignore[attr-defined]
    return model


catalog = ModelCatalog()
"""The process-wide catalog ``routed_model`` uses."""
