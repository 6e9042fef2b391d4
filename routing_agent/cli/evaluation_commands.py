"""``routing-agent evaluate`` / ``routing-agent report``: decide and write the report, against any store URL.

Both read the experiment from ``--config``, the assignments (SRM counts, live state) from ``--store`` and the
observations from ``--observations`` (default: the ``--store`` URL). Exit codes: 0 done (whatever the
decision), 2 cannot run — an invalid config, an unknown experiment, a store that does not exist or answer, or
an experiment neither store has seen — with one plain line saying what is wrong and how to fix it.
"""

from __future__ import annotations

__all__ = ["register"]

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from routing_agent.cli._common import (
    cli_errors,
    fail,
    load_config,
    open_control_store,
    redact,
    resolve_specs,
)
from routing_agent.config.spec import ExperimentSpec
from routing_agent.evaluation.settings import EvaluationSettings
from routing_agent.stores.assignments.base import AssignmentStore
from routing_agent.stores.observations.base import ObservationStore

if TYPE_CHECKING:
    from routing_agent.evaluation.analysis import Evaluation

_STYLE = {
    "ship": "bold green",
    "no_difference": "bold cyan",
    "keep_running": "bold yellow",
    "rollback": "bold red",
    "invalid": "bold magenta",
    "segmentation": "bold yellow",
}

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Experiments YAML (file or folder).")]
StoreOpt = Annotated[
    str,
    typer.Option("--store", envvar="ROUTING_AGENT_STORE", help="Assignment store URL (SRM counts, state)."),
]
ObsOpt = Annotated[
    str | None,
    typer.Option(
        "--observations",
        envvar="ROUTING_AGENT_OBSERVATIONS",
        help="Observation store URL (default: --store).",
    ),
]
ExpOpt = Annotated[str | None, typer.Option("--experiment", "-e", help="Experiment id.")]
TrafficOpt = Annotated[
    float | None, typer.Option(help="Enrolled units per day for 'days remaining' (default: measured).")
]
UnpricedOpt = Annotated[float, typer.Option(help="Invalid above this share of unpriced calls.")]
JudgeOpt = Annotated[float, typer.Option(help="Invalid above this share of invalid judge verdicts.")]


def _local_path(url: str) -> Path | None:
    """The file behind a SQLite URL or plain path (None for memory:// and network stores)."""
    if "://" not in url:
        return Path(url)
    scheme, rest = url.split("://", 1)
    if scheme.lower() != "sqlite":
        return None
    return Path(rest[1:] if rest.startswith("/") else rest)


def _require_file(url: str, what: str) -> None:
    path = _local_path(url)
    if path is not None and not path.exists():
        raise fail(
            f"no {what} at '{path}': the file does not exist. Fix: pass the file your routing node or "
            "'routing-agent demo' wrote (e.g. routing-agent-demo/assignments.sqlite3), or a redis:// URL"
        )


@dataclass(frozen=True)
class _Opened:
    spec: ExperimentSpec
    assignments: AssignmentStore
    observations: ObservationStore
    obs_url: str

    def evaluate(self, settings: EvaluationSettings, traffic: float | None, *, timeline: bool) -> Evaluation:
        from routing_agent.evaluation.evaluator import evaluate

        with cli_errors(self.obs_url):
            return evaluate(
                self.spec, observations=self.observations, assignments=self.assignments, settings=settings,
                traffic_per_day=traffic, timeline=timeline,
            )  # fmt: skip


@contextmanager
def _run(config: Path, store: str, observations: str | None, experiment: str | None) -> Iterator[_Opened]:
    """Load the spec, open both stores (clear exit 2 on failure), and close them afterwards."""
    obs_url = observations or store
    with cli_errors(store):
        cfg = load_config(config)
        assert cfg is not None
        (spec,) = resolve_specs(cfg, experiment)
        assert isinstance(spec, ExperimentSpec)
        _require_file(store, "assignment store")
        _require_file(obs_url, "observation store")
        assignments = open_control_store(store)
        counts = assignments.counts(spec.id)
        state = assignments.get_state(spec.id)
    with cli_errors(obs_url):
        from routing_agent.stores.observations.open import open_observation_store

        obs = open_observation_store(obs_url)
        seen = obs.counts_by_variant(spec.id)
    try:
        if not counts and not seen and state is None:
            raise fail(
                f"experiment '{spec.id}' has no assignments in {redact(store)} and no observations in "
                f"{redact(obs_url)}. Fix: check the store URLs (and ?prefix=), or serve traffic first"
            )
        yield _Opened(spec, assignments, obs, obs_url)
    finally:
        obs.close()
        assignments.close()


