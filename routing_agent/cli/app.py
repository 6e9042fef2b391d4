"""The ``routing-agent`` command line (typer). Each command is a thin shell over a library function."""

from __future__ import annotations

__all__ = ["app", "main"]

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="routing-agent",
    help="A/B-test LLM releases inside LangGraph workflows: route, observe, evaluate, roll back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """A/B-test LLM releases inside LangGraph workflows: route, observe, evaluate, roll back."""


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Experiment YAML files or folders (*.yaml, *.yml).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check experiment configs: every problem with file:line, experiment, field and fix; exit 1 if any."""
    from routing_agent.cli.validate_command import run_validate

    raise typer.Exit(run_validate(paths, as_json=json_output))


@app.command("sample-size")
def sample_size(  # noqa: PLR0917 (one parameter per CLI option)
    baseline: Annotated[
        float, typer.Option(help="Expected control value: a rate in (0, 1), or a mean with --sd.")
    ],
    mde: Annotated[
        float, typer.Option(help="Minimum detectable effect (absolute, or a share with --relative).")
    ],
    sd: Annotated[float | None, typer.Option(help="Per-unit standard deviation: plan for a mean.")] = None,
    relative: Annotated[bool, typer.Option("--relative", help="--mde is a share of --baseline.")] = False,
    alpha: Annotated[float, typer.Option(help="Significance level (family-wise with several arms).")] = 0.05,
    power: Annotated[float, typer.Option(help="Target power.")] = 0.8,
    ratio: Annotated[str | None, typer.Option(help="Allocation, control first: 0.8/0.2 or 80/20.")] = None,
    arms: Annotated[int | None, typer.Option(help="Number of arms incl. control (default 2).")] = None,
    traffic_per_day: Annotated[
        float | None, typer.Option(help="Units entering the experiment per day.")
    ] = None,
    one_sided: Annotated[bool, typer.Option("--one-sided", help="One-sided superiority test.")] = False,
    non_inferiority: Annotated[bool, typer.Option("--non-inferiority", help="Non-inferiority test.")] = False,
    margin: Annotated[float | None, typer.Option(help="Non-inferiority margin (absolute).")] = None,
    margin_relative: Annotated[bool, typer.Option("--margin-relative", help="--margin is a share.")] = False,
    direction: Annotated[str, typer.Option(help="Which way is better: increase or decrease.")] = "increase",
    correction: Annotated[str, typer.Option(help="Several arms: bonferroni or dunnett.")] = "bonferroni",
    pooled: Annotated[bool, typer.Option("--pooled", help="Pooled-variance z test (rates).")] = False,
) -> None:
    """Units per arm: the exact figure beside the rule of thumb 16·p(1−p)/MDE², and the duration."""
    from routing_agent.stats.power import parse_allocation, plan_sample_size

    try:
        weights = parse_allocation(ratio) if ratio else None
        n_arms = arms if arms is not None else (len(weights) if weights else 2)
        if weights is not None and len(weights) != n_arms:
            raise ValueError(f"--ratio gives {len(weights)} shares but --arms is {n_arms}")
        if direction not in ("increase", "decrease") or correction not in ("bonferroni", "dunnett"):
            raise ValueError("--direction is increase or decrease; --correction is bonferroni or dunnett")
        plan = plan_sample_size(
            baseline=baseline, mde=mde, sd=sd, mde_relative=relative, alpha=alpha, power=power,
            weights=weights, arms=n_arms, traffic_per_day=traffic_per_day, margin=margin,
            margin_relative=margin_relative, direction=direction,  # type: ignore[arg-type]
            correction=correction,  # type: ignore[arg-type]
            pooled=pooled,
            test="non-inferiority" if non_inferiority else "one-sided" if one_sided else "two-sided",
        )  # fmt: skip
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo("\n".join(plan.describe()))


