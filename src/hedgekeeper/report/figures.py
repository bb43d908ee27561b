"""Matplotlib figures of a backtest suite, rendered to PNG bytes (Agg, no display needed).

Each function takes a :class:`~hedgekeeper.backtest.suite.SuiteResult` and returns PNG bytes.
Colours follow the policy family so that one family reads the same in every figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hedgekeeper.backtest.frontier import FrontierPoint
from hedgekeeper.backtest.metrics import daily_pnl
from hedgekeeper.backtest.replay import BacktestResult
from hedgekeeper.backtest.suite import SuiteResult

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f")
_DPI = 110


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
                         "legend.fontsize": 8, "axes.grid": True, "grid.alpha": 0.3})
    return plt


def _png(figure: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def family_colours(families: Sequence[str]) -> dict[str, str]:
    """A colour per distinct family, in order of first appearance."""
    ordered = list(dict.fromkeys(families))
    return {family: _PALETTE[i % len(_PALETTE)] for i, family in enumerate(ordered)}


def _frontier_axis(axis: Any, points: Sequence[FrontierPoint], numbers: dict[str, int],
                   colours: dict[str, str], ylabel: str, title: str) -> None:
    for point in points:
        axis.scatter(point.cost, point.risk, s=120 if point.pareto else 40,
                     color=colours[point.family], edgecolor="black" if point.pareto else "none",
                     linewidth=0.8, zorder=3, marker="*" if point.pareto else "o")
        axis.annotate(str(numbers[point.name]), (point.cost, point.risk), xytext=(4, 3),
                      textcoords="offset points", fontsize=8,
                      fontweight="bold" if point.pareto else "normal")
    front = [p for p in points if p.pareto]
    if front:
        axis.step([p.cost for p in front], [p.risk for p in front], where="post",
                  color="black", linewidth=1.0, alpha=0.5, zorder=2)
    axis.set_xlabel("trading cost: fees + spread + impact (USD)")
    axis.set_ylabel(ylabel)
    axis.set_title(title)


def _legend(axis: Any, colours: dict[str, str], loc: str = "upper right") -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=colour, label=family)
               for family, colour in colours.items()]
    handles.append(Line2D([], [], marker="*", linestyle="-", color="black", markersize=10,
                          markerfacecolor="white", label="Pareto set"))
    axis.legend(handles=handles, loc=loc, framealpha=0.9)


def short_name(name: str) -> str:
    """A run name abbreviated for plot labels and narrow tables (``WW(γ=0.0001)``)."""
    for long, short in (("whalley_wilmott", "WW"), ("zakamouline", "Zak"),
                        ("delta_band", "band"), ("calendar", "cal"), ("greek_bands", "Δ-Γ"),
                        ("vol_regime", "regime"), ("leland", "Leland"),
                        ("risk_aversion=", "γ="), ("gamma_halfwidth=", "Γh="),
                        ("delta_halfwidth=", "Δh="), ("vega_halfwidth=", "vh="),
                        ("halfwidths=", "h="), ("halfwidth=", "h="), ("thresholds=", "at="),
                        ("intervals=", "every="), ("interval=", ""), ("hedge_to=", "to="),
                        ("cost_round_trip=", "k=")):
        name = name.replace(long, short)
    return name


def frontier_png(suite: SuiteResult) -> bytes:
    """Trading cost against tracking error and against hedging-error std, Pareto set marked."""
    plt = _pyplot()
    colours = family_colours([s.family for s in suite.specs])
    numbers = {spec.name: i for i, spec in enumerate(suite.specs, start=1)}
    figure, axes = plt.subplots(1, 2, figsize=(12.5, 5.2))
    _frontier_axis(axes[0], suite.tracking_frontier, numbers, colours,
                   "tracking error: RMS net delta (USD)",
                   "Cost vs tracking error (numbers: rows of the table)")
    _frontier_axis(axes[1], suite.error_frontier, numbers, colours,
                   "hedging error: std of daily P&L (USD)",
                   "Cost vs hedging error (lower left is better)")
    unhedged = suite.summaries[0].unhedged_std_usd if suite.summaries else float("nan")
    if np.isfinite(unhedged):
        axes[1].annotate(f"the unhedged book: {unhedged:,.0f} USD a day", (0.98, 0.97),
                         xycoords="axes fraction", ha="right", va="top", fontsize=8,
                         color="dimgrey")
    _legend(axes[0], colours)
    figure.tight_layout()
    return _png(figure)


def pnl_distribution_png(suite: SuiteResult) -> bytes:
    """Box plots of daily P&L per run, with the unhedged book for reference."""
    plt = _pyplot()
    colours = family_colours([s.family for s in suite.specs])
    data = [daily_pnl(r) for r in suite.results]
    labels = [f"{i}  {short_name(r.name)}" for i, r in enumerate(suite.results, start=1)]
    fill = [colours[s.family] for s in suite.specs]
    if suite.results:
        data.append(daily_pnl(suite.results[0], "option_pnl"))
        labels.append("unhedged book")
        fill.append("#bbbbbb")
    height = max(3.5, 0.32 * len(data) + 1.2)
    figure, axis = plt.subplots(figsize=(11.0, height))
    boxes = axis.boxplot(data, patch_artist=True, widths=0.6, showfliers=False, whis=(5, 95),
                         medianprops={"color": "black"}, **_horizontal())
    for patch, colour in zip(boxes["boxes"], fill, strict=True):
        patch.set_facecolor(colour)
        patch.set_alpha(0.55)
    for row, values in enumerate(data, start=1):
        axis.scatter(values, np.full(values.size, row) + np.linspace(-0.18, 0.18, values.size),
                     s=6, color="black", alpha=0.35, zorder=3)
    axis.set_yticks(range(1, len(labels) + 1), labels)
    axis.invert_yaxis()
    axis.axvline(0.0, color="grey", linewidth=0.8)
    axis.set_xlabel("daily P&L (USD; one dot per UTC day; box: quartiles, whiskers: 5-95 %)")
    axis.set_title("Daily P&L of the hedged book per policy, and of the book alone")
    figure.tight_layout()
    return _png(figure)


def _horizontal() -> dict[str, Any]:
    """``boxplot`` keyword for horizontal boxes (``vert`` is deprecated from Matplotlib 3.10,
    where ``orientation`` replaced it)."""
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def representative(suite: SuiteResult) -> list[int]:
    """One run per family: the one nearest the lower-left corner of cost vs tracking error
    (each axis scaled by its maximum over the suite)."""
    cost = np.array([s.total_cost_usd for s in suite.summaries])
    risk = np.array([s.tracking_error_usd for s in suite.summaries])
    score = cost / max(float(np.max(cost, initial=0.0)), 1e-12) + \
        risk / max(float(np.max(risk, initial=0.0)), 1e-12)
    chosen: dict[str, int] = {}
    for i, spec in enumerate(suite.specs):
        best = chosen.get(spec.family)
        if best is None or score[i] < score[best]:
            chosen[spec.family] = i
    return list(chosen.values())


def _times(result: BacktestResult) -> Any:
    return result.time.astype("datetime64[ms]").astype(object)


def exposure_png(suite: SuiteResult, runs: Sequence[int] | None = None) -> bytes:
    """Net delta over time against the policy's band, rebalances marked, one panel per run."""
    plt = _pyplot()
    import matplotlib.dates as mdates

    chosen = list(runs) if runs is not None else representative(suite)
    colours = family_colours([s.family for s in suite.specs])
    figure, axes = plt.subplots(len(chosen), 1, figsize=(12.0, 2.3 * len(chosen) + 0.6),
                                sharex=True, squeeze=False)
    for axis, index in zip(axes[:, 0], chosen, strict=True):
        result = suite.results[index]
        colour = colours[suite.specs[index].family]
        when = _times(result)
        has_band = np.isfinite(result.band_lower) & np.isfinite(result.band_upper)
        if np.any(has_band):
            axis.fill_between(when, np.where(has_band, result.band_lower, np.nan),
                              np.where(has_band, result.band_upper, np.nan), color=colour,
                              alpha=0.2, step="post", linewidth=0, label="policy band")
        # At a roll the old legs' hedge is still on until that hour's decision: shown apart.
        delta = np.where(result.rolled, np.nan, result.net_delta_before)
        axis.plot(when, delta, color=colour, linewidth=0.9, drawstyle="steps-post",
                  label="net delta before decision")
        traded = result.rebalanced
        axis.scatter(np.asarray(when)[traded], result.net_delta_after[traded], s=9,
                     color="black", zorder=3, label=f"after rebalance ({int(traded.sum())})")
        limit = _robust_limit(delta, result.band_lower, result.band_upper)
        axis.set_ylim(-limit, limit)
        rolls = np.flatnonzero(result.rolled)[1:]
        for step in rolls:
            axis.axvline(when[step], color="grey", linestyle=":", linewidth=1,
                         alpha=0.8 if len(rolls) <= 6 else 0.35)
            if len(rolls) <= 6:  # a label per roll only while they stay legible
                axis.annotate(f"roll: {result.net_delta_before[step]:+.1f} before re-hedge",
                              (when[step], 0.92 * limit), xytext=(4, 0),
                              textcoords="offset points", fontsize=7, color="grey", va="top")
        axis.axhline(0.0, color="grey", linewidth=0.6)
        axis.set_ylabel("coin")
        axis.set_title(f"{index + 1}  {result.name}: net delta and band", loc="left")
        axis.legend(loc="lower left", ncols=3, framealpha=0.85)
    _date_axis(axes[-1, 0], mdates)
    axes[-1, 0].set_xlabel("UTC date (dotted lines: the straddle re-struck)")
    figure.tight_layout()
    return _png(figure)


