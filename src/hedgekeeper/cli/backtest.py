"""``hedgekeeper backtest CONFIG.toml [--out DIR] [--json]``: historical replay of a policy family.

Reads a backtest configuration (:mod:`hedgekeeper.config.backtest`; ``examples/demo.toml``),
loads the hourly market it names, replays the option book once per policy and parameter through
``engine.decide``, prints a summary table (or one JSON object with ``--json``) and writes a
self-contained HTML report ``DIR/report.html`` plus ``DIR/summary.json``.

``run_demo(out_dir)`` runs the configuration bundled with the package (the same text as
``examples/demo.toml``: a short BTC straddle through the FTX collapse) and returns the report's
path; ``hedgekeeper demo`` can call it.

Heavy imports stay inside the functions so ``hedgekeeper --help`` stays fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgekeeper.cli._errors import fail

if TYPE_CHECKING:
    from rich.console import Console

    from hedgekeeper.backtest.suite import SuiteResult

DEFAULT_OUT = "backtest_report"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run_config(config_path: str | Path, out_dir: str | Path, *, console: Console | None = None,
               quiet: bool = False) -> tuple[SuiteResult, Path, dict[str, Any]]:
    """Run the backtest of ``config_path``; write the report and summary into ``out_dir``.

    Parameters
    ----------
    config_path : the TOML configuration.
    out_dir : folder for ``report.html`` and ``summary.json`` (created if needed).
    console : where progress goes (stderr console by default).
    quiet : no progress bar.

    Returns
    -------
    (suite, report path, JSON-ready summary)

    Raises
    ------
    ValueError
        :class:`~hedgekeeper.config.toml.ConfigError` (file, line, field) or
        :class:`~hedgekeeper.marketdata.deribit.MarketDataError` (file, column, row).
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from hedgekeeper.backtest.market import load_market
    from hedgekeeper.backtest.suite import run_suite
    from hedgekeeper.config.backtest import BacktestConfig
    from hedgekeeper.config.toml import load_toml
    from hedgekeeper.report.backtest import write_report

    path = Path(config_path)
    config, text = load_toml(path, BacktestConfig)
    market = load_market(config.data.files(path.resolve().parent), coin=config.data.coin,
                         symbol=config.data.symbol, start=config.window.start,
                         end=config.window.end, vol=config.vol.settings())
    runs = config.runs()
    setup = config.setup()
    stderr = console or Console(stderr=True)
    with Progress(TextColumn("[bold]backtest[/]"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=stderr, disable=quiet, transient=True) as progress:
        task = progress.add_task("", total=len(runs))

        def advance(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, description=name)

        suite = run_suite(market, setup, runs, progress=advance)
    report = write_report(suite, out_dir, title=config.title, config_text=text,
                          config_name=path.name)
    summary = {
        "title": config.title,
        "config": str(path),
        "window": {"start": market.start.isoformat(), "end": market.end.isoformat(),
                   "steps": len(market)},
        "seconds": suite.seconds,
        "report": str(report),
        "runs": [{k: _finite(v) for k, v in s.as_dict().items()} | {"family": spec.family}
                 for s, spec in zip(suite.summaries, suite.specs, strict=True)],
        "pareto_tracking": [p.name for p in suite.tracking_frontier if p.pareto],
        "pareto_hedge_error": [p.name for p in suite.error_frontier if p.pareto],
        "units": {
            "*_usd": "USD over the window (costs >= 0; funding > 0 received)",
            "hedge_error_std_usd": "std of the hedged book's daily P&L",
            "tracking_error_usd": "RMS of net delta x index before each hourly decision",
            "turnover_coin": "perpetual traded, coin",
            "max_abs_delta_coin": "largest |net delta| before a decision (rolls left out), coin",
        },
    }
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2) + "\n",
                                                encoding="utf-8")
    return suite, report, summary


def print_summary(suite: SuiteResult, report: Path, console: Console) -> None:
    """The rich summary table and where the report is."""
    from rich import box
    from rich.table import Table

    from hedgekeeper.report.figures import short_name

    pareto = {p.name for p in suite.tracking_frontier if p.pareto}
    market = suite.market
    table = Table(
        title=f"{market.coin} option book hedged with {market.perp_symbol}, "
              f"{market.start:%Y-%m-%d} .. {market.end:%Y-%m-%d} ({len(market)} hours)",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
        caption="USD over the window. hedge err: std of daily P&L (ratio: to the unhedged "
                "book's); track err: RMS net delta x index; cost: fees + spread + impact; P&L "
                "includes costs and funding; |Δ|max in coin. ★ on the cost / tracking-error "
                "Pareto set.",
        caption_justify="left",
    )
    table.add_column("policy", no_wrap=True)
    for header in ("hedge err", "ratio", "track err", "cost", "P&L", "rebal", "|Δ|max"):
        table.add_column(header, justify="right", no_wrap=True)
    for s in suite.summaries:
        star = " ★" if s.name in pareto else ""
        table.add_row(f"{short_name(s.name)}{star}", f"{s.hedge_error_std_usd:,.0f}",
                      f"{s.hedge_error_ratio:.2f}", f"{s.tracking_error_usd:,.0f}",
                      f"{s.total_cost_usd:,.0f}", f"{s.pnl_usd:+,.0f}", f"{s.rebalances}",
                      f"{s.max_abs_delta_coin:.2f}")
    console.print(table)
    first = suite.summaries[0]
    console.print(f"unhedged book: P&L {first.option_pnl_usd:+,.0f} USD, daily std "
                  f"{first.unhedged_std_usd:,.0f} USD; {len(suite.results)} runs in "
                  f"{suite.seconds:.1f} s.")
    console.print(f"report: [bold]{report}[/] (self-contained HTML, opens offline)")


def run_demo(out_dir: str | Path = DEFAULT_OUT, *, console: Console | None = None) -> Path:
    """Run the bundled demo configuration, print its table, and return the report's path."""
    from rich.console import Console

    from hedgekeeper.backtest.samples import demo_config_path

    out = console or Console()
    suite, report, _ = run_config(demo_config_path(), out_dir)
    print_summary(suite, report, out)
    return report


def backtest(
    config: Annotated[Path, typer.Argument(help="Backtest configuration (TOML), e.g. "
                                                "examples/demo.toml.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and "
                                                    "summary.json.")] = Path(DEFAULT_OUT),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (every run's "
                                                         "statistics, the Pareto sets, the "
                                                         "report path) instead of a table.")]
    = False,
) -> None:
    """Replay an option book on real hourly data under a family of hedging policies."""
    from rich.console import Console

    try:
        suite, report, summary = run_config(config, out, quiet=as_json)
    except ValueError as exc:  # ConfigError and MarketDataError are ValueErrors
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    print_summary(suite, report, Console())