def _print(console: Console, evaluation: Evaluation) -> None:
    d = evaluation.decision
    console.print(Text(f"{d.kind.value.upper()}", style=_STYLE.get(d.kind.value, "bold")), end="  ")
    console.print(Text(d.summary))
    for i, reason in enumerate(d.reasons, 1):
        console.print(Text(f"  {i}. {reason}", style="dim"))
    if evaluation.primary:
        table = Table(title="primary metric", title_justify="left")
        for h in ("arm", "control", "test", "difference", "CI", "p (adj.)", "always-valid p", "verdict"):
            table.add_column(h)
        from routing_agent.evaluation.text import ci, num, pcell, signed

        for c in evaluation.primary:
            r = c.result
            if r is None:
                table.add_row(c.variant, "—", "—", "—", "—", "—", "—", c.verdict)
                continue
            table.add_row(
                c.variant, num(r.control_mean), num(r.treatment_mean), signed(r.absolute_effect),
                ci(r.ci_low, r.ci_high), pcell(c.adjusted_p_value),
                pcell(c.sequential.p_value) if c.sequential else "—", c.verdict,
            )  # fmt: skip
        console.print(table)


def evaluate_command(  # noqa: PLR0917 (one parameter per CLI option)
    config: ConfigOpt,
    store: StoreOpt,
    observations: ObsOpt = None,
    experiment: ExpOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the whole evaluation as JSON.")] = False,
    traffic_per_day: TrafficOpt = None,
    max_unpriced_rate: UnpricedOpt = 0.05,
    max_invalid_judge_rate: JudgeOpt = 0.10,
) -> None:
    """Decide: ship, keep running, roll back, no difference (pick the cheaper), or invalid — with evidence."""
    console = Console(soft_wrap=True, highlight=False)
    with cli_errors():
        settings = EvaluationSettings(
            max_unpriced_rate=max_unpriced_rate, max_invalid_judge_rate=max_invalid_judge_rate
        )
    with _run(config, store, observations, experiment) as opened:
        evaluation = opened.evaluate(settings, traffic_per_day, timeline=False)
    if json_output:
        console.out(json.dumps(evaluation.to_json(), ensure_ascii=False, allow_nan=False), highlight=False)
    else:
        _print(console, evaluation)


def report_command(  # noqa: PLR0917 (one parameter per CLI option)
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Experiments YAML.")] = None,
    store: Annotated[
        str | None, typer.Option("--store", envvar="ROUTING_AGENT_STORE", help="Assignment store URL.")
    ] = None,
    observations: ObsOpt = None,
    experiment: ExpOpt = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="md, html or json (default: --out's suffix).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the report.")] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON report's JSON Schema and exit.")
    ] = False,
    traffic_per_day: TrafficOpt = None,
    max_unpriced_rate: UnpricedOpt = 0.05,
    max_invalid_judge_rate: JudgeOpt = 0.10,
) -> None:
    """Write the report: the decision in one sentence on top; Markdown, HTML with plots, or JSON."""
    from routing_agent.evaluation.report import SCHEMA_PATH, write_report

    if schema:
        text = SCHEMA_PATH.read_text(encoding="utf-8")
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
        return
    if config is None or store is None or out is None:
        missing = [n for n, v in (("--config", config), ("--store", store), ("--out", out)) if v is None]
        raise fail(f"report needs {', '.join(missing)} (or --schema)")
    chosen = fmt or {".md": "md", ".html": "html", ".htm": "html", ".json": "json"}.get(out.suffix.lower())
    if chosen not in ("md", "html", "json"):
        raise fail(f"--format must be md, html or json (got {fmt or out.suffix or 'no suffix'})")
    with cli_errors():
        settings = EvaluationSettings(
            max_unpriced_rate=max_unpriced_rate, max_invalid_judge_rate=max_invalid_judge_rate
        )
    with _run(config, store, observations, experiment) as opened:
        evaluation = opened.evaluate(settings, traffic_per_day, timeline=True)
    try:
        path = write_report(evaluation, out, chosen)
    except OSError as exc:
        raise fail(
            f"cannot write '{out}': {exc.strerror or exc}. Fix: choose a writable --out path"
        ) from None
    kind = evaluation.decision.kind.value
    line = Text.assemble((kind.upper(), _STYLE.get(kind, "bold")), f" report written to {os.fspath(path)}")
    Console(stderr=True, highlight=False, soft_wrap=True).print(line)


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` and ``report`` to the CLI."""
    app.command("evaluate")(evaluate_command)
    app.command("report")(report_command)
