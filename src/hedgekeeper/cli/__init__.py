"""The ``hedgekeeper`` command line: a thin shell over the pure core.

Each command lives in its own module under ``hedgekeeper.cli`` and is registered here; the
modules import the heavy parts of the package inside the command functions, so ``--help`` stays
fast. Errors a user can cause (a missing file, a malformed row, an unknown instrument) are
reported as one clear line with exit code 2 (see :mod:`hedgekeeper.cli._errors`).
"""

from __future__ import annotations

import typer

from hedgekeeper.cli.demo import demo as _demo
from hedgekeeper.cli.exposure import exposure as _exposure
from hedgekeeper.cli.surface import surface as _surface

app = typer.Typer(
    name="hedgekeeper",
    help=(
        "Keep a crypto derivatives book on target: price options and measure exposure, "
        "decide when to rebalance, and size the least-cost hedge."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("demo")(_demo)
app.command("exposure")(_exposure)
app.command("surface")(_surface)


def main() -> None:
    """Console-script entry point."""
    app()


from hedgekeeper.cli.simulate import simulate_hedge_command as _simulate_hedge  # noqa: E402

app.command("simulate-hedge")(_simulate_hedge)

from hedgekeeper.cli.journal import journal_app as _journal_app  # noqa: E402

app.add_typer(_journal_app, name="journal")

from hedgekeeper.cli.sweep import sweep as _sweep  # noqa: E402

app.command("sweep")(_sweep)

from hedgekeeper.cli.paper_venue import paper_venue_app as _paper_venue_app  # noqa: E402

app.add_typer(_paper_venue_app, name="paper-venue")

from hedgekeeper.cli.forecast import forecast_command as _forecast  # noqa: E402

app.command("forecast")(_forecast)

from hedgekeeper.cli.run import kill_command as _kill  # noqa: E402
from hedgekeeper.cli.run import resume_command as _resume  # noqa: E402
from hedgekeeper.cli.run import run_command as _run  # noqa: E402
from hedgekeeper.cli.run import status_command as _status  # noqa: E402

app.command("run")(_run)
app.command("kill")(_kill)
app.command("resume")(_resume)
app.command("status")(_status)

from hedgekeeper.cli.backtest import backtest as _backtest  # noqa: E402

app.command("backtest")(_backtest)