def _date_axis(axis: Any, mdates: Any) -> None:
    """Concise dates that stay readable from a few days to several years."""
    locator = mdates.AutoDateLocator(minticks=5, maxticks=12)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _robust_limit(delta: npt.NDArray[np.float64], lower: npt.NDArray[np.float64],
                  upper: npt.NDArray[np.float64]) -> float:
    """Symmetric y limit: every finite net delta, and the band up to its 95th percentile (a
    band that widens without bound at expiry, like Zakamouline's, would hide the rest)."""
    top = float(np.max(np.abs(delta[np.isfinite(delta)]), initial=0.0))
    band = np.abs(np.concatenate([lower[np.isfinite(lower)], upper[np.isfinite(upper)]]))
    if band.size:
        top = max(top, float(np.percentile(band, 95)))
    return 1.15 * top if top > 0.0 else 1.0


def pnl_png(suite: SuiteResult) -> bytes:
    """Cumulative P&L per run and of the unhedged book, above the index and its implied vol."""
    plt = _pyplot()
    import matplotlib.dates as mdates

    colours = family_colours([s.family for s in suite.specs])
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12.0, 7.0), sharex=True,
                                         gridspec_kw={"height_ratios": [2.2, 1.0]})
    for spec, result in zip(suite.specs, suite.results, strict=True):
        top.plot(_times(result), result.equity, color=colours[spec.family], linewidth=0.9,
                 alpha=0.85)
    if suite.results:
        first = suite.results[0]
        top.plot(_times(first), first.option_pnl, color="black", linewidth=1.6,
                 linestyle="--", label="unhedged book")
    for family, colour in colours.items():
        top.plot([], [], color=colour, label=family)
    top.axhline(0.0, color="grey", linewidth=0.6)
    top.set_ylabel("cumulative P&L (USD)")
    top.set_title("Cumulative P&L: hedged book per policy (costs and funding included)")
    top.legend(loc="lower left", ncols=4, framealpha=0.9)
    market = suite.market
    when = market.time.astype("datetime64[ms]").astype(object)
    bottom.plot(when, market.index, color="black", linewidth=0.9)
    bottom.set_ylabel("index (USD)")
    vol_axis = bottom.twinx()
    vol_axis.plot(when, 100.0 * market.implied_vol, color="#d62728", linewidth=0.9)
    vol_axis.set_ylabel("implied vol (%)", color="#d62728")
    vol_axis.grid(False)
    bottom.set_title("Underlying (black) and the ATM implied vol the options are priced at (red)")
    _date_axis(bottom, mdates)
    bottom.set_xlabel("UTC date")
    figure.tight_layout()
    return _png(figure)


