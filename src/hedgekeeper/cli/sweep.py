"""``hedgekeeper sweep CONFIG.toml``: a grid of policies × parameters × scenarios on Dask.

Usage::

    hedgekeeper sweep CONFIG.toml [--scheduler tcp://HOST:PORT] [--workers N] [--output DIR]

Without ``--scheduler`` a local Dask cluster of ``--workers`` processes (default 2) runs the
tasks; with it, the workers of that running scheduler do. A progress bar shows the tasks as
they finish; the results go to ``DIR/results.parquet`` (default ``DIR``: the config's
``[sweep].output``, relative to the config file) beside a copy of the config; at the end the
cost–risk frontier of each scenario is printed and written, with every run and the config, to
the self-contained HTML report ``DIR/report.html``. See ``docs/sweep.md``.

Heavy imports stay inside the command body so ``hedgekeeper --help`` stays fast.
"""

from __future__ import annotations

import math
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgekeeper.cli._errors import fail

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def print_frontier(console: Console, results: pd.DataFrame) -> None:
    """One table per scenario: its Pareto-efficient policies, lowest risk first."""
    from rich.table import Table

    from hedgekeeper.sweep.frontier import frontier

    efficient = frontier(results)
    for scenario, rows in efficient.groupby("scenario", sort=False):
        first = rows.iloc[0]
        total = int((results["scenario"] == scenario).sum())
        table = Table(
            title=f"{scenario}: cost-risk frontier, {len(rows)} of {total} policies",
            caption=f"risk = {first['risk_measure']}; cost = {first['cost_measure']}",
            title_justify="left",
            caption_justify="left",
        )
        table.add_column("policy", overflow="fold")
        table.add_column("risk", justify="right", no_wrap=True)
        table.add_column("cost", justify="right", no_wrap=True)
        table.add_column("rebalances", justify="right", no_wrap=True)
        for _, row in rows.iterrows():
            table.add_row(
                str(row["label"]),
                _number(float(row["risk"])),
                _number(float(row["cost"])),
                _number(float(row["rebalances"]), 6),
            )
        console.print(table)


def sweep(
    config: Annotated[
        Path,
        typer.Argument(help="Sweep configuration (TOML); see docs/sweep.md.", show_default=False),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler, tcp://HOST:PORT (default: start a local "
            "cluster).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Worker processes of the local cluster (default 2); not with --scheduler.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Folder for results.parquet, report.html and a copy of the config (default: "
            "the config's "
            "[sweep].output, relative to the config file).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a grid of policies x parameters x scenarios on Dask; write Parquet and a report."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    missing = [name for name in ("distributed", "pyarrow", "pydantic") if find_spec(name) is None]
    if missing:
        fail(
            f"hedgekeeper sweep needs the 'sweep' extra ({', '.join(missing)} missing): "
            "pip install 'hedgekeeper[sweep]'"
        )
    from hedgekeeper.sweep.config import SweepConfigError, load_sweep_config
    from hedgekeeper.sweep.grid import expand_grid
    from hedgekeeper.sweep.runner import SweepError, check_address, run_sweep, write_results

    console = Console()
    try:
        if scheduler is not None:
            check_address(scheduler)
            if workers is not None:
                raise ValueError(
                    "--workers sets the size of the local cluster; with --scheduler "
                    "the scheduler's own workers run the tasks"
                )
        if workers is not None and workers < 1:
            raise ValueError(f"--workers must be >= 1, got {workers}")
        settings, base = load_sweep_config(config)
    except (SweepConfigError, ValueError) as exc:
        fail(str(exc))
    folder = output if output is not None else base / settings.sweep.output
    total = len(expand_grid(settings))
    where = (
        f"the scheduler at {scheduler}"
        if scheduler
        else (f"a local Dask cluster of {workers or 2} worker processes")
    )
    console.print(f"sweep [bold]{settings.sweep.name}[/]: {total} tasks on {where}")
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        bar = progress.add_task("tasks", total=total)

        def advance(done: int, _total: int, _row: dict[str, Any]) -> None:
            progress.update(bar, completed=done)

        try:
            run = run_sweep(settings, base, scheduler=scheduler, workers=workers, progress=advance)
        except (SweepError, ValueError, OSError) as exc:
            fail(str(exc))
    path = write_results(run, folder, config)
    console.print(
        f"{len(run.results)} results in {run.seconds:.1f} s on {run.workers} workers "
        f"({run.scheduler})"
    )
    print_frontier(console, run.results)
    console.print(f"results: {path}")
    from hedgekeeper.report.sweep import write_sweep_report

    report = write_sweep_report(
        run.results,
        folder,
        title=f"Sweep {settings.sweep.name}",
        config_text=config.read_text(encoding="utf-8"),
        config_name=config.name,
        facts={
            "runs": f"{len(run.results)} ({total} tasks)",
            "scheduler": run.scheduler,
            "workers": str(run.workers),
            "wall time": f"{run.seconds:.1f} s",
            "results": str(path),
        },
    )
    console.print(f"report: {report}")
