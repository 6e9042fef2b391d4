"""Malformed configs: each error names file, line, experiment and field, says what is wrong and how to fix it.

Every case is a YAML file; ``#<`` marks the line the error must point at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.malformed_cases import SHAPE_CASES
from tests.config.malformed_rules import RULE_CASES
from tests.config.support import dedent, issue_for, load_error, marked_line, write

CASES = SHAPE_CASES + RULE_CASES


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("text", "experiment", "field", "message", "fix"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_malformed_config_names_file_line_experiment_field_and_fix(
    tmp_path: Path, text: str, experiment: str | None, field: str | None, message: str, fix: str
) -> None:
    text = dedent(text)
    path = write(tmp_path, text)
    error = load_error(path)
    issue = issue_for(error, field, experiment)
    assert issue.file == str(path)
    assert issue.line == marked_line(text), str(error)
    assert issue.experiment == experiment
    assert message in issue.message, issue.message
    assert issue.fix and fix in issue.fix, issue.fix
    rendered = str(error)  # the exception text names all of it too
    assert f"{path}:{issue.line}" in rendered
    if field is not None:
        assert f"field '{field}'" in rendered
