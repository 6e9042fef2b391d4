"""The written decision policy: the README example validates; every outcome has a rule and an error rate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from routing_agent.config.measures import MetricSpec
from routing_agent.errors import ConfigError
from routing_agent.evaluation import policy as policy_module

README = Path(__file__).resolve().parents[2] / "README.md"


def _policy() -> str:
    text = README.read_text()
    return text[text.index("## Decision policy") :].split("\n## ", 1)[0]


def test_the_readme_posture_example_validates_with_the_safe_defaults() -> None:
    (block,) = re.findall(r"```yaml\n(.*?)```", _policy(), re.DOTALL)
    m = MetricSpec.model_validate(yaml.safe_load(block)["primary_metric"])
    assert (m.test, m.margin, m.missing, m.failure_value) == ("superiority", 0.02, "failure", 0.0)
    default = MetricSpec.model_validate({"name": "resolved", "mde": 0.02})
    assert (default.test, default.margin, default.missing, default.failure_value) == (
        "superiority", None, "failure", 0.0,
    )  # fmt: skip


def test_every_outcome_has_a_rule_and_an_error_rate() -> None:
    policy = _policy()
    for kind in ("rollback", "invalid", "keep_running", "ship", "no_difference", "segmentation"):
        assert f"| `{kind}`" in policy, kind
        assert kind in (policy_module.__doc__ or "")
    assert "α/2" in policy and "FIGURES_TABLE" not in policy


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"missing": "exclude", "missing_value": 0}, "missing_value"),
        ({"missing_value": 0.5}, "missing_value"),
        ({"kind": "ratio", "denominator": "calls", "missing_value": 1.0}, "missing_value"),
    ],
)
def test_missing_value_errors_are_located(fields: dict[str, object], where: str, tmp_path: Path) -> None:
    from routing_agent.config.loader import load_experiments

    metric = {"name": "resolved", "mde": 0.02, **fields}
    config = {
        "experiments": [
            {
                "id": "e",
                "variants": [{"name": "c", "model": "m:a", "control": True}, {"name": "t", "model": "m:b"}],
                "primary_metric": metric,
            }
        ]
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as info:
        load_experiments(path)
    assert where in str(info.value) and "primary_metric" in str(info.value)
