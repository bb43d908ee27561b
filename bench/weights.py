"""Weight-rebalancing backtest benchmark: 10 assets x 100,000 bars, 5 % relative band, 10 bp fees.

hedgekeeper (``backtest.weights.backtest_weights`` with a ``WeightBand(relative=0.05)`` policy,
which runs the numba kernel) against vectorbt's ``Portfolio.from_orders`` doing the same
rebalancing: ``size_type="targetpercent"`` orders for every asset on the rebalance bars (NaN =
no order elsewhere), one group with shared cash (``group_by=True, cash_sharing=True``), sells
before buys (``call_seq="auto"``), ``fees=0.001``, ``min_size=0`` (vectorbt's default 1e-8
units would drop some tiny rebalancing trades that hedgekeeper executes), and the equity curve
``pf.value()``.

Setup: 10 risky assets, independent seeded hourly GBM paths (``sim.paths``), drift 0, vols
U(0.4, 0.9); a cash asset at price 1 (USDT); target weights Dirichlet(1) x 0.95 plus 5 % cash;
1,000,000 USD of cash at the start (the first bar buys the targets). Fills at the bar close,
fees on the filled notional, costs paid from cash: both libraries' conventions.

vectorbt's ``from_orders`` cannot decide *when* to rebalance from its own drifting weights, so
it is handed the rebalance bars hedgekeeper's band found; it therefore does only the
accounting, hedgekeeper the decisions too. Before timing, the two equity curves must agree to
1e-9 (relative, every bar) and the number of fills must match; the equity curves are also
checked with 5 bp slippage (not timed). Timed: hedgekeeper from arrays to the result object
(equity, trades, costs; holdings and weights derived on access), vectorbt from DataFrames to
``pf.value()`` as a numpy array. Single thread (``bench/_common.pin_single_thread``).

Run alone with ``python bench/weights.py [--bars N] [--assets K] [--repeats R]`` or through
``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from _common import Timing, best_of_interleaved, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402  (thread knobs must be set before numpy/numba load)

SEED = 20260126
BARS = 100_000
ASSETS = 10
REPEATS = 7
RELATIVE_BAND = 0.05
FEE_BPS = 10.0
CHECK_SLIPPAGE_BPS = 5.0
CASH_WEIGHT = 0.05
INITIAL_USD = 1_000_000.0
TARGET_SPEEDUP = 20.0
AGREE_RTOL = 1e-9


def make_market(n_bars: int, n_assets: int, seed: int = SEED) -> dict[str, Any]:
    """Prices ``(n_bars, n_assets + 1)`` (last column cash at 1.0), hourly times, targets."""
    from hedgekeeper.sim.paths import HOUR, GeometricBrownianMotion

    rng = np.random.default_rng(seed)
    vols = rng.uniform(0.4, 0.9, n_assets)
    columns = [
        GeometricBrownianMotion(drift=0.0, vol=float(vol))
        .simulate(100.0, HOUR, n_bars - 1, 1, seed + 1 + i)
        .prices[0]
        for i, vol in enumerate(vols)
    ]
    risky = np.column_stack(columns)
    prices = np.ascontiguousarray(np.hstack([risky, np.ones((n_bars, 1))]))
    target = rng.dirichlet(np.ones(n_assets)) * (1.0 - CASH_WEIGHT)
    target = np.append(target, 1.0 - target.sum())
    times = 1.0 + np.arange(n_bars) * HOUR  # years since the epoch (any origin works)
    return {"prices": prices, "times": times, "target": target, "vols": vols}


def hedgekeeper_runner(market: dict[str, Any], slippage_bps: float = 0.0) -> Callable[[], Any]:
    from hedgekeeper.backtest.weights import WeightCosts, backtest_weights
    from hedgekeeper.policies import WeightBand

    policy = WeightBand(relative=RELATIVE_BAND)
    costs = WeightCosts(fee_bps=FEE_BPS, slippage_bps=slippage_bps)
    prices, times, target = market["prices"], market["times"], market["target"]

    def run() -> Any:
        result = backtest_weights(
            prices, times, target, policy, costs=costs, initial_value=INITIAL_USD
        )
        if result.engine != "kernel":
            raise RuntimeError(f"expected the numba kernel engine, got {result.engine!r}")
        return result

    return run


def vectorbt_runner(
    market: dict[str, Any], rebalance: Any, slippage_bps: float = 0.0
) -> Callable[[], Any]:
    import pandas as pd
    import vectorbt as vbt

    prices, target = market["prices"], market["target"]
    n_bars, n_columns = prices.shape
    risky = n_columns - 1
    index = pd.date_range("2020-01-01", periods=n_bars, freq="h")
    close = pd.DataFrame(prices[:, :risky], index=index)
    size = np.full((n_bars, risky), np.nan)
    size[rebalance] = target[:risky]
    orders = pd.DataFrame(size, index=index)

    def run() -> Any:
        portfolio = vbt.Portfolio.from_orders(
            close,
            orders,
            size_type="targetpercent",
            group_by=True,
            cash_sharing=True,
            call_seq="auto",
            fees=FEE_BPS / 1e4,
            slippage=slippage_bps / 1e4,
            min_size=0.0,
            init_cash=INITIAL_USD,
            freq="1h",
        )
        return portfolio.value().to_numpy(), portfolio

    return run


def agreement(market: dict[str, Any], slippage_bps: float) -> dict[str, Any]:
    """Run both once; largest relative equity difference over all bars and the fill counts."""
    ours = hedgekeeper_runner(market, slippage_bps)()
    theirs, portfolio = vectorbt_runner(market, ours.rebalance, slippage_bps)()
    relative = float(np.max(np.abs(theirs / ours.equity - 1.0)))
    trades = np.asarray(ours.trades)[:, :-1]
    fills_ours = int(np.count_nonzero(trades))
    fills_theirs = int(portfolio.orders.count())
    return {
        "slippage_bps": slippage_bps,
        "max_relative_equity_difference": relative,
        "fills_hedgekeeper": fills_ours,
        "fills_vectorbt": fills_theirs,
        "rebalances": ours.rebalances,
        "agree": relative <= AGREE_RTOL and fills_ours == fills_theirs,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the weight-rebalancing benchmark; return JSON-serialisable results with a summary."""
    parser = argparse.ArgumentParser(prog="bench/weights.py", description=__doc__)
    quick = os.environ.get("HEDGEKEEPER_BENCH_QUICK", "") not in ("", "0")
    default_repeats = int(os.environ.get("HEDGEKEEPER_BENCH_REPEATS", REPEATS))
    parser.add_argument("--bars", type=int, default=10_000 if quick else BARS)
    parser.add_argument("--assets", type=int, default=ASSETS)
    parser.add_argument("--repeats", type=int, default=2 if quick else default_repeats)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(list(argv) if argv is not None else [])

    market = make_market(args.bars, args.assets)
    checks = [agreement(market, 0.0), agreement(market, CHECK_SLIPPAGE_BPS)]
    agree = all(check["agree"] for check in checks)

    ours_run = hedgekeeper_runner(market)
    rebalance = ours_run().rebalance
    theirs_run = vectorbt_runner(market, rebalance)
    timings: dict[str, Timing] = best_of_interleaved(
        {"hedgekeeper": ours_run, "vectorbt": theirs_run}, repeats=args.repeats
    )
    ours, theirs = timings["hedgekeeper"], timings["vectorbt"]
    result = ours_run()
    stats = result.statistics()
    speedup = theirs.best_s / ours.best_s if agree else None
    res: dict[str, Any] = {
        "bars": args.bars,
        "assets": args.assets,
        "seed": SEED,
        "setup": {
            "relative_band": RELATIVE_BAND,
            "fee_bps": FEE_BPS,
            "cash_weight": CASH_WEIGHT,
            "initial_usd": INITIAL_USD,
            "dt_years": 1 / 8760,
            "vols": [float(v) for v in market["vols"]],
            "target_weights": [float(w) for w in market["target"]],
        },
        "repeats": args.repeats,
        "vectorbt_version": metadata.version("vectorbt"),
        "agreement": checks,
        "hedgekeeper": {
            "timing": ours.as_dict(),
            "seconds": ours.best_s,
            "ns_per_bar_asset": ours.best_s / (args.bars * (args.assets + 1)) * 1e9,
            "rebalances": stats.rebalances,
            "final_equity_usd": stats.final_equity,
            "fees_usd": stats.fees,
        },
        "vectorbt": {"timing": theirs.as_dict(), "seconds": theirs.best_s},
        "hedgekeeper_speedup": speedup,
        "target_speedup": TARGET_SPEEDUP,
    }
    res["summary"] = summarise(res)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(res, handle, indent=2)
    return res


