"""Valid configs: weights, several files and folders, merged sections, mutual exclusion, the examples."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from routing_agent.config import ExperimentStatus, Unit
from routing_agent.errors import ConfigError
from routing_agent.loading import check_experiments, load_experiments, load_experiments_from_string
from tests.config.support import VALID, dedent, issue_for, load_error, write

REPO = Path(__file__).resolve().parents[2]


def experiment(
    id: str,
    *,
    scope: str = "[]",
    weights: tuple[object, ...] = (None, None),
    extra: str = "",
) -> str:
    """One experiment entry (a YAML list item) with variants control/candidate[/third]."""
    names = ["control", "candidate", "third"]
    lines = [f"  - id: {id}", f"    scope: {scope}", "    variants:"]
    for i, weight in enumerate(weights):
        line = f"      - {{name: {names[i]}, model: 'simulated:m{i}'"
        line += f", weight: {weight}" if weight is not None else ""
        line += ", control: true}" if i == 0 else "}"
        lines.append(line)
    lines += [f"    {e}" for e in dedent(extra).splitlines()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ((80, 20), (0.8, 0.2)),
        ((0.8, 0.2), (0.8, 0.2)),
        ((None, None), (0.5, 0.5)),
        ((None, None, None), (1 / 3, 1 / 3, 1 / 3)),
        ((60, 20, 20), (0.6, 0.2, 0.2)),
        ((33.33, 33.33, 33.34), (0.3333, 0.3333, 0.3334)),
        ((1, 0), (1.0, 0.0)),
    ],
)
def test_weights_are_normalised(weights: tuple[object, ...], expected: tuple[float, ...]) -> None:
    config = load_experiments_from_string("experiments:\n" + experiment("exp", weights=weights))
    assert config.experiments[0].weights == pytest.approx(expected)
    assert sum(config.experiments[0].weights) == pytest.approx(1.0)


def test_valid_config_round_trip() -> None:
    config = load_experiments_from_string(VALID, source="valid.yaml")
    spec = config.get("support-haiku")
    assert spec.unit is Unit.SESSION and spec.state_key == "session_id"
    assert spec.scope == ("drafter", "resolver") and spec.applies_to("drafter") and not spec.applies_to("x")
    assert spec.control.name == "control" and spec.variant("candidate").params == {"temperature": 0}
    assert spec.primary_metric is not None and spec.primary_metric.baseline == 0.87
    assert [g.metric for g in spec.guardrails] == ["latency_s", "refusal"]
    assert spec.review == "required" and spec.status is ExperimentStatus.RUNNING
    assert config.price_for("simulated:fast-cheap", "support-haiku") is not None
    assert config.default_for("classifier") is not None and config.sources == ("valid.yaml",)


def test_unknown_provider_prefix_is_fine_but_malformed_id_is_not() -> None:
    text = "experiments:\n" + experiment("exp").replace("simulated:m1", "acme-labs:model-7b@2026")
    assert load_experiments_from_string(text).experiments[0].variants[1].model == "acme-labs:model-7b@2026"
    with pytest.raises(ConfigError, match="provider:model"):
        load_experiments_from_string(text.replace("acme-labs:model-7b@2026", ":model"))


def test_dates_become_utc_aware() -> None:
    text = "experiments:\n" + experiment("exp", extra="start: 2026-05-01\nend: 2026-06-01 12:00:00+02:00")
    spec = load_experiments_from_string(text).experiments[0]
    assert spec.start == datetime(2026, 5, 1, tzinfo=UTC)
    assert spec.end is not None and spec.end.utcoffset() is not None
    assert spec.end == datetime(2026, 6, 1, 10, tzinfo=UTC)


def test_file_shapes_list_and_single_experiment() -> None:
    as_list = load_experiments_from_string(
        experiment("exp").replace("  - id", "- id", 1).replace("\n  ", "\n")
    )
    assert as_list.experiments[0].id == "exp"
    single = "id: solo\nvariants:\n  - {name: a, model: 'x:y', control: true}\n  - {name: b, model: 'x:z'}\n"
    assert load_experiments_from_string(single).experiments[0].id == "solo"
    assert len(load_experiments_from_string("")) == 0
    assert len(load_experiments_from_string("experiments:\n")) == 0


def test_folder_loads_yaml_and_yml_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, "experiments:\n" + experiment("b-exp", scope="[resolver]"), "conf/20-b.yml")
    write(tmp_path, "experiments:\n" + experiment("a-exp", scope="[drafter]"), "conf/10-a.yaml")
    write(tmp_path, "not: yaml we read", "conf/notes.txt")
    write(tmp_path, "experiments:\n" + experiment("c-exp", scope="[classifier]"), "other.yaml")
    config = load_experiments(tmp_path / "conf", tmp_path / "other.yaml")
    assert [e.id for e in config] == ["a-exp", "b-exp", "c-exp"]
    assert config.sources == (
        str(tmp_path / "conf" / "10-a.yaml"),
        str(tmp_path / "conf" / "20-b.yml"),
        str(tmp_path / "other.yaml"),
    )
    # the same file named twice (directly and through its folder) is read once
    assert len(load_experiments(tmp_path / "conf", tmp_path / "conf" / "10-a.yaml")) == 2


def test_missing_path_and_empty_folder_are_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    error = load_error(tmp_path / "nope.yaml", tmp_path / "empty")
    messages = {(i.file, i.message) for i in error.issues}
    assert (str(tmp_path / "nope.yaml"), "no such file or folder") in messages
    assert (str(tmp_path / "empty"), "the folder has no *.yaml or *.yml file") in messages


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "experiments:\n" + experiment("exp", scope="[a]"), "a.yaml")
    second = write(tmp_path, "# header\nexperiments:\n" + experiment("exp", scope="[b]"), "b.yaml")
    issue = issue_for(load_error(first, second), "id", "exp")
    assert (issue.file, issue.line) == (str(second), 3)
    assert f"already used at {first}:2" in issue.message


def test_sections_merge_across_files_and_conflicts_name_both_places(tmp_path: Path) -> None:
    a = write(
        tmp_path,
        "agents:\n  drafter: {model: 'simulated:a'}\nprices:\n  x:y: {input: 1, output: 2}\n",
        "a.yaml",
    )
    b = write(
        tmp_path,
        "agents:\n  drafter: {model: 'simulated:a'}\n  resolver: {model: 'simulated:b'}\n",
        "b.yaml",
    )
    config = load_experiments(a, b)
    assert set(config.agents) == {"drafter", "resolver"} and set(config.prices) == {"x:y"}
    c = write(
        tmp_path,
        "default_model: {model: 'simulated:z'}\nagents:\n  drafter: {model: 'simulated:c'}\n",
        "c.yaml",
    )
    issue = issue_for(load_error(a, c), "agents.drafter")
    assert (issue.file, issue.line) == (str(c), 3)
    assert f"different value at {a}:2" in issue.message


def test_overlapping_experiments_without_namespace_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path, "experiments:\n" + experiment("exp-a", scope="[drafter, resolver]"), "a.yaml")
    b = write(tmp_path, "experiments:\n" + experiment("exp-b"), "b.yaml")  # empty scope = every agent
    error = load_error(a, b)
    issue = issue_for(error, "namespace", "exp-b")
    assert issue.file == str(b) and issue.line == 2
    assert f"'exp-a' ({a}:2)" in issue.message and f"'exp-b' ({b}:2)" in issue.message
    assert "drafter, resolver" in issue.message
    assert issue.fix and "range: [0, 0.5]" in issue.fix


def test_mutual_exclusion_through_a_namespace_is_accepted(tmp_path: Path) -> None:
    ns = "namespace: {{name: support, range: [{}, {}]}}"
    text = "experiments:\n"
    text += experiment("exp-a", scope="[drafter]", extra=ns.format(0, 0.5))
    text += experiment("exp-b", scope="[drafter, resolver]", extra=ns.format(0.5, 1))
    config = load_experiments_from_string(text)
    assert [e.namespace.range for e in config if e.namespace] == [(0, 0.5), (0.5, 1)]


@pytest.mark.parametrize(
    ("extra_a", "extra_b", "words"),
    [
        (
            "namespace: {name: support, range: [0, 0.6]}",
            "namespace: {name: support, range: [0.5, 1]}",
            "overlap on [0.5, 0.6)",
        ),
        ("namespace: {name: one, range: [0, 0.5]}", "namespace: {name: two, range: [0.5, 1]}", "differ"),
        ("namespace: {name: ns, range: [0, 0.5]}", "", "'exp-b' has no namespace"),
    ],
)
def test_namespaces_that_do_not_exclude_are_refused(extra_a: str, extra_b: str, words: str) -> None:
    text = "experiments:\n" + experiment("exp-a", extra=extra_a) + experiment("exp-b", extra=extra_b)
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(text)
    issue = issue_for(info.value, "namespace", "exp-b")
    assert words in issue.message


def test_different_units_on_the_same_agent_cannot_be_excluded() -> None:
    text = "experiments:\n" + experiment("exp-a", scope="[drafter]", extra="unit: user")
    text += experiment("exp-b", scope="[drafter]")
    with pytest.raises(ConfigError) as info:
        load_experiments_from_string(text)
    issue = issue_for(info.value, "unit", "exp-b")
    assert "no namespace can keep their units apart" in issue.message


@pytest.mark.parametrize(
    ("extra_a", "extra_b", "scope_b"),
    [
        ("", "", "[resolver]"),  # disjoint scopes
        ("end: 2026-05-01", "start: 2026-05-01", "[drafter]"),  # back-to-back windows
        ("", "status: stopped", "[drafter]"),  # a stopped experiment enrolls nobody
    ],
)
def test_experiments_that_cannot_meet_need_no_namespace(extra_a: str, extra_b: str, scope_b: str) -> None:
    text = "experiments:\n" + experiment("exp-a", scope="[drafter]", extra=extra_a)
    text += experiment("exp-b", scope=scope_b, extra=extra_b)
    assert len(load_experiments_from_string(text)) == 2


def test_agent_in_agents_section_may_be_measured_outside_scope() -> None:
    text = "agents:\n  resolver: {model: 'simulated:a'}\nexperiments:\n"
    text += experiment(
        "exp", scope="[drafter]", extra="primary_metric: {name: resolved, mde: 0.02, agent: resolver}"
    )
    assert load_experiments_from_string(text).experiments[0].primary_metric is not None


def test_check_experiments_never_raises_and_reports_places(tmp_path: Path) -> None:
    good = write(tmp_path, VALID, "good.yaml")
    check = check_experiments(good)
    assert check.ok and check.config is not None and check.places == {"support-haiku": f"{good}:5"}
    bad = check_experiments(write(tmp_path, "experiments: 3\n", "bad.yaml"))
    assert not bad.ok and bad.config is None and bad.issues[0].field == "experiments"
    with pytest.raises(ConfigError):
        bad.unwrap()


def test_string_source_is_named_in_errors() -> None:
    with pytest.raises(ConfigError, match=r"^inline\.yaml:1"):
        load_experiments_from_string("experimentz: []\n", source="inline.yaml")


def test_shipped_example_configs_are_valid() -> None:
    config = load_experiments(REPO / "configs")
    by_id = {e.id: e for e in config}
    assert set(by_id) >= {"support-haiku", "invoice-extractor", "rag-answerer"}
    support = by_id["support-haiku"]
    assert support.weights == (0.8, 0.2) and support.review == "required"
    assert support.control.model == "simulated:strong-expensive"
    assert support.primary_metric is not None and support.primary_metric.baseline == 0.87
    assert {(g.metric, g.max_ratio_to_control) for g in support.guardrails} >= {
        ("latency_s", 1.3),
        ("refusal", 2.0),
        ("cost_usd", 1.0),
    }
    invoice = by_id["invoice-extractor"]
    assert any(g.metric == "json_valid" and g.min == 0.90 for g in invoice.guardrails)
    assert any(s.type == "citations" for s in by_id["rag-answerer"].scorers)
