"""Predictive rebalancing on the backtest frontier (see ``docs/forecasting.md``).

Replays the short BTC straddle of a backtest configuration (default
``examples/backtest_2021_2024.toml``) under static policies — calendar, fixed delta band,
Whalley-Wilmott, the DVOL regime band — and under :class:`~hedgekeeper.policies.PredictiveBand`
fed, through :class:`~hedgekeeper.policies.ForecastFeed`, by a 24-hour volatility forecast
refitted walk-forward (gradient-boosted trees on BTC spot, DVOL and funding; each forecast made
at 00:00 UTC from data strictly before it, used for the next 24 hours). Writes the backtest HTML
report and ``frontier.json`` (every run's summary and which runs are Pareto-efficient in cost vs
hedging-error std and cost vs tracking error).

    python examples/predictive_frontier.py [CONFIG] [--out DIR] [--quick]

``--quick`` replays only the config's first 60 days (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from hedgekeeper.backtest.market import load_market
from hedgekeeper.backtest.suite import PolicySpec, run_suite
from hedgekeeper.config.backtest import BacktestConfig
from hedgekeeper.config.toml import load_toml
from hedgekeeper.forecast import (
    GradientBoostedRV,
    daily_origins,
    forecast_vol_asof,
    walk_forward,
)
from hedgekeeper.forecast._readers import load_history
from hedgekeeper.policies import (
    SECONDS_PER_YEAR,
    Calendar,
    DeltaBand,
    ForecastFeed,
    PredictiveBand,
    VolRegimeBand,
    WhalleyWilmottBand,
    years_since_epoch,
)
from hedgekeeper.report.backtest import write_report

HERE = Path(__file__).resolve().parent
DAY = 1.0 / 365.0
RISK_AVERSIONS = (1e-4, 1e-3, 1e-2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default=str(HERE / "backtest_2021_2024.toml"))
    parser.add_argument("--out", default="predictive_frontier")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    config_path = Path(args.config)
    config, text = load_toml(config_path, BacktestConfig)
    data = config.data
    files = data.files(config_path.resolve().parent)
    end = config.window.end
    if args.quick:
        end = min(end, config.window.start + timedelta(days=60))
    market = load_market(files, coin=data.coin, symbol=data.symbol, start=config.window.start,
                         end=end, vol=config.vol.settings())

    # The forecast: 24 h realised variance of the index (spot), walk-forward, daily origins.
    started = time.perf_counter()
    if files.spot is None:
        raise SystemExit("the configuration needs [data] spot for the forecaster")
    dvol_files = [f for f in (files.dvol_hourly, files.dvol_daily) if f is not None]
    history = load_history(files.spot, dvol_files, files.funding, data.symbol)
    first_origin = np.datetime64(market.start.replace(tzinfo=None), "D")
    origins = daily_origins(history, first_origin, None, 24)
    path = walk_forward(history, GradientBoostedRV(24), origins, 24, refit_every=720)
    forecast_seconds = time.perf_counter() - started
    times = years_since_epoch(path.origin)
    vols = forecast_vol_asof(path, path.origin)
    # A forecast made at 00:00 serves the 24 hours after it (plus an hour of slack).
    feed_age = 25.0 * 3600.0 / SECONDS_PER_YEAR

    cost = config.one_way_cost
    specs = [
        PolicySpec("calendar 1d", "calendar", Calendar(DAY), {"interval": "1d"}),
        PolicySpec("delta_band 0.1", "delta_band", DeltaBand(0.1), {"halfwidth": 0.1}),
        PolicySpec("delta_band 0.2", "delta_band", DeltaBand(0.2), {"halfwidth": 0.2}),
    ]
    for gamma in RISK_AVERSIONS:
        specs.append(PolicySpec(f"whalley_wilmott {gamma:g}", "whalley_wilmott",
                                WhalleyWilmottBand(cost, gamma), {"risk_aversion": gamma}))
    specs.append(PolicySpec("vol_regime dvol", "vol_regime",
                            VolRegimeBand("dvol", [0.6, 0.9], [0.2, 0.1, 0.05]),
                            {"thresholds": [0.6, 0.9], "halfwidths": [0.2, 0.1, 0.05]}))
    for gamma in RISK_AVERSIONS:
        policy = ForecastFeed(PredictiveBand(cost, gamma), times, vols, max_age=feed_age)
        specs.append(PolicySpec(f"predictive {gamma:g}", "predictive", policy,
                                {"risk_aversion": gamma, "forecast": "ml 24h"}))
    cadence = ForecastFeed(
        PredictiveBand(cost, 1e-3, interval=DAY, reference_vol=0.5, min_interval=DAY / 24),
        times, vols, max_age=feed_age)
    specs.append(PolicySpec("predictive 0.001 cadence", "predictive", cadence,
                            {"risk_aversion": 1e-3, "interval": "1d", "reference_vol": 0.5}))

    def progress(done: int, total: int, name: str) -> None:
        print(f"[{done}/{total}] {name}", file=sys.stderr, flush=True)

    suite = run_suite(market, config.setup(), specs, progress=progress)
    out = Path(args.out)
    report = write_report(suite, out, title=config.title + " — with predictive rebalancing",
                          config_text=text, config_name=config_path.name)
    error_pareto = {p.name for p in suite.error_frontier if p.pareto}
    tracking_pareto = {p.name for p in suite.tracking_frontier if p.pareto}
    summary = {
        "window": {"start": market.start.isoformat(), "end": market.end.isoformat(),
                   "steps": len(market)},
        "forecast": {"model": "ml", "horizon_hours": 24, "origins": int(origins.size),
                     "refits": path.refits, "seconds": forecast_seconds},
        "replay_seconds": suite.seconds,
        "report": str(report),
        "runs": [
            {
                "name": s.name,
                "family": spec.family,
                "hedge_error_std_usd": s.hedge_error_std_usd,
                "tracking_error_usd": s.tracking_error_usd,
                "total_cost_usd": s.total_cost_usd,
                "pnl_usd": s.pnl_usd,
                "rebalances": s.rebalances,
                "refused": s.refused,
                "pareto_cost_vs_hedge_error": s.name in error_pareto,
                "pareto_cost_vs_tracking": s.name in tracking_pareto,
            }
            for s, spec in zip(suite.summaries, suite.specs, strict=True)
        ],
    }
    (out / "frontier.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