def _flag(timing: dict[str, Any]) -> str:
    return "  [contended]" if timing["cpu_per_wall"] < 0.9 else ""


def summarise(res: dict[str, Any]) -> list[str]:
    ours, theirs = res["hedgekeeper"], res["vectorbt"]
    speed = res["hedgekeeper_speedup"]
    if speed is None:
        verdict = "ANSWERS DISAGREE"
    else:
        met = "met" if speed >= res["target_speedup"] else "MISSED"
        verdict = f"{speed:,.1f}x (target >= {res['target_speedup']:.0f}x: {met})"
    worst = max(check["max_relative_equity_difference"] for check in res["agreement"])
    return [
        f"weights bench: {res['assets']} assets + cash x {res['bars']:,} bars, "
        f"{res['setup']['relative_band']:.0%} relative band, {res['setup']['fee_bps']:g} bp fees, "
        f"one thread",
        f"    hedgekeeper backtest_weights (numba)  {ours['seconds']:9.4f} s   "
        f"({ours['ns_per_bar_asset']:.1f} ns per bar-asset, {ours['rebalances']:,} rebalances)"
        f"{_flag(ours['timing'])}",
        f"    vectorbt {res['vectorbt_version']} from_orders + value()"
        f"{theirs['seconds']:9.4f} s{_flag(theirs['timing'])}",
        f"    hedgekeeper speedup {verdict}",
        f"    equity curves: max relative difference {worst:.1e} (fees; fees + "
        f"{CHECK_SLIPPAGE_BPS:g} bp slippage), fills "
        + ", ".join(
            f"{c['fills_hedgekeeper']:,}/{c['fills_vectorbt']:,}" for c in res["agreement"]
        ),
    ]


if __name__ == "__main__":
    output = main(sys.argv[1:])
    print("\n".join(output["summary"]))
