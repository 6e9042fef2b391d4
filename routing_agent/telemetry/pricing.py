"""The cost of one LLM call in USD: YAML prices first, then the ``genai-prices`` package.

Lookup order for a call of model id ``provider:model`` in experiment ``e``:

1. ``experiments[e].prices["provider:model"]`` then top-level ``prices["provider:model"]`` in the YAML
   (USD per one million input / output / cached-input tokens);
2. for ``simulated:<profile>``: the profile's indicative ``price`` (simulated models are unknown elsewhere);
3. ``genai-prices`` (provider mapped from LangChain's ids, e.g. ``google_genai`` → ``google``).

A model found in neither is *unpriced*: ``cost`` returns None, the caller records no cost attribute and
counts the call as unpriced. Never a crash and never a silent 0. Resolved prices are cached per model, so
the per-call cost is a few float multiplications (tiered genai-prices models fall back to its calculator).
"""

from __future__ import annotations

__all__ = ["ModelPrice", "Pricer", "TokenUsage"]

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from routing_agent.config.spec import ExperimentsConfig, PriceSpec

logger = logging.getLogger(__name__)

_GENAI_PRICES_PROVIDERS = {
    "openai": "openai",
    "azure_openai": "azure",
    "azure_ai": "azure",
    "anthropic": "anthropic",
    "google_genai": "google",
    "google_vertexai": "google",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "mistralai": "mistral",
    "groq": "groq",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "xai": "x-ai",
    "together": "together",
    "fireworks": "fireworks",
    "perplexity": "perplexity",
}
_NO_PRICE_PROVIDERS = frozenset({"simulated"})
"""Providers genai-prices cannot know: only the YAML prices them."""


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens of one call. ``input`` includes cached tokens (``cache_read`` and ``cache_write``)."""

    input: int
    output: int
    cache_read: int = 0
    cache_write: int = 0


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per token, resolved once per model."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    source: str = "yaml"  # "yaml" | "genai-prices"
    tiered: Any = None  # a genai-prices ModelPrice with tiers: priced by genai-prices itself

    @classmethod
    def from_spec(cls, spec: PriceSpec) -> ModelPrice:
        """From a YAML ``PriceSpec`` (USD per one million tokens)."""
        cached = spec.cached_input / 1e6 if spec.cached_input is not None else None
        return cls(input=spec.input / 1e6, output=spec.output / 1e6, cache_read=cached, source="yaml")

    def cost(self, usage: TokenUsage) -> float:
        """USD for ``usage``. Cached tokens without their own price are charged at the input price."""
        if self.tiered is not None:
            from genai_prices import Usage

            calc = self.tiered.calc_price(
                Usage(
                    input_tokens=usage.input,
                    output_tokens=usage.output,
                    cache_read_tokens=usage.cache_read,
                    cache_write_tokens=usage.cache_write,
                )
            )
            return float(calc["total_price"])
        uncached = max(usage.input - usage.cache_read - usage.cache_write, 0)
        read = self.cache_read if self.cache_read is not None else self.input
        write = self.cache_write if self.cache_write is not None else self.input
        return (
            uncached * self.input
            + usage.cache_read * read
            + usage.cache_write * write
            + usage.output * self.output
        )


def _per_token(value: Any) -> float | None:
    return float(value) / 1e6 if isinstance(value, Decimal) else None


def _genai_prices_lookup(provider: str | None, model: str) -> ModelPrice | None:
    if provider in _NO_PRICE_PROVIDERS:
        return None
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    provider_id = _GENAI_PRICES_PROVIDERS.get(provider or "", provider)
    try:
        _, info = snapshot.find_provider_model(model, None, provider_id, None)
    except LookupError:
        if provider_id is None:
            return None
        try:  # an unknown provider id: let genai-prices match the model on its own
            _, info = snapshot.find_provider_model(model, None, None, None)
        except LookupError:
            return None
    price = info.get_prices(datetime.now(UTC))
    fields = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
    values = {f: getattr(price, f, None) for f in fields}
    if any(v is not None and not isinstance(v, Decimal) for v in values.values()):
        return ModelPrice(input=0.0, output=0.0, source="genai-prices", tiered=price)
    input_price = _per_token(values["input_mtok"])
    output_price = _per_token(values["output_mtok"])
    if input_price is None and output_price is None:
        return None
    return ModelPrice(
        input=input_price or 0.0,
        output=output_price or 0.0,
        cache_read=_per_token(values["cache_read_mtok"]),
        cache_write=_per_token(values["cache_write_mtok"]),
        source="genai-prices",
    )


def _simulated_profile_price(name: str) -> ModelPrice | None:
    """A simulated model's indicative price from its profile (``price:`` in the profile catalog)."""
    try:
        from routing_agent.providers.profiles import profiles

        spec = profiles.get(name).price
    except Exception:  # unknown profile or simulator not importable: unpriced
        return None
    return ModelPrice.from_spec(spec) if spec is not None else None


class Pricer:
    """Prices calls from the YAML (``ExperimentsConfig.price_for``), then genai-prices; cached per model."""

    def __init__(self, config: ExperimentsConfig | None = None, *, use_genai_prices: bool = True) -> None:
        self._config = config
        self._use_genai_prices = use_genai_prices
        self._cache: dict[tuple[str | None, str | None, str | None, str], ModelPrice | None] = {}
        self._lock = threading.Lock()

    def price(
        self, *, provider: str | None, model: str | None, model_id: str | None, experiment: str | None
    ) -> ModelPrice | None:
        """The price of a model, or None when unpriced. Never raises for an unknown model."""
        key = (experiment, model_id, provider, model or "")
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = self._resolve(provider=provider, model=model, model_id=model_id, experiment=experiment)
        with self._lock:
            self._cache[key] = found
        return found

    def cost(
        self,
        usage: TokenUsage,
        *,
        provider: str | None,
        model: str | None,
        model_id: str | None = None,
        experiment: str | None = None,
    ) -> float | None:
        """USD for ``usage``, or None when the model has no price."""
        price = self.price(provider=provider, model=model, model_id=model_id, experiment=experiment)
        return None if price is None else price.cost(usage)

    def _resolve(
        self, *, provider: str | None, model: str | None, model_id: str | None, experiment: str | None
    ) -> ModelPrice | None:
        if self._config is not None:
            ids = [model_id] if model_id else []
            if provider and model:
                ids.append(f"{provider}:{model}")
            for mid in ids:
                spec = self._config.price_for(mid, experiment)
                if spec is not None:
                    return ModelPrice.from_spec(spec)
        if provider == "simulated":
            profile = model_id.partition(":")[2] if model_id else model
            return _simulated_profile_price(profile) if profile else None
        if not self._use_genai_prices or not model:
            return None
        try:
            return _genai_prices_lookup(provider, model)
        except Exception:  # a broken price table must not break telemetry: unpriced, logged
            logger.warning("genai-prices lookup failed for %s:%s; the call is unpriced", provider, model)
            return None
