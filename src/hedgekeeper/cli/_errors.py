"""One clear error line and a non-zero exit for mistakes a user can make."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

_stderr = Console(stderr=True)


class UserInputError(ValueError):
    """Bad input from the user: a missing file, a malformed row, an unknown name."""


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and exit with status 2."""
    _stderr.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)
