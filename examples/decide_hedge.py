"""One hedging decision for a real book, on the bundled Deribit sample (2026-01-26 04:11:38Z).

The book is short 10 near-the-money BTC-13FEB26-87000 straddles. A ``GreekBands`` policy keeps
gamma, vega and delta in bands; the sizer may trade BTC-PERPETUAL and two listed calls (a
short-dated one that carries mostly gamma, a long-dated one that carries mostly vega); costs are
Deribit-like fees plus half the bid-ask spread; a cost-benefit gate and a limits gate check the
proposal. ``hedgekeeper.engine.decide`` returns the ``Decision``, printed below.

Run: ``python examples/decide_hedge.py`` (2-3 s, most of it imports; no network, no files written).
The last line, ``summary: ...``, is a machine-readable digest (the integration test parses it).
"""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from hedgekeeper.costs import HalfSpread, ProportionalFee, Quote
from hedgekeeper.domain import Book, OptionChain, Perpetual, Position, parse_instrument
from hedgekeeper.engine import (
    Components,
    Decision,
    EngineState,
    HedgeInstrument,
    MarketInputs,
    SizerConfig,
    decide,
)
from hedgekeeper.marketdata import (
    load_chain,
    load_perp_prices,
    sample_chain_path,
    sample_perp_path,
)
from hedgekeeper.policies import GreekBands
from hedgekeeper.pricing.forward import snapshot_from_chain
from hedgekeeper.risk import BookGreeks, CostBenefitGate, LimitsGate

PERP = "BTC-PERPETUAL"
STRADDLE = ("BTC-13FEB26-87000-C", "BTC-13FEB26-87000-P")
STRADDLES_SHORT = 10.0  # contracts of each leg; one Deribit BTC option is on 1 BTC
HEDGE_OPTIONS = ("BTC-30JAN26-87000-C", "BTC-27MAR26-88000-C")
PERP_HALF_TICK = 0.25  # USD; the sample has no perpetual order book: one 0.5 USD tick around it

# Bands of the policy: delta in coin, gamma in coin per USD, vega in USD per 1.00 of vol.
DELTA_HALFWIDTH = 0.1
GAMMA_HALFWIDTH = 1e-4
VEGA_HALFWIDTH = 10_000.0  # = 100 USD per vol point


def atm_vol(chain: OptionChain, days: float = 30.0) -> float:
    """Mark IV of the call nearest the money in the expiry nearest ``days`` days, fraction.

    Stands in for DVOL (Deribit's 30-day implied volatility index), which the sample lacks.
    """
    expiry_t = chain.t[np.argmin(np.abs(chain.t - days / 365.0))]
    rows = np.flatnonzero((chain.t == expiry_t) & (chain.kind == 1))
    row = rows[np.argmin(np.abs(chain.strike[rows] - chain.forward[rows]))]
    return float(chain.mark_iv[row])


def build() -> tuple[EngineState, MarketInputs, Components]:
    """The book, the market at the sample's first snapshot, and the decision components."""
    chain = load_chain(sample_chain_path())
    perp_price = load_perp_prices(sample_perp_path(), "BTC").at(chain.timestamp)
    snapshot = snapshot_from_chain(chain, perp_prices={PERP: perp_price})
    options = {option.name: option for option in chain.options}

    book = Book(tuple(Position(instrument=options[name], quantity=-STRADDLES_SHORT)
                      for name in STRADDLE))

    rows = chain.locate(list(HEDGE_OPTIONS))
    quotes = {name: Quote(bid=float(chain.bid[row]), ask=float(chain.ask[row]))
              for name, row in zip(HEDGE_OPTIONS, rows, strict=True)}
    quotes[PERP] = Quote(bid=perp_price - PERP_HALF_TICK, ask=perp_price + PERP_HALF_TICK)
    market = MarketInputs(snapshot=snapshot, quotes=quotes, dvol=atm_vol(chain))

    perp = parse_instrument(PERP)
    assert isinstance(perp, Perpetual)  # parse_instrument returns any instrument type
    sizer = SizerConfig((
        HedgeInstrument(perp, max_order=200_000.0),  # contracts of 10 USD
        *(HedgeInstrument(options[name], max_order=50.0) for name in HEDGE_OPTIONS),
    ))
    components = Components(
        policy=GreekBands(gamma_halfwidth=GAMMA_HALFWIDTH, vega_halfwidth=VEGA_HALFWIDTH,
                          delta_halfwidth=DELTA_HALFWIDTH),
        sizer=sizer,
        # Deribit options: 0.03 % of the underlying capped at 12.5 % of the premium; the same
        # rate is applied to the perpetual here (one fee schedule per cost model).
        cost_model=ProportionalFee(taker_bps=3.0, cap_fraction_of_price=0.125) + HalfSpread(),
        gates=(
            CostBenefitGate(risk_aversion=2e-4, horizon_years=1.0 / 365.0, vol_of_vol=0.5),
            LimitsGate(max_order_notional_usd=2e6, position_limits={PERP: (-150_000, 150_000)}),
        ),
    )
    return EngineState(book), market, components


