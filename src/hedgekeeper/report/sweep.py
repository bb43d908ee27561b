"""A sweep's results as one self-contained HTML file that opens offline.

The page holds, per scenario, the cost-risk scatter of every run with the Pareto set marked
(the figure of the backtest report, :mod:`hedgekeeper.report.figures`) and the table of its
results; then what ran and the configuration file. Figures are matplotlib PNGs embedded as
``data:`` URIs and the style sheet is the backtest report's, inline: nothing outside the file
is referenced.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hedgekeeper.backtest.frontier import FrontierPoint
from hedgekeeper.report.backtest import _STYLE, _img
from hedgekeeper.report.figures import (
    _frontier_axis,
    _legend,
    _png,
    _pyplot,
    family_colours,
    short_name,
)

REPORT_FILE = "report.html"

_REQUIRED = ("scenario", "policy", "label", "risk", "cost", "risk_measure", "cost_measure",
             "pareto")


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _points(rows: pd.DataFrame) -> list[FrontierPoint]:
    """The scenario's runs as frontier points (its ``pareto`` column kept), by cost."""
    points = [FrontierPoint(str(label), str(policy), float(cost), float(risk), bool(pareto))
              for label, policy, cost, risk, pareto in zip(
                  rows["label"], rows["policy"], rows["cost"], rows["risk"], rows["pareto"],
                  strict=True)]
    return sorted(points, key=lambda p: (p.cost, p.risk))


def scenario_frontier_png(rows: pd.DataFrame, colours: Mapping[str, str]) -> bytes:
    """Cost against risk for one scenario's runs, Pareto set marked and joined.

    Parameters
    ----------
    rows : one scenario's results (columns ``label``, ``policy``, ``cost``, ``risk``,
        ``pareto``, ``risk_measure``, ``cost_measure``); points are numbered by row order.
    colours : policy family -> colour.

    Returns
    -------
    PNG bytes. Runs with a NaN coordinate are left out of the figure (they stay in the table).
    """
    plt = _pyplot()
    numbers = {str(label): i for i, label in enumerate(rows["label"], start=1)}
    points = [p for p in _points(rows) if math.isfinite(p.cost) and math.isfinite(p.risk)]
    scenario = str(rows["scenario"].iloc[0])
    figure, axis = plt.subplots(figsize=(8.5, 5.0))
    _frontier_axis(axis, points, numbers, dict(colours), str(rows["risk_measure"].iloc[0]),
                   f"{scenario}: cost against risk (numbers: rows of the table; "
                   "lower left is better)")
    axis.set_xlabel(str(rows["cost_measure"].iloc[0]))
    _legend(axis, {family: colours[family] for family in dict.fromkeys(rows["policy"])})
    figure.tight_layout()
    return _png(figure)


def _table(rows: pd.DataFrame) -> str:
    params = [c for c in rows.columns if str(c).startswith("param_")
              and rows[c].notna().any()]
    head = ("<th>#</th><th class=\"name\">policy</th><th>risk</th><th>cost</th>"
            "<th>rebalances</th>"
            + "".join(f"<th>{html.escape(str(c)[len('param_'):])}</th>" for c in params)
            + "<th>seconds</th>")
    body: list[str] = []
    for number, record in enumerate(rows.to_dict("records"), start=1):
        css = ' class="pareto"' if bool(record["pareto"]) else ""
        cells = [f"<td>{number}</td>",
                 f'<td class="name">{html.escape(str(record["label"]))}</td>',
                 f"<td>{_number(record['risk'])}</td>", f"<td>{_number(record['cost'])}</td>",
                 f"<td>{_number(record.get('rebalances', float('nan')), 6)}</td>",
                 *(f"<td>{_number(record[c])}</td>" for c in params),
                 f"<td>{_number(record.get('seconds', float('nan')), 3)}</td>"]
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>'
            f"{''.join(body)}</tbody></table></div>")


def _pareto_line(rows: pd.DataFrame) -> str:
    chosen = [short_name(str(label)) for label, on in zip(rows["label"], rows["pareto"],
                                                         strict=True) if bool(on)]
    return (f"<p>Pareto set ({len(chosen)} of {len(rows)} runs, marked ★): "
            f"{html.escape(', '.join(chosen)) or 'none'}. risk = "
            f"{html.escape(str(rows['risk_measure'].iloc[0]))}; cost = "
            f"{html.escape(str(rows['cost_measure'].iloc[0]))}.</p>")


def _facts(facts: Mapping[str, str]) -> str:
    rows = "".join(f"<tr><td>{html.escape(key)}</td><td>{html.escape(value)}</td></tr>"
                   for key, value in facts.items())
    return f'<table class="facts">{rows}</table>' if rows else ""


def render_sweep_html(results: pd.DataFrame, *, title: str, config_text: str,
                      config_name: str, facts: Mapping[str, str] | None = None) -> str:
    """The sweep report as one HTML string (figures embedded as base64 PNG).

    Parameters
    ----------
    results : one row per run, as :func:`hedgekeeper.sweep.run_sweep` returns them (columns
        ``scenario``, ``policy``, ``label``, ``risk``, ``cost``, ``risk_measure``,
        ``cost_measure``, ``pareto``; ``rebalances``, ``seconds`` and ``param_*`` shown when
        present).
    title : page heading.
    config_text, config_name : the configuration file's text and name, shown verbatim.
    facts : extra "what ran" lines (label -> value), e.g. the scheduler and worker count.

    Raises
    ------
    ValueError
        When ``results`` is empty or lacks one of the columns above.
    """
    missing = [c for c in _REQUIRED if c not in results.columns]
    if missing:
        raise ValueError(f"results lacks the columns {missing}")
    if results.empty:
        raise ValueError("the sweep has no results to report")
    colours = family_colours([str(p) for p in results["policy"]])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    scenarios: Sequence[str] = list(dict.fromkeys(str(s) for s in results["scenario"]))
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="lead">hedgekeeper sweep report, generated {stamp}: {len(results)} runs '
        f"over {len(scenarios)} scenarios. The Pareto set is computed within each scenario "
        "(their risk and cost measure different things). Every figure and number below is "
        "in this file; it needs no network.</p>",
        _facts(facts or {}),
    ]
    for scenario in scenarios:
        rows = results[results["scenario"] == scenario]
        sections += [
            f"<h2>Scenario {html.escape(scenario)}</h2>",
            _img(scenario_frontier_png(rows, colours),
                 f"{scenario}: cost against risk, Pareto set marked"),
            _pareto_line(rows),
            _table(rows),
        ]
    sections += [f"<h2>Configuration ({html.escape(config_name)})</h2>",
                 f"<pre>{html.escape(config_text)}</pre>"]
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def write_sweep_report(results: pd.DataFrame, out_dir: str | Path, *, title: str,
                       config_text: str, config_name: str,
                       facts: Mapping[str, str] | None = None) -> Path:
    """Write ``report.html`` (:func:`render_sweep_html`) into ``out_dir``; return its path."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT_FILE
    path.write_text(render_sweep_html(results, title=title, config_text=config_text,
                                      config_name=config_name, facts=facts),
                    encoding="utf-8")
    return path


__all__ = ["REPORT_FILE", "render_sweep_html", "scenario_frontier_png", "write_sweep_report"]
