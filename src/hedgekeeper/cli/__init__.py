"""The ``hedgekeeper`` command line: a thin shell over the pure core.

Each command lives in its own module under ``hedgekeeper.cli`` and is registered here; the
modules import the heavy parts of the package inside the command functions, so ``--help`` stays
fast. Errors a user can cause (a missing file, a malformed row, an unknown instrument) are
reported as one clear line with exit code 2 (see :mod:`hedgekeeper.cli._errors`).
"""

from __future__ import annotations

import typer

from hedgekeeper.cli.backtest import backtest as _backtest
from hedgekeeper.cli.demo import demo as _demo
from hedgekeeper.cli.exposure import exposure as _exposure
from hedgekeeper.cli.forecast import forecast_command as _forecast
from hedgekeeper.cli.journal import journal_app as _journal_app
from hedgekeeper.cli.paper_venue import paper_venue_app as _paper_venue_app
from hedgekeeper.cli.reprice import reprice as _reprice
from hedgekeeper.cli.run import kill_command as _kill
from hedgekeeper.cli.run import resume_command as _resume
from hedgekeeper.cli.run import run_command as _run
from hedgekeeper.cli.run import status_command as _status
from hedgekeeper.cli.simulate import simulate_hedge_command as _simulate_hedge
from hedgekeeper.cli.surface import surface as _surface
from hedgekeeper.cli.sweep import sweep as _sweep

app = typer.Typer(
    name="hedgekeeper",
    help=(
        "Keep a crypto derivatives book on target: price options and measure exposure, "
        "decide when to rebalance, and size the least-cost hedge — in research and live."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_START = "Get started"
_BOOK = "Pricing and exposure"
_RESEARCH = "Research: choose a policy before trusting it with money"
_LIVE = "Live keeper (paper mode by default)"

app.command("demo", rich_help_panel=_START)(_demo)
app.command("reprice", rich_help_panel=_START)(_reprice)
app.command("exposure", rich_help_panel=_BOOK)(_exposure)
app.command("surface", rich_help_panel=_BOOK)(_surface)
app.command("simulate-hedge", rich_help_panel=_RESEARCH)(_simulate_hedge)
app.command("backtest", rich_help_panel=_RESEARCH)(_backtest)
app.command("sweep", rich_help_panel=_RESEARCH)(_sweep)
app.command("forecast", rich_help_panel=_RESEARCH)(_forecast)
app.command("run", rich_help_panel=_LIVE)(_run)
app.command("status", rich_help_panel=_LIVE)(_status)
app.command("kill", rich_help_panel=_LIVE)(_kill)
app.command("resume", rich_help_panel=_LIVE)(_resume)
app.add_typer(_journal_app, name="journal", rich_help_panel=_LIVE)
app.add_typer(_paper_venue_app, name="paper-venue", rich_help_panel=_LIVE)


def main() -> None:
    """Console-script entry point."""
    app()