def greeks_table(decision: Decision) -> Table:
    """Exposure before and after the proposed trades, with the policy's bands."""
    table = Table(title="Book Greeks (USD numeraire)")
    for column in ("greek", "unit", "before", "after", "policy band"):
        table.add_column(column, justify="left" if column in ("greek", "unit") else "right")
    rows = (("delta", "coin", DELTA_HALFWIDTH, 1.0),
            ("gamma", "coin/USD", GAMMA_HALFWIDTH, 1.0),
            ("vega", "USD/vol pt", VEGA_HALFWIDTH, 0.01))
    for name, unit, half, scale in rows:
        before = getattr(decision.exposure_before, name) * scale
        after = getattr(decision.exposure_after, name) * scale
        table.add_row(name, unit, f"{before:.6g}", f"{after:.6g}", f"± {half * scale:.6g}")
    return table


def orders_table(decision: Decision) -> Table:
    """The orders to send, in contracts and venue price units."""
    table = Table(title="Orders")
    for column in ("instrument", "side", "contracts", "limit", "mid"):
        table.add_column(column, justify="left" if column in ("instrument", "side") else "right")
    for order in decision.orders:
        table.add_row(order.instrument, order.side, f"{order.quantity:g}",
                      f"{order.limit_price:.10g}", f"{order.reference_price:.10g}")
    return table


def show(decision: Decision, console: Console) -> None:
    """Print ``decision`` readably."""
    console.print(f"[bold]{decision.underlying} at {decision.timestamp:%Y-%m-%d %H:%M:%S}Z, "
                  f"index {decision.spot:,.2f} USD[/bold]")
    console.print(f"policy {decision.policy} fired: {decision.fired} "
                  f"({decision.policy_reason})")
    console.print(greeks_table(decision))
    if decision.orders:
        console.print(orders_table(decision))
    if decision.hedge is not None:
        console.print(f"sizer: {decision.hedge.method}, {decision.hedge.status.name}")
    for verdict in decision.gates:
        mark = "[green]pass[/green]" if verdict.passed else "[red]refuse[/red]"
        console.print(f"gate {verdict.gate}: {mark} — {verdict.reason}")
    cost = "n/a" if decision.cost_usd is None else f"{decision.cost_usd:,.2f} USD"
    benefit = "n/a" if decision.benefit_usd is None else f"{decision.benefit_usd:,.2f} USD"
    console.print(f"expected cost {cost}, benefit {benefit}")
    console.print(f"[bold]outcome: {decision.outcome.value}[/bold] — {decision.reason}")


def summary(decision: Decision) -> str:
    """One line for machines: outcome, Greeks before and after with their bands, orders."""
    after: BookGreeks = decision.exposure_after
    return (f"summary: outcome={decision.outcome.value} "
            f"delta_before={decision.exposure_before.delta:.9g} delta_after={after.delta:.9g} "
            f"delta_band={-DELTA_HALFWIDTH:g},{DELTA_HALFWIDTH:g} "
            f"gamma_after={after.gamma:.9g} gamma_band={-GAMMA_HALFWIDTH:g},{GAMMA_HALFWIDTH:g} "
            f"vega_after={after.vega:.9g} vega_band={-VEGA_HALFWIDTH:g},{VEGA_HALFWIDTH:g} "
            f"gates={','.join(f'{g.gate}:{g.passed}' for g in decision.gates)} "
            f"orders={len(decision.orders)}")


def main() -> None:
    state, market, components = build()
    decision = decide(state, market, components)
    show(decision, Console())
    print(summary(decision))


if __name__ == "__main__":
    main()