def cost_png(suite: SuiteResult) -> bytes:
    """Stacked costs per run: fees, half spread, impact, and funding paid (or received)."""
    plt = _pyplot()
    summaries = suite.summaries
    labels = [f"{i}  {short_name(s.name)}" for i, s in enumerate(summaries, start=1)]
    rows = np.arange(len(summaries))
    parts = (("fees", [s.fees_usd for s in summaries], "#1f77b4"),
             ("half spread", [s.spread_usd for s in summaries], "#ff7f0e"),
             ("impact", [s.impact_usd for s in summaries], "#2ca02c"))
    figure, axis = plt.subplots(figsize=(11.0, max(3.5, 0.32 * len(summaries) + 1.2)))
    left = np.zeros(len(summaries))
    for label, values, colour in parts:
        axis.barh(rows, values, left=left, color=colour, label=label, height=0.6)
        left = left + np.asarray(values)
    funding_paid = np.array([-s.funding_usd for s in summaries])
    axis.barh(rows, np.maximum(funding_paid, 0.0), left=left, color="#9467bd", height=0.6,
              label="funding paid", hatch="//", alpha=0.8)
    axis.barh(rows, np.minimum(funding_paid, 0.0), color="#9467bd", height=0.6, alpha=0.4,
              label="funding received")
    for row, total in zip(rows, left + np.maximum(funding_paid, 0.0), strict=True):
        axis.annotate(f"{total:,.0f}", (total, row), xytext=(3, -3), textcoords="offset points",
                      fontsize=7)
    axis.set_yticks(rows, labels)
    axis.invert_yaxis()
    axis.set_xlabel("USD over the window")
    axis.set_title("Cost breakdown per policy", pad=28)
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=5, frameon=False)
    axis.set_xlim(right=float(np.max(left + np.maximum(funding_paid, 0.0), initial=1.0)) * 1.12)
    figure.tight_layout()
    return _png(figure)

