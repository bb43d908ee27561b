"""``hedgekeeper demo``: the main job on real data bundled with the package.

A short BTC straddle is hedged with the perpetual through the FTX collapse (November 2022,
hourly Binance perpetual, funding and Deribit DVOL bundled in the package) under the calendar,
delta band, Whalley–Wilmott, Zakamouline, Leland, delta-gamma and regime-adaptive policies, all
through the one decision engine; the command prints the comparison and writes the
tracking-error-vs-cost report (self-contained HTML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hedgekeeper.cli._errors import fail

DEFAULT_DEMO_OUT = "hedgekeeper-demo"


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.html and summary.json.")
    ] = Path(DEFAULT_DEMO_OUT),
) -> None:
    """Backtest hedging policies on a short BTC straddle through the FTX crash (bundled data)."""
    from rich.console import Console

    from hedgekeeper.cli.backtest import run_demo

    console = Console()
    console.rule("[bold]hedgekeeper demo[/] — which hedging policy would you have trusted?")
    try:
        report = run_demo(out, console=console)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    console.print(
        f"\nOpen the report in a browser: [bold]{report.resolve()}[/]\n"
        "Next: [bold]hedgekeeper reprice[/] checks our pricing against Deribit's marks on a real "
        "chain; [bold]hedgekeeper backtest examples/backtest_2021_2024.toml[/] runs 2021-2024 "
        "on ../shared/data; see README.md for every command."
    )
