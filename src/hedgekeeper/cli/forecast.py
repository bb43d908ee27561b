"""``hedgekeeper forecast``: walk-forward comparison of volatility forecasters on real data.

Usage::

    hedgekeeper forecast --prices PRICES.csv[.gz] [--iv DVOL.csv[.gz] ...] [--funding F.csv]
        [--symbol BTCUSDT] --start DATE [--end DATE] [--horizon 24h]
        [--models ewma,garch,gjr,har,iv,ml] [--every 24h] [--refit DURATION] [--json]

At every origin from ``--start`` (00:00 UTC of that day, or the given time) every ``--every``
until ``--end`` or the last origin whose horizon is in the data, each model forecasts the
realised variance of the next ``--horizon`` (the sum of squared hourly log returns) from the
data strictly before the origin. Models are re-estimated on a cadence (``REFIT_HOURS``, or
``--refit``) and only re-conditioned on new data in between. Losses (QLIKE, MSE of log
variance) are computed on the origins where every model has a forecast; Diebold-Mariano tests
compare each model with EWMA (and GARCH). Heavy imports stay inside the command body.

``--json`` prints one object: a key per model scored, holding ``qlike``, ``mse_log`` (MSE of
log variance), ``n_forecasts`` (the common sample), ``n_available``, ``refits``,
``horizon_hours``, ``first_origin``/``last_origin`` and ``dm_qlike_vs_ewma``,
``dm_qlike_vs_garch``, ``dm_mse_log_vs_*`` (``statistic``, ``p_value``, ``mean_difference``,
``lags``; negative statistic = lower loss than the benchmark); and ``best``, the model with the
lowest QLIKE. Notes (a skipped model) go to stderr.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgekeeper.cli._errors import fail

if TYPE_CHECKING:
    from hedgekeeper.forecast import Comparison, Forecaster, ForecastPath

MODELS = ("ewma", "garch", "gjr", "har", "iv", "ml")
"""Model names the command knows, in display order."""

REFIT_HOURS: dict[str, int | None] = {
    "ewma": None,
    "garch": 168,
    "gjr": 168,
    "har": 24,
    "iv": 24,
    "ml": 720,
}
"""Default re-estimation cadence in hours (None: nothing to estimate). GARCH is refitted
weekly and the gradient-boosted trees every 30 days for speed; between refits they keep their
parameters and condition on the newest data. HAR-RV (OLS) and the DVOL premium are re-estimated
at every daily origin."""


def _build(name: str, horizon: int) -> Forecaster:
    from hedgekeeper.forecast import Ewma, Garch, GradientBoostedRV, HarRV, ImpliedVol

    if name == "ewma":
        return Ewma()
    if name == "garch":
        return Garch()
    if name == "gjr":
        return Garch(asymmetric=True)
    if name == "har":
        return HarRV(horizon)
    if name == "iv":
        return ImpliedVol(horizon)
    return GradientBoostedRV(horizon)


def _models(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in MODELS]
    if not names or unknown:
        fail(
            f"--models must be a comma-separated list of {', '.join(MODELS)}; "
            f"got {text!r}"
        )
    return list(dict.fromkeys(names))


def _dm(test: Any) -> dict[str, float | int | None]:
    def number(value: float) -> float | None:
        return None if math.isnan(value) else value

    return {
        "statistic": number(test.statistic),
        "p_value": number(test.p_value),
        "mean_difference": number(test.mean_difference),
        "lags": test.lags,
    }


def _report(comparison: Comparison, paths: list[ForecastPath]) -> dict[str, Any]:
    refits = {path.model: path.refits for path in paths}
    first = str(comparison.origin[0].astype("datetime64[s]")) + "Z"
    last = str(comparison.origin[-1].astype("datetime64[s]")) + "Z"
    out: dict[str, Any] = {}
    for name, score in comparison.scores.items():
        entry: dict[str, Any] = {
            "qlike": score.qlike,
            "mse_log": score.mse_log,
            "n_forecasts": score.n_forecasts,
            "n_available": score.n_available,
            "refits": refits[name],
            "horizon_hours": comparison.horizon_hours,
            "first_origin": first,
            "last_origin": last,
        }
        for bench, test in score.versus.items():
            entry[f"dm_qlike_vs_{bench}"] = _dm(test)
        for bench, test in score.versus_log.items():
            entry[f"dm_mse_log_vs_{bench}"] = _dm(test)
        out[name] = entry
    out["best"] = comparison.best
    return out


def _table(comparison: Comparison, paths: list[ForecastPath], notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    benches = [b for b in ("ewma", "garch") if b in comparison.scores]
    first = str(comparison.origin[0].astype("datetime64[D]"))
    last = str(comparison.origin[-1].astype("datetime64[D]"))
    table = Table(
        title=(
            f"Realised-variance forecasts, horizon {comparison.horizon_hours} h, "
            f"{len(comparison.origin)} origins {first} .. {last}"
        )
    )
    table.add_column("model")
    table.add_column("QLIKE", justify="right")
    table.add_column("MSE log", justify="right")
    table.add_column("n", justify="right")
    for bench in benches:
        table.add_column(f"DM vs {bench} (p)", justify="right")
    table.add_column("refits", justify="right")
    refits = {path.model: path.refits for path in paths}
    for name, score in comparison.scores.items():
        cells = [
            name + (" *" if name == comparison.best else ""),
            f"{score.qlike:.4f}",
            f"{score.mse_log:.4f}",
            str(score.n_forecasts),
        ]
        for bench in benches:
            test = score.versus.get(bench)
            cells.append(
                "" if test is None else f"{test.statistic:+.2f} ({test.p_value:.3g})"
            )
        cells.append(str(refits[name]))
        table.add_row(*cells)
    console = Console()
    console.print(table)
    console.print(
        "QLIKE = RV/F - ln(RV/F) - 1 (Patton 2011); DM = Diebold-Mariano statistic on QLIKE "
        f"differences (negative: lower loss than the benchmark), Bartlett HAC with "
        f"{comparison.lags} lags, two-sided p; * = best QLIKE.",
        highlight=False,
    )
    for note in notes:
        console.print(f"note: {note}", highlight=False)


def forecast_command(
    prices: Annotated[
        Path, typer.Option("--prices", help="Hourly OHLCV CSV(.gz) (Binance format).")
    ],
    start: Annotated[
        str, typer.Option("--start", help="First forecast origin, ISO date or time (UTC).")
    ],
    end: Annotated[
        str | None, typer.Option("--end", help="Last forecast origin (default: end of data).")
    ] = None,
    iv: Annotated[
        list[Path] | None,
        typer.Option(
            "--iv",
            help="Deribit DVOL CSV(.gz), hourly or daily; give both to fill the hourly gaps.",
        ),
    ] = None,
    funding: Annotated[
        Path | None, typer.Option("--funding", help="Binance funding CSV (ml features).")
    ] = None,
    symbol: Annotated[
        str | None,
        typer.Option("--symbol", help="Funding symbol (default: from the prices file name)."),
    ] = None,
    horizon: Annotated[
        str, typer.Option("--horizon", help="Forecast horizon: 24h, 7d, 1w or hours.")
    ] = "24h",
    models: Annotated[
        str, typer.Option("--models", help="Comma-separated: " + ",".join(MODELS))
    ] = ",".join(MODELS),
    every: Annotated[
        str, typer.Option("--every", help="Spacing of forecast origins (default 24h).")
    ] = "24h",
    refit: Annotated[
        str | None,
        typer.Option("--refit", help="Re-estimation cadence for every model (default per model)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Walk-forward volatility forecast comparison: QLIKE, log-MSE and Diebold-Mariano tests."""
    import numpy as np

    from hedgekeeper.forecast import compare, daily_origins, parse_horizon, walk_forward
    from hedgekeeper.forecast._readers import load_history

    names = _models(models)
    notes: list[str] = []
    try:
        hours = parse_horizon(horizon, "--horizon")
        step = parse_horizon(every, "--every")
        cadence = None if refit is None else parse_horizon(refit, "--refit")
    except ValueError as exc:
        fail(str(exc))
    if "iv" in names and not iv:
        names.remove("iv")
        notes.append("model iv skipped: it needs --iv DVOL.csv")
    if not names:
        fail("no model left to run (iv needs --iv)")
    try:
        history = load_history(prices, iv or (), funding, symbol)
        origins = daily_origins(history, start, end, hours, step)
    except ValueError as exc:
        fail(str(exc))
    paths = []
    for name in names:
        default = REFIT_HOURS[name]
        cadence_hours = default if cadence is None or default is None else cadence
        path = walk_forward(history, _build(name, hours), origins, hours, cadence_hours)
        available = int(np.count_nonzero(np.isfinite(path.forecast)))
        if available == 0:
            notes.append(f"model {name} skipped: no forecast at any origin (not enough data)")
            continue
        if available < origins.size:
            notes.append(
                f"model {name} has forecasts at {available} of {origins.size} origins; "
                "all models are scored on the origins they share"
            )
        paths.append(path)
    if not paths:
        fail("no model produced a forecast in the requested period")
    try:
        comparison = compare(paths, origin_step_hours=step)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        print(json.dumps(_report(comparison, paths), indent=2))
    else:
        _table(comparison, paths, notes)

