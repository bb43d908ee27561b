"""Exposure benchmark: a 5,000-option book's Greeks plus a 21 x 11 full-revaluation scenario grid.

hedgekeeper (``pricing.exposure.exposure`` + ``pricing.scenario.scenario_grid``: one Black-76
call for the Greeks, one broadcast call over options x 21 spot x 11 vol shocks) against the
QuantLib per-option loop a user would otherwise write: per option one ``BlackCalculator`` for
price, forward delta, forward gamma, vega and theta, then one ``BlackCalculator`` per scenario
point for the repriced value, with the book totals, per-expiry vega and grid summed in Python.

Book: the first snapshot of the bundled Deribit BTC chain (index ~87,380 USD, 12 expiries from
4 hours to 11 months). 5,000 distinct inverse options (seeded): expiry drawn from the listed
ones, strike ``F exp(z vol sqrt(t))`` with ``z ~ U(-2.5, 2.5)`` rounded to 100 USD, calls and
puts, each at Deribit's mark IV interpolated in log-moneyness within its expiry, quantity
``U(-25, 25)`` contracts; plus a BTC-PERPETUAL position. Numeraire USD, ``rate = 0``.

Both sides are checked to agree (book totals, per-expiry vega and every grid point to 1e-9
relative) before the ratio is reported. QuantLib is timed on the first ``--quantlib-subset``
options and scaled linearly to the book (its loop is per option, so it scales linearly); the
summary says so.

Run alone with ``python bench/exposure.py [--n N] [--repeats R]`` or through ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from _common import Timing, best_of, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402  (thread knobs must be set before numpy/numba load)

SEED = 20260126
BOOK_OPTIONS = 5_000
QUANTLIB_SUBSET = 500
REPEATS = 5
TARGET_S = 1.0
AGREE_RTOL = 1e-9


def make_book(n_options: int, seed: int = SEED) -> tuple[Any, Any, dict[str, float]]:
    """``(Book, MarketSnapshot, vols)`` of ``n_options`` distinct options plus a perpetual."""
    from hedgekeeper.domain.book import Book, Position
    from hedgekeeper.domain.market import to_datetime64
    from hedgekeeper.domain.naming import expiry_code, parse_instrument
    from hedgekeeper.marketdata import load_chain, sample_chain_path
    from hedgekeeper.pricing.exposure import listed_snapshot

    chain = load_chain(sample_chain_path())
    snapshot = listed_snapshot(chain)
    rng = np.random.default_rng(seed)
    expiries = snapshot.expiries
    smiles = []
    for expiry in expiries:
        rows = np.flatnonzero(chain.expiry == to_datetime64(expiry))
        forward = snapshot.forward(expiry)
        moneyness = np.log(chain.strike[rows] / forward)
        order = np.argsort(moneyness)
        smiles.append(
            (forward, snapshot.time_to_expiry(expiry), moneyness[order], chain.mark_iv[rows][order])
        )
    positions: dict[str, Position] = {}
    vols: dict[str, float] = {}
    while len(positions) < n_options:
        j = int(rng.integers(len(expiries)))
        forward, t, moneyness, ivs = smiles[j]
        atm = float(np.interp(0.0, moneyness, ivs))
        strike = round(forward * math.exp(rng.uniform(-2.5, 2.5) * atm * math.sqrt(t)), -2)
        if strike <= 0:
            continue
        letter = "C" if rng.random() < 0.5 else "P"
        name = f"BTC-{expiry_code(expiries[j])}-{int(strike)}-{letter}"
        if name in positions:
            continue
        quantity = float(rng.uniform(-25.0, 25.0))
        positions[name] = Position(instrument=parse_instrument(name), quantity=quantity)
        vols[name] = float(np.interp(math.log(strike / forward), moneyness, ivs))
    perp = Position(instrument=parse_instrument("BTC-PERPETUAL"), quantity=-20_000.0)
    return Book((*positions.values(), perp)), snapshot, vols


def hedgekeeper_runner(arrays: Any) -> Any:
    from hedgekeeper.pricing.exposure import exposure
    from hedgekeeper.pricing.scenario import scenario_grid

    def run() -> dict[str, Any]:
        result = exposure(arrays, "usd")
        grid = scenario_grid(arrays, numeraire="usd")
        return _summary_of(result, grid)

    return run


def _summary_of(result: Any, grid: Any) -> dict[str, Any]:
    totals = result.by_underlying
    buckets = result.by_bucket
    return {
        "value": float(totals.value[0]),
        "delta_coin": float(totals.delta_coin[0]),
        "gamma": float(totals.gamma_coin_per_usd[0]),
        "vega": float(totals.vega_per_vol_point[0]),
        "theta": float(totals.theta_per_day[0]),
        "vega_by_expiry": {
            label.split(" ", 1)[1]: float(v)
            for label, v in zip(buckets.label, buckets.vega_per_vol_point, strict=True)
        },
        "grid": np.asarray(grid.pnl),
    }


def quantlib_runner(arrays: Any) -> Any:
    """The same outputs from a QuantLib BlackCalculator loop (options and the perpetual)."""
    import QuantLib as ql  # noqa: N813

    from hedgekeeper.pricing.exposure import PRODUCT_OPTION
    from hedgekeeper.pricing.scenario import DEFAULT_SPOT_SHOCKS, DEFAULT_VOL_SHOCKS

    spot_factors = (1.0 + DEFAULT_SPOT_SHOCKS).tolist()
    vol_factors = (1.0 + DEFAULT_VOL_SHOCKS).tolist()
    rows = list(
        zip(
            arrays.product.tolist(),
            arrays.inverse.tolist(),
            arrays.option_kind.tolist(),
            arrays.strike.tolist(),
            arrays.expiry_years.tolist(),
            arrays.forward.tolist(),
            arrays.vol.tolist(),
            arrays.quantity.tolist(),
            arrays.contract_size.tolist(),
            arrays.spot.tolist(),
            arrays.bucket,
            strict=True,
        )
    )
    call, put = ql.Option.Call, ql.Option.Put
    m, k = len(spot_factors), len(vol_factors)

    def run() -> dict[str, Any]:
        value = delta_coin = gamma = vega = theta = 0.0
        vega_by_expiry: dict[str, float] = {}
        grid = [[0.0] * k for _ in range(m)]
        for product, inverse, kind, strike, t, forward, vol, qty, size, spot, bucket in rows:
            weight = qty * size
            if product != PRODUCT_OPTION:
                # Inverse perpetual: USD P&L N (f - 1), delta N / S per contract.
                scale = size if inverse else size * forward
                delta_coin += qty * scale / spot
                vega_by_expiry[bucket] = vega_by_expiry.get(bucket, 0.0)
                for i, f in enumerate(spot_factors):
                    move = qty * scale * (f - 1.0)
                    row = grid[i]
                    for j in range(k):
                        row[j] += move
                continue
            payoff = ql.PlainVanillaPayoff(call if kind > 0 else put, strike)
            sqrt_t = math.sqrt(t)
            calc = ql.BlackCalculator(payoff, forward, vol * sqrt_t, 1.0)
            price = calc.value()
            ratio = forward / spot
            value += weight * price
            delta_coin += weight * calc.deltaForward() * ratio
            gamma += weight * calc.gammaForward() * ratio * ratio
            option_vega = weight * calc.vega(t) * 0.01
            vega += option_vega
            vega_by_expiry[bucket] = vega_by_expiry.get(bucket, 0.0) + option_vega
            theta += weight * calc.theta(forward, t) / 365.0
            for i, f in enumerate(spot_factors):
                row = grid[i]
                shocked = forward * f
                for j, g in enumerate(vol_factors):
                    row[j] += weight * (
                        ql.BlackCalculator(payoff, shocked, vol * g * sqrt_t, 1.0).value() - price
                    )
        return {
            "value": value,
            "delta_coin": delta_coin,
            "gamma": gamma,
            "vega": vega,
            "theta": theta,
            "vega_by_expiry": vega_by_expiry,
            "grid": np.array(grid),
        }

    return run


def agreement(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, float]:
    """Largest relative difference of each output (grid: relative to the grid's largest P&L)."""
    out = {}
    for key in ("value", "delta_coin", "gamma", "vega", "theta"):
        out[key] = abs(ours[key] - theirs[key]) / max(abs(theirs[key]), 1e-300)
    out["vega_by_expiry"] = max(
        abs(ours["vega_by_expiry"][b] - theirs["vega_by_expiry"].get(b, math.nan))
        / max(abs(ours["vega"]), 1e-300)
        for b in ours["vega_by_expiry"]
    )
    scale = float(np.max(np.abs(theirs["grid"])))
    out["grid"] = float(np.max(np.abs(ours["grid"] - theirs["grid"]))) / scale
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the exposure benchmark; return JSON-serialisable results with a ``summary``."""
    parser = argparse.ArgumentParser(prog="bench/exposure.py", description=__doc__)
    quick = os.environ.get("HEDGEKEEPER_BENCH_QUICK", "") not in ("", "0")
    parser.add_argument("--n", type=int, default=1_000 if quick else BOOK_OPTIONS)
    parser.add_argument("--repeats", type=int, default=2 if quick else REPEATS)
    parser.add_argument("--quantlib-subset", type=int, default=100 if quick else QUANTLIB_SUBSET)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(list(argv) if argv is not None else [])

    from hedgekeeper.pricing.exposure import position_arrays

    book, snapshot, vols = make_book(args.n)
    flatten = best_of(lambda: position_arrays(book, snapshot, vols), repeats=args.repeats)
    arrays = position_arrays(book, snapshot, vols)
    n_positions = len(arrays)
    ours_run = hedgekeeper_runner(arrays)
    ours = best_of(ours_run, repeats=args.repeats)
    res: dict[str, Any] = {
        "book_options": args.n,
        "positions": n_positions,
        "seed": SEED,
        "grid": [21, 11],
        "repeats": args.repeats,
        "hedgekeeper": {
            "timing": ours.as_dict(),
            "seconds_for_book": ours.best_s,
            "book_to_arrays": flatten.as_dict(),
        },
        "target_s": TARGET_S,
    }

    try:
        import QuantLib  # noqa: F401
    except ImportError:
        res["quantlib"] = None
    else:
        subset = min(args.quantlib_subset, n_positions - 1)
        # The subset keeps the perpetual (the last position) so both sides see every product.
        rows = np.r_[np.arange(subset), n_positions - 1]
        sub_arrays = _take(arrays, rows)
        sub_ours = hedgekeeper_runner(sub_arrays)()
        ql_run = quantlib_runner(sub_arrays)
        sub_theirs = ql_run()
        errors = agreement(sub_ours, sub_theirs)
        agree = all(err <= AGREE_RTOL for err in errors.values())
        scale = n_positions / len(rows)
        timing: Timing = best_of(ql_run, repeats=max(1, min(args.repeats, 3)), scale=scale)
        res["quantlib"] = {
            "positions_timed": len(rows),
            "scale": scale,
            "timing": timing.as_dict(),
            "seconds_for_book": timing.scaled_s,
            "max_relative_difference": errors,
            "answers_agree": agree,
            "hedgekeeper_speedup": timing.scaled_s / ours.best_s if agree else None,
        }
    res["summary"] = summarise(res)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(res, handle, indent=2)
    return res


def _take(arrays: Any, rows: Any) -> Any:
    from hedgekeeper.pricing.exposure import PositionArrays

    def pick(name: str) -> Any:
        value = getattr(arrays, name)
        return tuple(value[int(i)] for i in rows) if isinstance(value, tuple) else value[rows]

    return PositionArrays(
        **{
            name: pick(name)
            for name in (
                "instrument_name",
                "underlying",
                "bucket",
                "product",
                "inverse",
                "option_kind",
                "strike",
                "expiry_years",
                "forward",
                "vol",
                "rate",
                "quantity",
                "contract_size",
                "spot",
            )
        }
    )


def summarise(res: dict[str, Any]) -> list[str]:
    ours = res["hedgekeeper"]
    lines = [
        f"exposure bench: {res['book_options']:,} options + 1 perpetual, Greeks + "
        f"{res['grid'][0]} x {res['grid'][1]} full-revaluation grid, one thread",
        f"    hedgekeeper exposure + grid          {ours['seconds_for_book']:9.4f} s"
        f"   (target < {res['target_s']:.1f} s: "
        f"{'met' if ours['seconds_for_book'] < res['target_s'] else 'MISSED'})",
        f"    hedgekeeper Book -> arrays           {ours['book_to_arrays']['best_s']:9.4f} s",
    ]
    ql = res.get("quantlib")
    if ql is None:
        lines.append("    QuantLib not installed: no ratio")
        return lines
    note = f"(timed on {ql['positions_timed']:,} positions, scaled x{ql['scale']:.1f})"
    speed = ql["hedgekeeper_speedup"]
    shown = f"{speed:,.0f}x" if speed is not None else "ANSWERS DISAGREE"
    lines.append(
        f"    QuantLib BlackCalculator loop        {ql['seconds_for_book']:9.4f} s   "
        f"hedgekeeper speedup {shown}  {note}"
    )
    worst = max(ql["max_relative_difference"].values())
    lines.append(f"    max relative difference vs QuantLib: {worst:.1e}")
    return lines


if __name__ == "__main__":
    result = main(sys.argv[1:])
    print("\n".join(result["summary"]))
