"""Profiles: the shipped catalog, custom profiles from YAML (``extends``), and what each knob produces,
measured on simulated outputs."""

from __future__ import annotations

import json
import re
import statistics
from datetime import datetime

import pytest
from langchain_core.messages import HumanMessage

from routing_agent.config.spec import ExperimentsConfig
from routing_agent.errors import ConfigError, ModelResolutionError
from routing_agent.providers.catalog import catalog
from routing_agent.providers.profiles import SimulatedProfile, profiles, register_profiles
from routing_agent.providers.simulated import SimulatedChatModel
from routing_agent.providers.simulated_call import simulate
from routing_agent.providers.simulated_draws import Draws
from routing_agent.providers.simulated_text import render
from routing_agent.providers.tasks import CitedAnswer, Extraction


def test_shipped_catalog() -> None:
    names = profiles.names()
    for name in ("strong-expensive", "fast-cheap", "regressed", "slow-candidate", "judge"):
        assert name in names
    strong, cheap, regressed = (profiles.get(n) for n in ("strong-expensive", "fast-cheap", "regressed"))
    for d in (0.2, 0.5, 0.8):
        assert strong.quality.p_correct(d) > cheap.quality.p_correct(d) > regressed.quality.p_correct(d)
    assert strong.price is not None and cheap.price is not None
    assert strong.price.output > 3 * cheap.price.output


def test_custom_profiles_from_config_extend_and_resolve_by_id() -> None:
    config = ExperimentsConfig(
        simulated_profiles={
            "test-cand": {
                "extends": "fast-cheap",
                "quality": {"skill": 0.5},
                "format": {"date_slip_rate": 0.3},
            },
            "test-cand-2": {"extends": "test-cand", "refusal_rate": 0.2},
        }
    )
    register_profiles(config.simulated_profiles)
    cand = profiles.get("test-cand-2")
    base = profiles.get("fast-cheap")
    assert cand.quality.skill == 0.5 and cand.quality.sharpness == base.quality.sharpness
    assert cand.format.date_slip_rate == 0.3 and cand.refusal_rate == 0.2
    assert cand.latency == base.latency
    assert cand.reported_model == "test-cand-2"  # a derived profile reports its own name
    model = catalog.get("simulated:test-cand-2", {"time_scale": 0})
    assert isinstance(model, SimulatedChatModel) and model.model_name == "test-cand-2"


def test_invalid_custom_profiles_name_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        register_profiles({"bad-one": {"quality": {"skill": "high"}}}, source="exp.yaml")
    assert "simulated_profiles.bad-one.quality.skill" in str(info.value)
    with pytest.raises(ConfigError) as info:
        register_profiles({"orphan": {"extends": "no-such-profile"}}, source="exp.yaml")
    assert "no-such-profile" in str(info.value) and "orphan.extends" in str(info.value)


def test_unknown_profile_lists_known_ones() -> None:
    with pytest.raises(ModelResolutionError) as info:
        catalog.get("simulated:gpt-17", {})
    assert "strong-expensive" in str(info.value)


def _profile(name: str, **changes: object) -> SimulatedProfile:
    base = profiles.get(name).model_dump(exclude={"name", "model_name"})
    base.update(changes)
    return SimulatedProfile.model_validate({**base, "name": f"{name}-t"})


def _latencies(profile: SimulatedProfile, n: int = 3000) -> list[float]:
    clean = _profile(profile.name, errors={}, refusal_rate=0.0)
    return [simulate([HumanMessage(f"question {i}")], profile=clean).latency_s for i in range(n)]


def test_latency_is_heavy_tailed_and_slow_candidate_doubles_p95() -> None:
    strong = _latencies(profiles.get("strong-expensive"))
    slow = _latencies(profiles.get("slow-candidate"))
    cheap = _latencies(profiles.get("fast-cheap"))
    p95 = lambda xs: statistics.quantiles(xs, n=20)[-1]  # noqa: E731
    p99 = lambda xs: statistics.quantiles(xs, n=100)[-1]  # noqa: E731
    p50 = statistics.median
    assert p95(strong) / p50(strong) > 1.3 and p99(strong) / p50(strong) > 1.7  # a tail, not a constant
    assert 1.7 < p95(slow) / p95(strong) < 2.6
    assert p50(cheap) < 0.5 * p50(strong)
    ttfts = [
        simulate(
            [HumanMessage(f"q {i}")], profile=_profile("strong-expensive", errors={}, refusal_rate=0.0)
        ).ttft_s
        for i in range(2000)
    ]
    assert abs(statistics.median(ttfts) / 0.8 - 1) < 0.1  # ttft_median_s of the profile (+ tiny prefill)


def test_json_and_date_slip_rates_show_in_extraction_outputs() -> None:
    task = Extraction(
        fields={"invoice_date": "2024-03-04", "total": 12.5}, difficulty=0.0, date_fields=("invoice_date",)
    )
    n = 3000
    for name, expected_json, expected_dates in (("strong-expensive", 0.003, 0.004), ("regressed", 0.06, 0.2)):
        profile = profiles.get(name)
        bad_json = us_dates = 0
        for i in range(n):
            out = render(task, profile, Draws(i.to_bytes(4, "big"), name))
            assert out.args is not None
            try:
                json.loads(out.args)
            except ValueError:
                bad_json += 1
            value = out.payload["invoice_date"] if out.payload else None
            if isinstance(value, str) and "/" in value:
                us_dates += 1
                datetime.strptime(value, "%m/%d/%Y")  # US format, as the profile's date_slip_format says
        tol = lambda p: 4 * (p * (1 - p) / n) ** 0.5 + 1 / n  # noqa: E731
        assert abs(bad_json / n - expected_json) < tol(expected_json)
        assert abs(us_dates / n - expected_dates) < tol(expected_dates)


def test_citation_drift_measured_against_control_on_identical_inputs() -> None:
    task = CitedAnswer(
        answer="The answer is 42.",
        wrong_answers=("The answer is 41.",),
        sources=("doc-1", "doc-2", "doc-3"),
        gold_sources=("doc-1",),
        difficulty=0.1,
    )
    n = 3000

    def cited(name: str) -> list[list[str]]:
        profile = profiles.get(name)
        texts = [render(task, profile, Draws(i.to_bytes(4, "big"), name)).text for i in range(n)]
        return [re.findall(r"\[(doc-\d)\]", text) for text in texts]

    control = cited("strong-expensive")
    same = sum(a == b for a, b in zip(control, cited("strong-expensive"), strict=True)) / n
    cheap = sum(a == b for a, b in zip(control, cited("fast-cheap"), strict=True)) / n
    regressed = sum(a == b for a, b in zip(control, cited("regressed"), strict=True)) / n
    assert same == 1.0
    assert 0.85 < cheap < 0.97  # ~5% drift + a few extra citations
    assert regressed < 0.7  # 30% drift plus extras and omissions
