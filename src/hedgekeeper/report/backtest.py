"""A backtest suite as one self-contained HTML file that opens offline.

Figures are matplotlib PNGs embedded as ``data:`` URIs and the style sheet is inline; the page
references nothing outside itself. Sections: what was run, the summary table, the
tracking-error-vs-cost frontier with the Pareto set, P&L over time and its daily
distribution, exposure against each policy's band with rebalance markers, the cost
breakdown, the definitions, and the configuration file that produced it.
"""

from __future__ import annotations

import base64
import html
import math
from datetime import UTC, datetime
from pathlib import Path

from hedgekeeper.backtest.metrics import BacktestSummary
from hedgekeeper.backtest.suite import SuiteResult
from hedgekeeper.report import figures

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1280px; padding: 0 24px 48px; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.lead { color: #555; margin-top: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.82em; margin: 8px 0; }
th, td { padding: 4px 7px; border-bottom: 1px solid #e4e4e4; text-align: right;
         white-space: nowrap; }
th { background: #f4f4f4; white-space: normal; vertical-align: bottom; max-width: 7em; }
td.name, th.name { text-align: left; }
tr.pareto td.name::after { content: " \\2605"; color: #b8860b; }
li { margin: 3px 0; font-size: 0.9em; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
pre { background: #f7f7f7; border: 1px solid #e0e0e0; padding: 10px; font-size: 0.8em;
      overflow-x: auto; }
dl { font-size: 0.9em; } dt { font-weight: 600; margin-top: 6px; } dd { margin-left: 18px; }
.facts td { text-align: left; } .facts td:first-child { color: #666; }
"""

_COLUMNS = (
    ("hedge_error_std_usd", "hedging error std", "{:,.0f}"),
    ("hedge_error_ratio", "vs unhedged", "{:.2f}"),
    ("tracking_error_usd", "tracking error", "{:,.0f}"),
    ("total_cost_usd", "trading cost", "{:,.0f}"),
    ("fees_usd", "fees", "{:,.0f}"),
    ("spread_usd", "spread", "{:,.0f}"),
    ("impact_usd", "impact", "{:,.0f}"),
    ("funding_usd", "funding", "{:+,.0f}"),
    ("pnl_usd", "P&L", "{:+,.0f}"),
    ("cvar_95_usd", "CVaR 95% (day)", "{:+,.0f}"),
    ("rebalances", "rebalances", "{:d}"),
    ("turnover_coin", "turnover (coin)", "{:,.1f}"),
    ("max_abs_delta_coin", "max |delta| (coin)", "{:.2f}"),
)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _cell(value: float | int | str, pattern: str) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    return pattern.format(value)


def _table(suite: SuiteResult) -> str:
    pareto = {p.name for p in suite.tracking_frontier if p.pareto}
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in _COLUMNS)
    rows: list[str] = []
    for summary in suite.summaries:
        cells = "".join(f"<td>{_cell(getattr(summary, key), pattern)}</td>"
                        for key, _, pattern in _COLUMNS)
        css = ' class="pareto"' if summary.name in pareto else ""
        number = len(rows) + 1
        rows.append(f'<tr{css}><td>{number}</td><td class="name">{html.escape(summary.name)}'
                    f"</td>{cells}</tr>")
    return (f'<div class="scroll"><table><thead><tr><th>#</th><th class="name">policy</th>'
            f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _pareto_lines(suite: SuiteResult) -> str:
    numbers = {spec.name: i for i, spec in enumerate(suite.specs, start=1)}
    parts = []
    for label, points in (("cost vs tracking error", suite.tracking_frontier),
                          ("cost vs hedging error", suite.error_frontier)):
        names = ", ".join(f"#{numbers[p.name]} {html.escape(p.name)}" for p in points
                          if p.pareto)
        parts.append(f"<li><b>Pareto set, {label}</b> (cheapest first): {names}</li>")
    return f"<ul>{''.join(parts)}</ul>"


def _facts(suite: SuiteResult, config_name: str) -> str:
    market = suite.market
    first: BacktestSummary | None = suite.summaries[0] if suite.summaries else None
    source = "DVOL" if bool(market.implied_from_dvol.all()) else (
        f"DVOL on {market.implied_from_dvol.mean():.0%} of the hours, realised-vol fallback "
        "elsewhere")
    items = [
        ("configuration", config_name),
        ("window (UTC)", f"{market.start:%Y-%m-%d %H:%M} .. {market.end:%Y-%m-%d %H:%M}, "
                         f"{len(market)} hourly steps"),
        ("underlying", f"{market.coin}: {market.index.min():,.0f} .. {market.index.max():,.0f} "
                       "USD"),
        ("hedge instrument", f"{market.perp_symbol} perpetual, "
                             f"{len(market.funding_time)} funding settlements"),
        ("option vol", f"{source}: {100 * market.implied_vol.min():.0f}% .. "
                       f"{100 * market.implied_vol.max():.0f}%"),
        ("runs", f"{len(suite.results)} policies in {suite.seconds:.1f} s"),
    ]
    if first is not None:
        items.append(("book premium received", f"{first.premium_usd:,.0f} USD"))
        items.append(("unhedged book", f"P&L {first.option_pnl_usd:+,.0f} USD, daily std "
                                       f"{first.unhedged_std_usd:,.0f} USD"))
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                   for k, v in items)
    return f'<table class="facts">{rows}</table>'


_DEFINITIONS = """
<dl>
<dt>hedging error std</dt><dd>standard deviation of the hedged book's daily P&amp;L (UTC days,
costs and funding included); <em>vs unhedged</em> divides it by the same for the option book
alone.</dd>
<dt>tracking error</dt><dd>root mean square of the book's net delta before each hourly
decision, in USD (net delta &times; index): how far exposure strayed from its zero target.</dd>
<dt>trading cost</dt><dd>exchange fees + half spreads + square-root impact paid on hedge
trades, priced by the same cost model the sizer minimised. Funding is shown apart (positive =
received): its sign is the market's, not the policy's.</dd>
<dt>Pareto set (&#9733;)</dt><dd>policies that no other policy beats on both cost and risk at
once; the frontier's left panel uses tracking error, the right panel hedging-error std.</dd>
<dt>CVaR 95% (day)</dt><dd>mean of the worst 5&nbsp;% of daily P&amp;Ls (at least one
day).</dd>
<dt>max |delta|</dt><dd>largest net delta before a decision, the hours when the straddle was
(re)opened left out.</dd>
<dt>pricing</dt><dd>options are priced with Black-76 at the DVOL-based smile of the
configuration (default flat at DVOL), on the index with zero rate; the book's own legs are
traded at model mid without costs; hedges fill at the perpetual's close &plusmn; half spread
(see docs/backtest.md).</dd>
</dl>
"""


def render_html(suite: SuiteResult, *, title: str, config_text: str,
                config_name: str) -> str:
    """The report as one HTML string (figures embedded as base64 PNG)."""
    if not suite.results:
        raise ValueError("the suite has no runs to report")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="lead">hedgekeeper backtest report, generated {stamp}. Every figure and '
        "number below is in this file; it needs no network.</p>",
        _facts(suite, config_name),
        "<h2>Summary</h2>", _table(suite),
        "<h2>Frontier: tracking error and hedging error against cost</h2>",
        _img(figures.frontier_png(suite), "tracking error and hedging error against cost, "
                                          "Pareto set marked"),
        _pareto_lines(suite),
        "<h2>P&amp;L over time</h2>", _img(figures.pnl_png(suite), "cumulative P&L"),
        "<h2>Daily P&amp;L distributions</h2>",
        _img(figures.pnl_distribution_png(suite), "daily P&L distributions"),
        "<h2>Exposure against the band</h2>",
        "<p>One run per policy family (the one nearest the lower-left corner of the "
        "cost/tracking-error plane). Shaded: the band the policy states at each hour "
        "(none for calendar and Leland hedges, which aim at a point); dots: the net delta "
        "after each rebalance.</p>",
        _img(figures.exposure_png(suite), "net delta against the policy band"),
        "<h2>Cost breakdown</h2>", _img(figures.cost_png(suite), "cost breakdown"),
        "<h2>Definitions</h2>", _DEFINITIONS,
        f"<h2>Configuration ({html.escape(config_name)})</h2>",
        f"<pre>{html.escape(config_text)}</pre>",
    ]
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def write_report(suite: SuiteResult, out_dir: str | Path, *, title: str, config_text: str,
                 config_name: str) -> Path:
    """Write ``report.html`` into ``out_dir`` (created if needed); return its path."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(render_html(suite, title=title, config_text=config_text,
                                config_name=config_name), encoding="utf-8")
    return path
