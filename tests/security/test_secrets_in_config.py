"""Secrets are referenced by environment variable name, never written in a config, and never echoed.

A secret-looking param (``api_key``, ``password``, ``Authorization`` …, at any depth) or value (``sk-…``,
``Bearer …``, ``AKIA…``) in model params, agent params, the default model or a judge's params is refused
by ``routing-agent validate`` with "reference it by environment variable name" — and the value appears
nowhere: not in the CLI output, its JSON, the ``ConfigError``, or a raw pydantic ``ValidationError``.
``<name>_env: VAR`` is the way: the catalog reads ``$VAR`` when it builds the model; a missing variable is an
error naming the variable. Store URLs with a password are redacted in every error message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from routing_agent.cli import app
from routing_agent.config.loader import check_experiments_string
from routing_agent.config.spec import VariantSpec
from routing_agent.errors import ConfigError, ModelResolutionError
from routing_agent.providers.catalog import ModelCatalog
from routing_agent.stores.assignments import open_store
from routing_agent.stores.observations import open_observation_store

SECRET = "sk-proj-Zq8UvT3xK9wL2mN5pR7sY1bC4dF6gH0j"
runner = CliRunner()

BASE = """\
default_model: {model: "simulated:strong-expensive"%(default)s}
agents:
  writer: {model: "simulated:strong-expensive"%(agent)s}
experiments:
  - id: exp
    variants:
      - {name: control, model: "simulated:strong-expensive", control: true}
      - name: candidate
        model: "openai:gpt-5-mini"
        params: %(params)s
    scorers:
      - name: quality
        type: judge_likert
        agent: writer
        options: {judge_model: "openai:gpt-5-mini", judge_params: %(judge)s}
"""
CLEAN = {"default": "", "agent": "", "params": "{temperature: 0}", "judge": "{temperature: 0}"}

CASES = {
    "api_key-in-variant-params": {"params": f"{{api_key: {SECRET}}}"},
    "OPENAI_API_KEY-in-params": {"params": f"{{OPENAI_API_KEY: '{SECRET}'}}"},
    "password-in-agent-params": {"agent": f", params: {{password: '{SECRET}'}}"},
    "client_secret-in-default-model": {"default": f", params: {{client_secret: '{SECRET}'}}"},
    "api_key-in-judge-params": {"judge": f"{{api_key: '{SECRET}'}}"},
    "authorization-header-nested": {"params": f"{{default_headers: {{Authorization: 'Bearer {SECRET}'}}}}"},
    "x-api-key-header-nested": {"params": f"{{default_headers: {{x-api-key: '{SECRET}'}}}}"},
    "key-as-a-value-of-an-innocent-param": {"params": f"{{organization: '{SECRET}'}}"},
    "bearer-value-in-a-list": {"params": f"{{extra: [a, 'Bearer {SECRET}']}}"},
    "aws-key-id-value": {"params": "{region_key: AKIAIOSFODNN7EXAMPLE}"},
    "aws_secret_access_key": {"params": f"{{aws_secret_access_key: '{SECRET}'}}"},
    "auth_token": {"agent": f", params: {{auth_token: '{SECRET}'}}"},
}


def text_for(case: str) -> str:
    return BASE % {**CLEAN, **CASES[case]}


def test_the_clean_config_is_valid() -> None:
    assert check_experiments_string(BASE % CLEAN).ok


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_secret_in_the_config_is_refused_and_never_echoed(case: str, tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(text_for(case))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "reference it by environment variable name" in result.output
    as_json = runner.invoke(app, ["validate", "--json", str(path)])
    check = check_experiments_string(text_for(case))
    with pytest.raises(ConfigError) as error:
        check.unwrap()
    for shown in (result.output, as_json.output, str(error.value), json.dumps(json.loads(as_json.output))):
        assert SECRET not in shown and "AKIAIOSFODNN7EXAMPLE" not in shown
    assert all(issue.line is not None for issue in check.issues)  # located, like every config problem


def test_a_raw_validation_error_never_prints_the_value() -> None:
    with pytest.raises(ValidationError) as error:
        VariantSpec(name="candidate", model="openai:gpt-5", params={"api_key": SECRET})
    assert "reference it by environment variable name" in str(error.value)
    assert SECRET not in str(error.value) and SECRET not in repr(error.value)
    with pytest.raises(ValidationError) as other:
        VariantSpec(name="candidate", model=SECRET, weight="heavy")  # type: ignore[arg-type]
    assert SECRET not in str(other.value)


def test_params_named_like_tokens_but_not_secrets_are_fine() -> None:
    for params in (
        {"max_tokens": 10},
        {"max_completion_tokens": 5},
        {"stop_token": "</s>"},
        {"api_key_env": "X"},
    ):
        VariantSpec(name="candidate", model="openai:gpt-5", params=params)


def test_env_references_are_resolved_when_the_model_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RA_TEST_SECOND_KEY", SECRET)
    models = ModelCatalog()
    model = models.get("openai:gpt-5-mini", {"api_key_env": "RA_TEST_SECOND_KEY", "base_url": "http://x/v1"})
    assert model.openai_api_key.get_secret_value() == SECRET  # type: ignore[attr-defined]
    assert SECRET not in repr(model) and SECRET not in str(model.model_dump())
    monkeypatch.delenv("RA_TEST_SECOND_KEY")
    with pytest.raises(
        ModelResolutionError, match=r"\$RA_TEST_SECOND_KEY \(named by 'api_key_env'\) is not set"
    ):
        ModelCatalog().get("openai:gpt-5-mini", {"api_key_env": "RA_TEST_SECOND_KEY"})


@pytest.mark.parametrize("opener", [open_store, open_observation_store])
def test_a_store_url_password_is_never_echoed(opener: object) -> None:
    with pytest.raises(ValueError) as error:
        opener(f"redsi://:{SECRET}@127.0.0.1:6379/0")  # type: ignore[operator]
    assert SECRET not in str(error.value) and "***" in str(error.value)


def test_control_cli_errors_redact_the_password() -> None:
    result = runner.invoke(
        app, ["status", "--experiment", "exp", "--store", f"redis://:{SECRET}@127.0.0.1:1/0"]
    )
    assert result.exit_code != 0
    assert SECRET not in result.output
