"""The ``hedgekeeper`` command line: a thin shell over the pure core.

Each command lives in its own module under ``hedgekeeper.cli`` and is registered here. Errors a
user can cause (a missing file, a malformed row, an unknown instrument) are reported as one clear
line with exit code 2 (see :mod:`hedgekeeper.cli._errors`).
"""

from __future__ import annotations

import typer

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


def main() -> None:
    """Console-script entry point."""
    app()


from hedgekeeper.cli.exposure import exposure as _exposure  # noqa: E402  (lazy inside)

app.command("exposure")(_exposure)


@app.callback()
def _commands() -> None:
    """Keep ``hedgekeeper <command>`` a command group even while only one command exists."""


from hedgekeeper.cli.surface import surface as _surface  # noqa: E402  (lazy inside)

app.command("surface")(_surface)
