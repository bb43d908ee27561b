"""``hedgekeeper surface``: fit a raw SVI volatility surface to a Deribit chain snapshot.

Usage::

    hedgekeeper surface --chain CHAIN.csv[.gz] [--at TIMESTAMP] [--forward listed|parity]
                        [--plot OUT.png|OUT.html] [--json]

Per expiry it fits a raw SVI smile to Deribit's mark IVs (one quote per strike: the
out-of-the-money option's; vega-weighted; quotes priced below one tick, 0.0001 BTC, are left
out) and reports the fit error against the marks in vol points, Gatheral's butterfly check
``g(k) >= 0`` and the calendar check (total variance non-decreasing in expiry at fixed
log-moneyness); see :mod:`hedgekeeper.pricing.surface` and :mod:`hedgekeeper.pricing.svi`.

Log-moneyness uses each expiry's forward from the chain itself: by default Deribit's listed
``underlying`` of the expiry (its future or synthetic forward, the forward its mark IVs are
quoted against), or ``--forward parity`` for put-call parity on the chain's mid prices
(:func:`hedgekeeper.pricing.forward.chain_forwards`).

Heavy imports stay inside the command body so ``hedgekeeper --help`` stays fast.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hedgekeeper.cli._errors import fail
from hedgekeeper.cli._options import ChainPath, SnapshotAt

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from hedgekeeper.domain.chain import OptionChain
    from hedgekeeper.pricing.surface import SurfaceFit

UNITS: dict[str, str] = {
    "t": "years to expiry, ACT/365 from the snapshot",
    "forward": "USD per coin, the expiry's forward used for log-moneyness ln(K/F)",
    "n_quotes": "strikes fitted and scored (the out-of-the-money option's mark IV per strike)",
    "n_excluded": "strikes left out: out-of-the-money mark price below min_price_fraction of "
    "the forward (one 0.0001 BTC tick)",
    "rmse_vol": "vol points (1 = 1 %), SVI vol minus Deribit mark IV over the fitted strikes",
    "max_abs_vol": "vol points, largest absolute error over the fitted strikes",
    "rmse_vol_weighted": "vol points, vega-weighted RMSE (the fit objective)",
    "min_g": "Gatheral's density factor g(k), dimensionless; butterfly-free iff g >= 0",
    "butterfly_violations": "log-moneyness intervals [k0, k1] with g(k) < 0",
    "calendar_violations": "log-moneyness intervals where total variance is below the previous "
    "expiry's",
    "svi": "raw SVI total variance w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)), "
    "k = ln(K/F), w = vol^2 t",
}

_FORWARDS = ("listed", "parity")


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _expiry_label(expiry: np.datetime64) -> str:
    import numpy as np

    return str(np.datetime_as_string(expiry, unit="s")) + "Z"


def _quotes(chain: OptionChain, forward_source: str) -> dict[str, npt.NDArray[Any]]:
    """Out-of-the-money rows (one per strike per expiry) with their forward and expiry label."""
    import numpy as np

    from hedgekeeper.pricing.forward import chain_forwards

    forwards = chain_forwards(chain)
    per_expiry = forwards.listed if forward_source == "listed" else forwards.forward
    forward = per_expiry[np.searchsorted(forwards.expiry, chain.expiry)]
    otm = ((chain.kind == 1) & (chain.strike >= forward)) | (
        (chain.kind == -1) & (chain.strike < forward)
    )
    labels = np.array([_expiry_label(e) for e in chain.expiry])
    rows = np.flatnonzero(otm)
    # One quote per (expiry, strike): Deribit lists a call and a put at every strike, so the
    # out-of-the-money side is unique; keep the first row should a file repeat one.
    _, first = np.unique(
        np.stack((chain.t[rows], chain.strike[rows]), axis=1), axis=0, return_index=True
    )
    rows = rows[np.sort(first)]
    return {
        "t": chain.t[rows],
        "forward": forward[rows],
        "strike": chain.strike[rows],
        "iv": chain.mark_iv[rows],
        "expiry": labels[rows],
    }


def _report(
    fit: SurfaceFit, chain: OptionChain, forward_source: str, min_price_fraction: float
) -> dict[str, Any]:
    expiries = []
    for report in fit.reports:
        params = report.params
        expiries.append(
            {
                "expiry": report.expiry,
                "t": report.t,
                "forward": report.forward,
                "n_quotes": report.n_quotes,
                "n_excluded": report.n_excluded,
                "rmse_vol": report.rmse_vol,
                "max_abs_vol": report.max_abs_vol,
                "rmse_vol_weighted": report.rmse_vol_weighted,
                "butterfly_ok": report.butterfly_ok,
                "min_g": _finite_or_none(report.min_g),
                "butterfly_violations": [list(v) for v in report.butterfly_violations],
                "calendar_ok": report.calendar_ok,
                "calendar_violations": [list(v) for v in report.calendar_violations],
                "svi": {
                    "a": params.a,
                    "b": params.b,
                    "rho": params.rho,
                    "m": params.m,
                    "sigma": params.sigma,
                },
            }
        )
    skipped = [
        {"expiry": s.expiry, "t": s.t, "n_quotes": s.n_quotes, "reason": s.reason}
        for s in fit.skipped
    ]
    return {
        "timestamp": chain.timestamp.isoformat().replace("+00:00", "Z"),
        "underlying": chain.underlying,
        "forward_source": forward_source,
        "min_price_fraction": min_price_fraction,
        "weights": "Black-76 vega at each quote's mark IV",
        "arbitrage_free": all(r.butterfly_ok and r.calendar_ok for r in fit.reports),
        "expiries": expiries,
        "skipped": skipped,
        "units": UNITS,
    }


def _print_table(report: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
        title=(
            f"{report['underlying']} raw SVI fit at {report['timestamp']}, forward "
            f"{report['forward_source']}; errors vs Deribit mark IV in vol points"
        ),
        title_justify="left",
        caption="strikes: fitted+excluded (priced below 1 tick); w.rmse: vega-weighted; "
        "butterfly: min g(k)",
        caption_justify="left",
    )
    for name in ("expiry", "days", "forward", "strikes", "rmse", "max", "w.rmse"):
        table.add_column(name, justify="left" if name == "expiry" else "right", no_wrap=True)
    table.add_column("butterfly", no_wrap=True)
    table.add_column("calendar", no_wrap=True)
    details = []
    for row in report["expiries"]:
        min_g = row["min_g"]
        g_text = "w=0" if min_g is None else f"{min_g:.3f}"
        butterfly = ("ok " if row["butterfly_ok"] else "ARB ") + g_text
        for k0, k1 in row["butterfly_violations"]:
            details.append(f"{row['expiry']}: g(k) < 0 for k in [{k0:.3f}, {k1:.3f}]")
        for k0, k1 in row["calendar_violations"]:
            details.append(
                f"{row['expiry']}: total variance below the previous expiry's for k in "
                f"[{k0:.3f}, {k1:.3f}]"
            )
        table.add_row(
            _deribit_date(row["expiry"]),
            f"{row['t'] * 365.0:.1f}",
            f"{row['forward']:.0f}",
            f"{row['n_quotes']}+{row['n_excluded']}",
            f"{row['rmse_vol']:.2f}",
            f"{row['max_abs_vol']:.2f}",
            f"{row['rmse_vol_weighted']:.2f}",
            butterfly,
            "ok" if row["calendar_ok"] else "ARB",
        )
    console = Console()
    console.print(table)
    for line in details:
        console.print(line, highlight=False)
    for row in report["skipped"]:
        console.print(f"skipped {row['expiry']}: {row['reason']}", highlight=False)
    verdict = "no" if report["arbitrage_free"] else "SOME"
    console.print(f"{verdict} static arbitrage flagged on the check grids", highlight=False)


def _smiles_png(fit: SurfaceFit, quotes: dict[str, npt.NDArray[Any]], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = len(fit.reports)
    columns = min(4, n)
    rows = math.ceil(n / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False, layout="constrained"
    )
    for ax, report, slice_fit in zip(axes.ravel(), fit.reports, fit.fits, strict=False):
        same = quotes["t"] == report.t
        k_all = np.log(quotes["strike"][same] / quotes["forward"][same])
        iv_all = 100.0 * quotes["iv"][same]
        fitted = np.isin(k_all, slice_fit.log_moneyness)
        grid = np.linspace(k_all.min(), k_all.max(), 300)
        ax.plot(
            grid,
            100.0 * report.params.implied_vol(grid, report.t),
            color="C0",
            lw=1.6,
            label="SVI fit",
        )
        ax.scatter(
            k_all[fitted],
            iv_all[fitted],
            s=14,
            color="C3",
            zorder=3,
            label="Deribit mark IV (fitted)",
        )
        if np.any(~fitted):
            ax.scatter(
                k_all[~fitted],
                iv_all[~fitted],
                s=14,
                facecolors="none",
                edgecolors="0.55",
                zorder=3,
                label="mark IV below 1 tick (not fitted)",
            )
        flags = "" if report.butterfly_ok and report.calendar_ok else "  [arbitrage]"
        ax.set_title(
            f"{report.expiry[:10]}  ({report.t * 365.0:.1f} d)\n"
            f"RMSE {report.rmse_vol:.2f}, max {report.max_abs_vol:.2f} vol pts{flags}",
            fontsize=9,
        )
        ax.set_xlabel("ln(K / F)", fontsize=8)
        ax.set_ylabel("implied vol (%)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    for ax in axes.ravel()[1:n]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    figure.suptitle(title, fontsize=11)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def _html(report: dict[str, Any], png: bytes, title: str) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (
                row["expiry"],
                f"{row['t'] * 365.0:.2f}",
                f"{row['forward']:,.0f}",
                row["n_quotes"],
                row["n_excluded"],
                f"{row['rmse_vol']:.2f}",
                f"{row['max_abs_vol']:.2f}",
                f"{row['rmse_vol_weighted']:.2f}",
                "ok" if row["butterfly_ok"] else "ARBITRAGE",
                "n/a" if row["min_g"] is None else f"{row['min_g']:.3f}",
                "ok" if row["calendar_ok"] else "ARBITRAGE",
            )
        )
        + "</tr>"
        for row in report["expiries"]
    )
    head = "".join(
        f"<th>{name}</th>"
        for name in (
            "expiry",
            "days",
            "forward",
            "fitted",
            "excluded",
            "RMSE (vol pts)",
            "max |err|",
            "vega-wtd RMSE",
            "butterfly",
            "min g",
            "calendar",
        )
    )
    skipped = "".join(
        f"<li>{html.escape(row['expiry'])}: {html.escape(row['reason'])}</li>"
        for row in report["skipped"]
    )
    image = base64.b64encode(png).decode("ascii")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<table><tr>{head}</tr>{rows}</table>"
        + (f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else "")
        + f'<p><img alt="smiles" src="data:image/png;base64,{image}"></p>'
        "</body></html>\n"
    )


def surface(
    chain: ChainPath,
    at: SnapshotAt = None,
    forward: Annotated[
        str,
        typer.Option(
            "--forward",
            help="Forward per expiry: 'listed' (Deribit's underlying of the expiry, "
            "the forward its mark IVs use) or 'parity' (put-call parity on mids).",
        ),
    ] = "listed",
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Write the smiles (mark IVs vs fitted SVI per expiry) to a .png or a "
            "self-contained .html.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: per-expiry fit errors, arbitrage checks, SVI "
            "parameters, units.",
        ),
    ] = False,
) -> None:
    """Fit a raw SVI smile per expiry; report fit error vs Deribit mark IVs and arbitrage."""
    from hedgekeeper.marketdata import load_chain
    from hedgekeeper.pricing.surface import DEFAULT_MIN_PRICE_FRACTION, fit_surface

    if forward not in _FORWARDS:
        fail(f"--forward must be one of {', '.join(_FORWARDS)}, got {forward!r}")
    if plot is not None and plot.suffix.lower() not in (".png", ".html", ".htm"):
        fail(f"--plot must end in .png or .html, got {str(plot)!r}")
    try:
        snapshot = load_chain(chain, at)
        quotes = _quotes(snapshot, forward)
        fit = fit_surface(
            quotes["t"],
            quotes["forward"],
            quotes["strike"],
            quotes["iv"],
            expiry=quotes["expiry"],
            min_price_fraction=DEFAULT_MIN_PRICE_FRACTION,
        )
    except ValueError as exc:
        fail(str(exc))
    report = _report(fit, snapshot, forward, DEFAULT_MIN_PRICE_FRACTION)
    if plot is not None:
        title = (
            f"{snapshot.underlying} smiles at {_stamp(snapshot.timestamp)}: Deribit mark IV vs "
            "raw SVI"
        )
        png = _smiles_png(fit, quotes, title)
        try:
            if plot.suffix.lower() == ".png":
                plot.write_bytes(png)
            else:
                plot.write_text(_html(report, png, title), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write --plot {str(plot)!r}: {exc.strerror or exc}")
    if as_json:
        typer.echo(json.dumps(report, allow_nan=False))
    else:
        _print_table(report)
        if plot is not None:
            typer.echo(f"smiles written to {plot}")


def _deribit_date(label: str) -> str:
    """``2026-01-30T08:00:00Z`` -> ``30JAN26`` (Deribit's expiry code)."""
    return datetime.strptime(label[:10], "%Y-%m-%d").strftime("%d%b%y").upper().lstrip("0")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
