"""Monte Carlo hedging benchmark: 10,000 paths x 1,000 steps, a short call under a delta band.

hedgekeeper (``sim.montecarlo.simulate_hedge`` with a ``DeltaBand`` policy, which runs the numba
kernel ``sim.hedge_kernels.delta_hedge_kernel``) against the straightforward pure-Python loop a
user would otherwise write: for each path, for each step, the Black-Scholes delta from
``math.erfc``, the band test, the trade, the 5 bp fee and the cash account, on Python floats.

Setup: one written BTC-style call, spot = strike = 60,000 USD, implied = realised vol 0.60,
rate 0, drift 0, 1,000 hourly steps (expiry at the last step, ~41.7 days), delta band
half-width 0.05 coin around zero (hedge back to the centre), proportional cost 5 bp of notional
per trade (cash settlement: the final unwind pays it too). Paths come from
``sim.paths.GeometricBrownianMotion`` with a fixed seed and are not timed.

Both sides are checked to agree on the first ``--python-subset`` paths (P&L, cost, number of
rebalances, to 1e-9) before the ratio is reported. The pure-Python loop is timed on that subset
and scaled linearly to all paths (it is a per-path loop, so its time is linear in the paths);
the summary says so. Single thread (``bench/_common.pin_single_thread``).

Run alone with ``python bench/montecarlo.py [--paths N] [--steps K] [--repeats R]`` or through
``bench/run.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from _common import Timing, best_of_interleaved, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402  (thread knobs must be set before numpy/numba load)

SEED = 20260126
PATHS = 10_000
STEPS = 1_000
PYTHON_SUBSET = 200
REPEATS = 7
SPOT = 60_000.0
STRIKE = 60_000.0
VOL = 0.60
RATE = 0.0
HALFWIDTH = 0.05
FEE_BPS = 5.0
TARGET_SPEEDUP = 20.0
AGREE_RTOL = 1e-9


def make_paths(n_paths: int, n_steps: int, seed: int = SEED) -> tuple[Any, Any]:
    """``(prices (n, K + 1), times (K + 1,))`` of hourly GBM paths."""
    from hedgekeeper.sim.paths import HOUR, GeometricBrownianMotion

    paths = GeometricBrownianMotion(drift=0.0, vol=VOL).simulate(SPOT, HOUR, n_steps, n_paths, seed)
    return np.ascontiguousarray(paths.prices), paths.times


def hedgekeeper_runner(prices: Any, times: Any) -> Callable[[], dict[str, Any]]:
    from hedgekeeper.policies import DeltaBand
    from hedgekeeper.sim.montecarlo import HedgeCosts, OptionBook, simulate_hedge

    book = OptionBook.single("call", STRIKE, float(times[-1]), VOL, position="short")
    policy = DeltaBand(HALFWIDTH)
    costs = HedgeCosts(fee_bps=FEE_BPS)

    def run() -> dict[str, Any]:
        result = simulate_hedge(prices, times, book, policy, rate=RATE, costs=costs)
        if result.engine != "kernel":
            raise RuntimeError(f"expected the numba kernel engine, got {result.engine!r}")
        return {
            "pnl": result.pnl_pv,
            "cost": result.transaction_cost_pv,
            "rebalances": result.rebalances,
        }

    return run


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def python_delta_band(
    prices: list[list[float]], times: list[float], expiry: float
) -> list[tuple[float, float, float]]:
    """The pure-Python per-path loop: short one call, delta band, 5 bp fee, cash at ``RATE``."""
    fee = FEE_BPS / 1e4
    out = []
    for path in prices:
        s0 = path[0]
        tau = expiry - times[0]
        sd = VOL * math.sqrt(tau)
        d1 = (math.log(s0 / STRIKE) + (RATE + 0.5 * VOL * VOL) * tau) / sd
        premium = s0 * _norm_cdf(d1) - STRIKE * math.exp(-RATE * tau) * _norm_cdf(d1 - sd)
        cash = premium
        hedge = 0.0
        cost = 0.0
        rebalances = 0.0
        last = len(path) - 1
        for k in range(last + 1):
            s = path[k]
            discount = math.exp(-RATE * (times[k] - times[0]))
            if k > 0:
                cash *= math.exp(RATE * (times[k] - times[k - 1]))
            if k == last:
                cash -= max(s - STRIKE, 0.0)
                cash += hedge * s
                paid = abs(hedge) * s * fee
                cash -= paid
                cost += paid * discount
                break
            tau = expiry - times[k]
            sd = VOL * math.sqrt(tau)
            d1 = (math.log(s / STRIKE) + (RATE + 0.5 * VOL * VOL) * tau) / sd
            net = hedge - _norm_cdf(d1)
            if abs(net) > HALFWIDTH:
                trade = -net
                hedge += trade
                cash -= trade * s
                paid = abs(trade) * s * fee
                cash -= paid
                cost += paid * discount
                rebalances += 1.0
        out.append((cash * math.exp(-RATE * (times[last] - times[0])), cost, rebalances))
    return out


def python_runner(prices: Any, times: Any) -> Callable[[], dict[str, Any]]:
    rows = prices.tolist()
    grid = times.tolist()
    expiry = float(times[-1])

    def run() -> dict[str, Any]:
        result = np.array(python_delta_band(rows, grid, expiry))
        return {"pnl": result[:, 0], "cost": result[:, 1], "rebalances": result[:, 2]}

    return run


def agreement(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, float]:
    """Largest difference per output, relative to the largest magnitude of the output."""
    out = {}
    for name in ("pnl", "cost", "rebalances"):
        scale = max(float(np.max(np.abs(theirs[name]))), 1e-300)
        out[name] = float(np.max(np.abs(ours[name] - theirs[name]))) / scale
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the Monte Carlo benchmark; return JSON-serialisable results with a ``summary``."""
    parser = argparse.ArgumentParser(prog="bench/montecarlo.py", description=__doc__)
    quick = os.environ.get("HEDGEKEEPER_BENCH_QUICK", "") not in ("", "0")
    parser.add_argument("--paths", type=int, default=1_000 if quick else PATHS)
    parser.add_argument("--steps", type=int, default=200 if quick else STEPS)
    parser.add_argument("--repeats", type=int, default=2 if quick else REPEATS)
    parser.add_argument("--python-subset", type=int, default=50 if quick else PYTHON_SUBSET)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(list(argv) if argv is not None else [])

    prices, times = make_paths(args.paths, args.steps)
    subset = min(args.python_subset, args.paths)
    sub_prices = np.ascontiguousarray(prices[:subset])

    # Agreement first, on the subset both sides run.
    sub_ours = hedgekeeper_runner(sub_prices, times)()
    sub_theirs = python_runner(sub_prices, times)()
    errors = agreement(sub_ours, sub_theirs)
    agree = all(err <= AGREE_RTOL for err in errors.values())

    ours_run = hedgekeeper_runner(prices, times)
    python_run = python_runner(sub_prices, times)
    timings = best_of_interleaved(
        {"hedgekeeper": ours_run, "python": python_run}, repeats=args.repeats
    )
    ours = timings["hedgekeeper"]
    scale = args.paths / subset
    theirs: Timing = dataclasses.replace(timings["python"], scale=scale)
    full = ours_run()
    speedup = theirs.scaled_s / ours.best_s if agree else None
    res: dict[str, Any] = {
        "paths": args.paths,
        "steps": args.steps,
        "seed": SEED,
        "setup": {
            "spot": SPOT,
            "strike": STRIKE,
            "vol": VOL,
            "rate": RATE,
            "dt_years": 1 / 8760,
            "delta_band_halfwidth_coin": HALFWIDTH,
            "fee_bps": FEE_BPS,
            "position": "short call",
        },
        "repeats": args.repeats,
        "hedgekeeper": {
            "timing": ours.as_dict(),
            "seconds": ours.best_s,
            "ns_per_path_step": ours.best_s / (args.paths * args.steps) * 1e9,
            "rebalances_mean": float(np.mean(full["rebalances"])),
            "pnl_mean": float(np.mean(full["pnl"])),
            "pnl_std": float(np.std(full["pnl"], ddof=1)),
        },
        "python": {
            "paths_timed": subset,
            "scale": scale,
            "timing": theirs.as_dict(),
            "seconds_for_all_paths": theirs.scaled_s,
            "max_relative_difference": errors,
            "answers_agree": agree,
        },
        "hedgekeeper_speedup": speedup,
        "target_speedup": TARGET_SPEEDUP,
    }
    res["summary"] = summarise(res)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(res, handle, indent=2)
    return res