@app.command()
def demo(  # noqa: PLR0917 (one parameter per CLI option)
    sessions: Annotated[
        int | None,
        typer.Option(min=1, help="Support sessions to run (default 3000; worked-example: 20000)."),
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Where the store file and results go (default ./routing-agent-<scenario>)."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Sessions run concurrently (threads).")] = 16,
    seed: Annotated[int, typer.Option(help="Seed of the session draw.")] = 0,
    time_scale: Annotated[
        float, typer.Option(min=0, help="Seconds slept per simulated second of model latency.")
    ] = 0.001,
    config: Annotated[
        Path | None,
        typer.Option(help="Experiment YAML (default: the support config shipped in the package)."),
    ] = None,
    otlp: Annotated[
        str | None,
        typer.Option(
            help="Export traces and metrics over OTLP/HTTP to this URL (Phoenix, MLflow, a collector); "
            "headers from OTEL_EXPORTER_OTLP_HEADERS (MLflow: x-mlflow-experiment-id=<id>)."
        ),
    ] = None,
    console_traces: Annotated[bool, typer.Option(help="Print spans to stderr.")] = False,
    scenario: Annotated[
        str,
        typer.Option(
            help="support: the main job, decided. worked-example: the article's worked example end to end "
            "(experiment, segmentation decision, reviewer approves the easy segment, sessions after the "
            "ship, realised cost reduction)."
        ),
    ] = "support",
    after_sessions: Annotated[
        int, typer.Option(min=1, help="worked-example: sessions run after the segment-level ship.")
    ] = 2000,
) -> None:
    """Run the main job offline: support triage, control vs candidate, SQLite store, simulated models."""
    from routing_agent.cli._common import cli_errors
    from routing_agent.simulation.demo import DEFAULT_DEMO_SESSIONS, RunSettings
    from routing_agent.simulation.demo import demo as run_demo

    if scenario not in {"support", "worked-example"}:
        raise typer.BadParameter("support or worked-example", param_hint="--scenario")
    worked = scenario == "worked-example"
    if worked:
        from routing_agent.simulation.worked_example import DEFAULT_SESSIONS, run_worked_example
    default_dir = Path("routing-agent-worked-example" if worked else "routing-agent-demo")
    settings = RunSettings(
        sessions=sessions or (DEFAULT_SESSIONS if worked else DEFAULT_DEMO_SESSIONS), workers=workers,
        seed=seed, time_scale=time_scale, workdir=workdir or default_dir, otlp=otlp,
        console_traces=console_traces,
    )  # fmt: skip
    with cli_errors():  # a bad config or store: one clear line, no traceback
        if worked:
            run_worked_example(settings, after_sessions=after_sessions)
        else:
            run_demo(settings, config_path=config)


@app.command()
def simulate(  # noqa: PLR0917 (one parameter per CLI option)
    config: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Experiment YAML.")],
    workflow: Annotated[
        str | None, typer.Option(help="support, invoice or rag (default: inferred from the config).")
    ] = None,
    sessions: Annotated[int, typer.Option(min=1, help="Sessions (units) to run.")] = 1000,
    workers: Annotated[int, typer.Option(min=1, help="Sessions run concurrently (threads).")] = 16,
    store: Annotated[
        str | None, typer.Option(help="Assignment store: path.sqlite3, sqlite:///…, redis://…, memory://.")
    ] = None,
    workdir: Annotated[Path, typer.Option(help="Where results (and the default store) go.")] = Path(
        "routing-agent-simulate"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the session draw.")] = 0,
    time_scale: Annotated[
        float, typer.Option(min=0, help="Seconds slept per simulated second of model latency.")
    ] = 0.001,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Delete the default store and observation files first.")
    ] = False,
    run_id: Annotated[
        str | None,
        typer.Option(help="Part of every session id (default: a fresh one, so runs never reuse ids)."),
    ] = None,
    decide: Annotated[
        bool, typer.Option("--decide", help="Also evaluate and write report.{html,md,json}.")
    ] = False,
    mirror_rate: Annotated[
        float,
        typer.Option(min=0, max=1, help="Share of sessions re-run on control for citation stability."),
    ] = 1.0,
) -> None:
    """Run any reference workflow under a config, concurrently, against any store.

    Records what `demo` records (per-call telemetry, session outcomes, every declared scorer) in
    WORKDIR/observations.sqlite3; `routing-agent evaluate --observations sqlite:///…` reads it.
    """
    from routing_agent.cli._common import cli_errors
    from routing_agent.simulation.demo import RunSettings
    from routing_agent.simulation.demo import simulate as run_simulate

    settings = RunSettings(
        sessions=sessions, workers=workers, seed=seed, time_scale=time_scale, workdir=workdir, store=store,
        fresh=fresh, run_id=run_id, decide=decide, mirror_rate=mirror_rate,
    )  # fmt: skip
    with cli_errors(store):  # a bad config or store: one clear line, no traceback
        run_simulate(config, settings, workflow=workflow)


# Operator commands (status, rollback, pause, resume, stop, review …, watch): control_commands.py
from routing_agent.cli.control_commands import register as _register_control  # noqa: E402

_register_control(app)

# Offline scoring of stored outputs (score): scoring_commands.py
from routing_agent.cli.scoring_commands import register as _register_scoring  # noqa: E402

_register_scoring(app)


# Decide and report (evaluate, report): evaluation_commands.py
from routing_agent.cli.evaluation_commands import register as _register_evaluation  # noqa: E402

_register_evaluation(app)

# Store maintenance (purge, recover): store_commands.py
from routing_agent.cli.store_commands import register as _register_store  # noqa: E402

_register_store(app)


# The live dashboard (dashboard): dashboard_command.py (starlette/uvicorn imported when it runs)
from routing_agent.cli.dashboard_command import dashboard as _dashboard  # noqa: E402

app.command("dashboard")(_dashboard)


def main() -> None:
    """Console-script entry point."""
    app()
