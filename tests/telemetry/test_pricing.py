"""Prices: YAML overrides first, genai-prices otherwise; unknown models are unpriced (None), never 0."""

from __future__ import annotations

import math

import pytest
from genai_prices import Usage, calc_price

from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec, PriceSpec, VariantSpec
from routing_agent.telemetry import Pricer, TokenUsage


@pytest.mark.parametrize(
    ("provider", "model", "gp_provider"),
    [
        ("openai", "gpt-4o", "openai"),
        ("openai", "gpt-4o-mini", "openai"),
        ("anthropic", "claude-sonnet-4-5", "anthropic"),
    ],
)
def test_matches_genai_prices(provider: str, model: str, gp_provider: str) -> None:
    usage = TokenUsage(input=12_000, output=900, cache_read=3_000)
    got = Pricer().cost(usage, provider=provider, model=model)
    want = calc_price(
        Usage(input_tokens=12_000, output_tokens=900, cache_read_tokens=3_000), model, provider_id=gp_provider
    ).total_price
    assert got is not None and math.isclose(got, float(want), rel_tol=1e-9)


def test_unknown_and_simulated_models_are_unpriced() -> None:
    pricer = Pricer()
    assert pricer.cost(TokenUsage(10, 10), provider="openai", model="no-such-model-xyz") is None
    assert pricer.cost(TokenUsage(10, 10), provider="simulated", model="gpt-4o") is None  # no such profile
    assert pricer.cost(TokenUsage(10, 10), provider=None, model=None) is None


def test_yaml_overrides_experiment_first() -> None:
    spec = ExperimentSpec(
        id="e",
        variants=(
            VariantSpec(name="a", model="simulated:x", control=True),
            VariantSpec(name="b", model="simulated:y"),
        ),
        prices={"simulated:x": PriceSpec(input=2.0, output=4.0)},
    )
    config = ExperimentsConfig(
        experiments=(spec,),
        prices={
            "simulated:x": PriceSpec(input=1.0, output=1.0, cached_input=0.5),
            "openai:gpt-4o": PriceSpec(input=0, output=0),
        },
    )
    pricer = Pricer(config)
    usage = TokenUsage(input=1_000_000, output=500_000, cache_read=200_000)
    assert (
        pricer.cost(usage, provider="simulated", model="x", model_id="simulated:x", experiment="e")
        == 2.0 * 1.0 + 4.0 * 0.5
    )
    assert pricer.cost(usage, provider="simulated", model="x", model_id="simulated:x") == 0.8 + 0.1 + 0.5
    assert (
        pricer.cost(usage, provider="openai", model="gpt-4o", model_id="openai:gpt-4o") == 0.0
    )  # explicit 0
    assert pricer.cost(usage, provider="simulated", model="y", model_id="simulated:y") is None


def test_simulated_profiles_carry_indicative_prices() -> None:
    from routing_agent.providers.profiles import profiles

    spec = profiles.get("fast-cheap").price
    assert spec is not None
    usage = TokenUsage(input=1_000_000, output=1_000_000)
    got = Pricer().cost(usage, provider="simulated", model="reported-name", model_id="simulated:fast-cheap")
    assert got == spec.input + spec.output