def summarise(res: dict[str, Any]) -> list[str]:
    ours, py = res["hedgekeeper"], res["python"]
    speed = res["hedgekeeper_speedup"]
    if speed is None:
        verdict = "ANSWERS DISAGREE"
    else:
        met = "met" if speed >= res["target_speedup"] else "MISSED"
        verdict = f"{speed:,.1f}x (target >= {res['target_speedup']:.0f}x: {met})"
    return [
        f"montecarlo bench: {res['paths']:,} paths x {res['steps']:,} steps, short call, "
        f"delta band {res['setup']['delta_band_halfwidth_coin']} coin, "
        f"{res['setup']['fee_bps']:g} bp cost, one thread",
        f"    hedgekeeper simulate_hedge (numba)   {ours['seconds']:9.4f} s"
        f"   ({ours['ns_per_path_step']:.1f} ns per path-step, "
        f"{ours['rebalances_mean']:.1f} rebalances per path)",
        f"    pure-Python per-path loop            {py['seconds_for_all_paths']:9.4f} s"
        f"   (timed on {py['paths_timed']:,} paths, scaled x{py['scale']:.0f})",
        f"    hedgekeeper speedup {verdict}",
        f"    max relative difference on the subset: "
        f"{max(py['max_relative_difference'].values()):.1e}",
    ]


if __name__ == "__main__":
    result = main(sys.argv[1:])
    print("\n".join(result["summary"]))
