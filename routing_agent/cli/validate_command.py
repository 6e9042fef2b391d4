"""What ``routing-agent validate PATH...`` prints: every problem on one line, or a summary of what loaded."""

from __future__ import annotations

__all__ = ["check_to_json", "print_check", "run_validate"]

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from routing_agent.config.loader import ConfigCheck
from routing_agent.config.validate_warnings import config_warnings
from routing_agent.errors import ConfigIssue, printable
from routing_agent.loading import check_experiments


def run_validate(
    paths: Sequence[str | Path], *, as_json: bool = False, console: Console | None = None
) -> int:
    """Check ``paths``, print the outcome, return the exit code (0 valid, 1 any problem)."""
    check = check_experiments(*paths)
    console = console or Console(soft_wrap=True, highlight=False)
    if as_json:
        console.out(json.dumps(check_to_json(check), indent=2), highlight=False)
    else:
        print_check(check, console)
    return 0 if check.ok else 1


def print_check(check: ConfigCheck, console: Console) -> None:
    """Human output: one line per issue (file:line  experiment  field  message  fix) and a summary."""
    files = len(check.files)
    if not check.ok:
        for issue in check.issues:
            console.print(_issue_line(issue))
        with_problems = len({i.file for i in check.issues})
        console.print(
            Text(
                f"invalid: {_n(len(check.issues), 'problem')} in {_n(with_problems, 'file')} "
                f"({_n(files, 'file')} checked); nothing was loaded",
                style="bold red",
            )
        )
        return
    config = check.config
    assert config is not None
    console.print(Text(f"valid: {_n(len(config), 'experiment')} in {_n(files, 'file')}", style="bold green"))
    for warning in config_warnings(config, check.places):
        console.print(
            Text.assemble(
                ("warning", "bold yellow"), "  ", printable(warning.place or "-"), "  ",
                (printable(warning.experiment), "cyan"), "  ", (warning.field, "yellow"), "  ",
                printable(warning.message), "  ", ("fix: " + printable(warning.fix), "green"),
            )
        )  # fmt: skip
    for spec in config:
        scope = ", ".join(spec.scope) if spec.scope else "every agent"
        head = Text.assemble(
            (spec.id, "bold cyan"),
            f"  {check.places.get(spec.id, '')}  unit: {spec.unit.value} ({spec.state_key})  scope: {scope}",
            f"  coverage: {spec.coverage:g}  status: {spec.status.value}",
        )
        if spec.namespace is not None:
            low, high = spec.namespace.range
            head.append(f"  namespace: {spec.namespace.name} [{low:g}, {high:g})")
        console.print(head)
        width = max(len(v.name) for v in spec.variants)
        for variant in spec.variants:
            console.print(
                Text.assemble(
                    f"    {variant.name:<{width}}  {100 * (variant.weight or 0):5.1f}%  ",
                    (variant.model, "yellow"),
                    "  (control)" if variant.control else "",
                )
            )


def check_to_json(check: ConfigCheck) -> dict[str, Any]:
    """Machine output of ``validate --json``."""
    experiments = []
    if check.config is not None:
        for spec in check.config:
            experiments.append(
                {
                    "id": spec.id,
                    "place": check.places.get(spec.id),
                    "unit": spec.unit.value,
                    "unit_key": spec.state_key,
                    "scope": list(spec.scope),
                    "coverage": spec.coverage,
                    "status": spec.status.value,
                    "namespace": None
                    if spec.namespace is None
                    else {"name": spec.namespace.name, "range": list(spec.namespace.range)},
                    "variants": [
                        {"name": v.name, "model": v.model, "weight": v.weight, "control": v.control}
                        for v in spec.variants
                    ],
                }
            )
    return {
        "ok": check.ok,
        "files": list(check.files),
        "issues": [
            {
                "file": i.file,
                "line": i.line,
                "experiment": i.experiment,
                "field": i.field,
                "message": i.message,
                "fix": i.fix,
            }
            for i in check.issues
        ],
        "experiments": experiments,
        "warnings": [
            {
                "place": w.place,
                "experiment": w.experiment,
                "field": w.field,
                "message": w.message,
                "fix": w.fix,
            }
            for w in config_warnings(check.config or (), check.places)
        ],
    }


def _issue_line(issue: ConfigIssue) -> Text:
    where = printable(issue.file + (f":{issue.line}" if issue.line is not None else ""))
    return Text.assemble(
        (where, "bold"),
        "  ",
        (printable(issue.experiment or "-"), "cyan"),
        "  ",
        (printable(issue.field or "-"), "yellow"),
        "  ",
        (printable(issue.message), "red"),
        *(("  ", ("fix: " + printable(issue.fix), "green")) if issue.fix else ()),
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
