"""``hedgekeeper reprice``: reprice a real Deribit option chain against Deribit's own marks.

Every option of a snapshot is priced with Black-76 at Deribit's mark implied volatility on the
expiry's forward (r = 0, coin units), the coin price and delta are compared with what Deribit
published, the implied volatility is solved back from the mark price, and a few expiries near
the money are printed. Without ``--chain`` it uses the chain bundled with the package.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from hedgekeeper.cli._errors import fail
from hedgekeeper.cli._options import SnapshotAt

ChainOrBundled = Annotated[
    Path | None,
    typer.Option(
        "--chain",
        help="Deribit option chain CSV(.gz). Default: the chain bundled with the package.",
        show_default=False,
    ),
]


def reprice(
    chain_path: ChainOrBundled = None,
    at: SnapshotAt = None,
    rows_per_expiry: Annotated[
        int, typer.Option("--rows", min=1, help="Near-the-money strikes shown per expiry.")
    ] = 4,
    expiries: Annotated[
        int, typer.Option("--expiries", min=1, help="Expiries shown (the nearest, > 1 day).")
    ] = 3,
) -> None:
    """Reprice a Deribit option chain and compare with Deribit's own marks and deltas."""
    from hedgekeeper.marketdata.deribit import load_chain
    from hedgekeeper.marketdata.samples import sample_chain_path
    from hedgekeeper.pricing import implied_vol, inverse_option

    console = Console()
    source = sample_chain_path() if chain_path is None else chain_path
    try:
        chain = load_chain(source, at=at)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    started = time.perf_counter()
    # Deribit marks inverse options with Black-76 on the expiry's forward at r = 0, in coin.
    priced = inverse_option(chain.forward, chain.strike, chain.t, chain.mark_iv, chain.kind)
    iv_back = implied_vol(
        chain.mark * chain.forward, chain.forward, chain.strike, chain.t, 0.0, chain.kind
    )
    elapsed_ms = (time.perf_counter() - started) * 1e3

    console.rule(
        f"[bold]hedgekeeper reprice[/] — Deribit {chain.underlying} options at "
        f"{chain.timestamp:%Y-%m-%d %H:%M:%S} UTC"
    )
    origin = "bundled real snapshot" if chain_path is None else str(source)
    console.print(
        f"{len(chain)} options, {len(chain.expiries())} expiries, {chain.underlying} index "
        f"{chain.index_price:,.2f} USD ({origin})."
    )
    table = Table(
        title=f"Near-the-money options: hedgekeeper vs Deribit (prices in {chain.underlying})",
        title_justify="left",
        caption=f"forward per expiry: Deribit's underlying (future or synthetic); "
        f"{elapsed_ms:.0f} ms in all",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("instrument", no_wrap=True)
    for header in ("IV", "price", "Deribit", "delta", "Deribit", "Δ p.a."):
        table.add_column(header, justify="right", no_wrap=True)
    # Skip expiries less than a day away: their near-the-money rows say little.
    shown = [e for e in np.unique(chain.expiry) if chain.t[chain.expiry == e][0] > 1 / 365]
    for expiry in shown[:expiries]:
        rows = np.flatnonzero(chain.expiry == expiry)
        distance = np.abs(np.log(chain.strike[rows] / chain.forward[rows]))
        order = rows[np.argsort(distance, kind="stable")][: 2 * rows_per_expiry]
        for i in sorted(order, key=lambda r: (chain.strike[r], -chain.kind[r])):
            table.add_row(
                str(chain.names[i]),
                f"{chain.mark_iv[i]:.2%}",
                f"{priced.price[i]:.5f}",
                f"{chain.mark[i]:.5f}",
                f"{priced.usd.delta[i]:+.3f}",
                f"{chain.delta[i]:+.3f}",
                f"{priced.delta_pa[i]:+.3f}",
            )
        table.add_section()
    console.print(table)

    price_err = np.abs(priced.price - chain.mark)
    delta_err = np.abs(priced.usd.delta - chain.delta)
    iv_err = np.abs(iv_back - chain.mark_iv)
    summary = Table(title="Whole snapshot", title_justify="left")
    summary.add_column("check")
    summary.add_column("median", justify="right")
    summary.add_column("95th pct", justify="right")
    summary.add_row(
        f"|price - Deribit mark| ({chain.underlying})",
        f"{np.median(price_err):.2e}",
        f"{np.percentile(price_err, 95):.2e}",
    )
    summary.add_row(
        "|delta - Deribit delta|",
        f"{np.median(delta_err):.2e}",
        f"{np.percentile(delta_err, 95):.2e}",
    )
    finite = np.isfinite(iv_err)
    if finite.any():
        summary.add_row(
            f"|IV from mark - Deribit IV| ({finite.sum()} of {len(chain)} solvable)",
            f"{np.median(iv_err[finite]):.2e}",
            f"{np.percentile(iv_err[finite], 95):.2e}",
        )
    console.print(summary)
    console.print(
        "delta: Black forward delta, as Deribit reports it; Δ p.a.: premium-adjusted delta, "
        "the coin-margined hedge ratio of an inverse option.\n"
        "Deribit rounds mark IVs to 4 decimals, so prices agree to about 1e-5 BTC, not exactly.\n"
        "Next: [bold]hedgekeeper exposure --chain <file>[/] for a book's Greeks and scenario grid, "
        "[bold]hedgekeeper surface --chain <file>[/] for SVI smiles; see README.md."
    )
