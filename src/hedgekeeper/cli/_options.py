"""Command-line options shared by several commands (one definition, one help text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ChainPath = Annotated[
    Path,
    typer.Option(
        "--chain",
        help="Deribit option chain CSV(.gz) (the shared/data or bundled sample format).",
        show_default=False,
    ),
]
"""``--chain CHAIN.csv[.gz]``: a Deribit option chain file."""

SnapshotAt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Snapshot time (ISO-8601, UTC if no offset); the nearest is used. "
        "Default: the first snapshot.",
    ),
]
"""``--at TIMESTAMP``: which snapshot of a chain file to use."""
