"""``hedgekeeper exposure``: Greeks and a scenario grid of a book against a Deribit chain snapshot.

Usage::

    hedgekeeper exposure --chain CHAIN.csv[.gz] [--at TIMESTAMP] [--positions POSITIONS.csv]
                         [--numeraire usd|coin] [--perp-prices PERP.csv] [--json]

Market inputs: the chain snapshot nearest ``--at`` (default: the first in the file). Options
are priced with Black-76 (``rate = 0``) at Deribit's mark implied vol on Deribit's own
underlying of their expiry (the ``underlying`` column, its median per expiry): Deribit's mark IV
is quoted against that forward, so this reproduces Deribit's ``mark_price`` and ``delta``.
Dated futures are priced at the same listed underlying, perpetuals at ``--perp-prices`` (the
``deribit_perp_at_option_snapshots`` format) when given, else at the index.

Heavy imports stay inside the command body so ``hedgekeeper --help`` stays fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgekeeper.cli._errors import fail
from hedgekeeper.cli._options import ChainPath, SnapshotAt

if TYPE_CHECKING:
    from hedgekeeper.domain.book import Book
    from hedgekeeper.domain.market import MarketSnapshot
    from hedgekeeper.pricing.exposure import Exposure
    from hedgekeeper.pricing.scenario import ScenarioGrid

UNITS: dict[str, str] = {
    "quantity": "contracts (options: 1 coin each; inverse perpetual/future: contract_size USD)",
    "price_coin": (
        "coin per contract (inverse option: Black-76 USD price / forward, Deribit's "
        "mark_price); null for perpetuals and futures (no premium)"
    ),
    "price_usd": "USD per contract for options; USD per coin (the instrument's price) otherwise",
    "iv": "implied volatility used, fraction (Deribit mark IV)",
    "forward": "USD per coin: the expiry's forward, the perpetual's price, or the index",
    "delta": (
        "Black forward delta dC/dF per coin of underlying (Deribit's delta column; per contract"
        " for options); 1 for perpetuals, futures and spot"
    ),
    "delta_premium_adjusted": (
        "coin-numeraire delta per coin of underlying: delta - price_coin for an inverse option "
        "(the coin-margined hedge delta)"
    ),
    "contract_delta_coin": (
        "spot delta of one contract in USD terms, coin (forwards move with spot): delta * F / S"
        " for an option, contract_size / S for an inverse perpetual"
    ),
    "contract_delta_usd": "S * contract_delta_coin, USD per contract",
    "gamma": "Black d2C/dF2 per contract, coin per USD",
    "vega": "USD per vol point per contract",
    "theta": "USD per calendar day per contract",
    "expiry_bucket": "expiry date (UTC, 08:00 settlement), 'perpetual' or 'spot'",
    "contract_size": "coin per contract (options, linear), USD face value (inverse futures)",
    "totals.spot": "index, USD per coin",
    "totals.value": (
        "book value in the numeraire (option premiums; futures are marked to market at 0)"
    ),
    "totals.delta_coin": (
        "coin: dV/dS (usd numeraire) or S dV/dS (coin numeraire), spot and forwards moving together"
    ),
    "totals.delta_usd": "USD: S * delta_coin",
    "totals.gamma": "coin per USD: d delta_coin / dS",
    "totals.cash_gamma_usd_per_1pct": (
        "USD: change of delta_coin for a +1 % spot move, valued at S: 0.01 * S^2 * gamma"
    ),
    "totals.cash_gamma_coin_per_1pct": (
        "coin: change of delta_coin for a +1 % spot move, 0.01 * S * gamma"
    ),
    "totals.vega": "numeraire per vol point (all implied vols + 0.01)",
    "totals.vega_by_expiry": "numeraire per vol point, per expiry bucket",
    "totals.theta": "numeraire per calendar day",
    "totals.buckets": "the totals' fields per expiry bucket, in the same units",
    "totals.scenario.pnl": (
        "numeraire; rows: spot_shocks (relative, forwards move with spot), columns: vol_shocks "
        "(relative); full Black-76 revaluation"
    ),
}


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _load_inputs(
    chain_path: Path, at: str | None, positions_path: Path | None, perp_path: Path | None
) -> tuple[MarketSnapshot, Book]:
    from hedgekeeper.marketdata import load_chain, load_perp_prices, load_positions
    from hedgekeeper.pricing.exposure import chain_book, listed_snapshot

    chain = load_chain(chain_path, at)
    perp_prices: dict[str, float] = {}
    if perp_path is not None:
        perps = load_perp_prices(perp_path, chain.underlying)
        perp_prices[perps.instrument_name] = perps.at(chain.timestamp)
    snapshot = listed_snapshot(chain, perp_prices)
    if positions_path is None:
        return snapshot, chain_book(chain)
    return snapshot, load_positions(positions_path, as_of=chain.timestamp)


def _check_options_listed(book: Book, snapshot: MarketSnapshot, chain_path: Path) -> None:
    from hedgekeeper.domain.instruments import Option

    for instrument in book.instruments():
        if isinstance(instrument, Option) and instrument.name not in snapshot.mark_ivs:
            raise ValueError(
                f"option {instrument.name!r} is not in the chain {str(chain_path)!r} at "
                f"{snapshot.timestamp.isoformat()} (no mark implied volatility to price it)"
            )
        if instrument.underlying != snapshot.underlying:
            raise ValueError(
                f"instrument {instrument.name!r} is on {instrument.underlying}, but the chain "
                f"{str(chain_path)!r} is a {snapshot.underlying} chain"
            )


def _report(
    result: Exposure, grid: ScenarioGrid, snapshot: MarketSnapshot, chain_path: Path
) -> dict[str, Any]:
    positions, contract = result.positions, result.contract
    rows = []
    for i, name in enumerate(positions.instrument_name):
        rows.append(
            {
                "instrument_name": name,
                "quantity": float(positions.quantity[i]),
                "price_coin": _finite_or_none(contract.price_coin[i]),
                "price_usd": float(contract.price_usd[i]),
                "iv": _finite_or_none(contract.iv[i]),
                "delta": float(contract.delta[i]),
                "delta_premium_adjusted": float(contract.delta_premium_adjusted[i]),
                "gamma": float(contract.gamma[i]),
                "vega": float(contract.vega[i]),
                "theta": float(contract.theta[i]),
                "contract_delta_coin": float(contract.delta_coin[i]),
                "contract_delta_usd": float(contract.delta_usd[i]),
                "forward": float(positions.forward[i]),
                "expiry_bucket": positions.bucket[i],
                "contract_size": float(positions.contract_size[i]),
            }
        )
    total = result.by_underlying
    buckets = result.by_bucket
    bucket_rows = [
        {
            "bucket": buckets.label[j].split(" ", 1)[1],
            "value": float(buckets.value[j]),
            "delta_coin": float(buckets.delta_coin[j]),
            "delta_usd": float(buckets.delta_usd[j]),
            "gamma": float(buckets.gamma_coin_per_usd[j]),
            "cash_gamma_usd_per_1pct": float(buckets.cash_gamma_usd_per_1pct[j]),
            "cash_gamma_coin_per_1pct": float(buckets.cash_gamma_coin_per_1pct[j]),
            "vega": float(buckets.vega_per_vol_point[j]),
            "theta": float(buckets.theta_per_day[j]),
        }
        for j in range(len(buckets))
    ]
    worst_pnl, worst_spot, worst_vol = grid.worst()
    totals = {
        "numeraire": result.numeraire,
        "underlying": snapshot.underlying,
        "spot": float(total.spot[0]),
        "value": float(total.value[0]),
        "delta_coin": float(total.delta_coin[0]),
        "delta_usd": float(total.delta_usd[0]),
        "gamma": float(total.gamma_coin_per_usd[0]),
        "cash_gamma_usd_per_1pct": float(total.cash_gamma_usd_per_1pct[0]),
        "cash_gamma_coin_per_1pct": float(total.cash_gamma_coin_per_1pct[0]),
        "vega": float(total.vega_per_vol_point[0]),
        "vega_by_expiry": {
            row["bucket"]: row["vega"]
            for row in bucket_rows
            if row["bucket"] not in ("spot", "perpetual")
        },
        "theta": float(total.theta_per_day[0]),
        "buckets": bucket_rows,
        "scenario": {
            **grid.to_dict(),
            "worst": {"pnl": worst_pnl, "spot_shock": worst_spot, "vol_shock": worst_vol},
        },
    }
    return {
        "chain": str(chain_path),
        "timestamp": snapshot.timestamp.isoformat().replace("+00:00", "Z"),
        "underlying": snapshot.underlying,
        "index_price": snapshot.index_price,
        "numeraire": result.numeraire,
        "forward_source": "listed_underlying (Deribit's underlying column, median per expiry)",
        "units": UNITS,
        "instruments": rows,
        "totals": totals,
    }


_MIN_WIDTH = 110


def _short(value: float) -> str:
    """A number in at most ~8 characters: 1.235M, -45.6k, 12.35, 0.01234."""
    size = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if size >= limit:
            scale = 1e3 if suffix == "k" else limit
            return f"{value / scale:.4g}{suffix}"
    if size >= 1.0 or value == 0.0:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _print_tables(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal and console.width < _MIN_WIDTH:
        console = Console(width=_MIN_WIDTH)  # piped output: room for the tables
    unit = "USD" if report["numeraire"] == "usd" else report["underlying"]
    totals = report["totals"]
    console.print(
        f"[bold]{report['underlying']} exposure[/] at {report['timestamp']}, index "
        f"{report['index_price']:,.2f} USD, {len(report['instruments'])} instruments, "
        f"numeraire {unit}",
        highlight=False,
    )
    if len(report["instruments"]) <= 40:
        instruments = Table(
            title="Per contract (Deribit units: vega USD/vol pt, theta USD/day)",
            title_justify="left",
        )
        for header in (
            "instrument",
            "qty",
            "price coin",
            "iv",
            "delta",
            "delta p.a.",
            "gamma",
            "vega",
            "theta",
        ):
            instruments.add_column(
                header,
                justify="left" if header == "instrument" else "right",
                no_wrap=header == "instrument",
            )
        for row in report["instruments"]:
            instruments.add_row(
                row["instrument_name"],
                f"{row['quantity']:g}",
                "-" if row["price_coin"] is None else f"{row['price_coin']:.5f}",
                "-" if row["iv"] is None else f"{row['iv']:.1%}",
                f"{row['delta']:.4f}",
                f"{row['delta_premium_adjusted']:.4f}",
                f"{row['gamma']:.2e}",
                _short(row["vega"]),
                _short(row["theta"]),
            )
        console.print(instruments)
    buckets = Table(
        title=f"By expiry: value, vega/vol pt, theta/day in {unit}; cash gamma per 1 % in USD",
        title_justify="left",
    )
    for header in ("bucket", "value", "delta coin", "delta USD", "cash gamma", "vega", "theta"):
        buckets.add_column(header, justify="left" if header == "bucket" else "right", no_wrap=True)

    def add(label: str, row: dict[str, Any], style: str | None = None) -> None:
        buckets.add_row(
            label,
            _short(row["value"]),
            f"{row['delta_coin']:,.4f}",
            _short(row["delta_usd"]),
            _short(row["cash_gamma_usd_per_1pct"]),
            _short(row["vega"]),
            _short(row["theta"]),
            style=style,
        )

    for row in totals["buckets"]:
        add(row["bucket"], row)
    buckets.add_section()
    add("total", totals, style="bold")
    console.print(buckets)

    scenario = totals["scenario"]
    n_spot, n_vol = len(scenario["spot_shocks"]), len(scenario["vol_shocks"])
    spot_rows = sorted({0, n_spot - 1, n_spot // 2, *range(0, n_spot, max(1, n_spot // 10))})
    vol_columns = sorted({0, n_vol - 1, n_vol // 2, *range(0, n_vol, max(1, n_vol // 5))})
    grid = Table(
        title=f"Scenario P&L in {unit} (full revaluation): spot shock x vol shock",
        title_justify="left",
    )
    grid.add_column("spot / vol", justify="right", no_wrap=True, min_width=10)
    for j in vol_columns:
        grid.add_column(f"{scenario['vol_shocks'][j]:+.0%}", justify="right", no_wrap=True)
    for i in spot_rows:
        grid.add_row(
            f"{scenario['spot_shocks'][i]:+.0%}",
            *(_short(scenario["pnl"][i][j]) for j in vol_columns),
        )
    console.print(grid)
    worst = scenario["worst"]
    console.print(
        f"worst point of the grid: {_short(worst['pnl'])} {unit} at spot "
        f"{worst['spot_shock']:+.0%}, vol {worst['vol_shock']:+.0%}",
        highlight=False,
    )


def exposure(
    chain: ChainPath,
    at: SnapshotAt = None,
    positions: Annotated[
        Path | None,
        typer.Option(
            "--positions",
            help="CSV with columns instrument_name,quantity (Deribit names, "
            "contracts). Default: one long contract of every option.",
        ),
    ] = None,
    numeraire: Annotated[
        str,
        typer.Option(
            "--numeraire",
            help="Measure value, P&L and Greeks in usd or coin.",
        ),
    ] = "usd",
    perp_prices: Annotated[
        Path | None,
        typer.Option(
            "--perp-prices",
            help="Perpetual prices at snapshot times (deribit_perp_at_option_"
            "snapshots format); default: perpetuals at the index.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object (instruments, totals, scenario grid, units).",
        ),
    ] = False,
) -> None:
    """Greeks per contract, per expiry bucket and for the book, and a spot x vol scenario grid."""
    from hedgekeeper.pricing.exposure import check_numeraire, position_arrays
    from hedgekeeper.pricing.exposure import exposure as compute_exposure
    from hedgekeeper.pricing.scenario import scenario_grid

    try:
        chosen = check_numeraire(numeraire)
        snapshot, book = _load_inputs(chain, at, positions, perp_prices)
        _check_options_listed(book, snapshot, chain)
        arrays = position_arrays(book, snapshot)
        result = compute_exposure(arrays, chosen)
        grid = scenario_grid(arrays, numeraire=chosen)
    except ValueError as exc:
        fail(str(exc))
    report = _report(result, grid, snapshot, chain)
    if as_json:
        typer.echo(json.dumps(report, allow_nan=False))
    else:
        _print_tables(report)
