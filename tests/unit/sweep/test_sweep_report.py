"""The sweep's HTML frontier report (hedgekeeper.report.sweep), built from a small frame."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hedgekeeper.report.sweep import render_sweep_html, write_sweep_report
from hedgekeeper.sweep import mark_frontier

CONFIG = '[sweep]\nname = "tiny"\n# see https://example.org/docs\n'


def results() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "scenario": ["a", "a", "a", "b", "b"],
            "policy": ["Calendar", "DeltaBand", "DeltaBand", "Calendar", "WeightBand"],
            "label": ["Calendar(interval=1d)", "DeltaBand(halfwidth=0.05)",
                      "DeltaBand(halfwidth=<0.2>)", "Calendar(interval=1d)",
                      "WeightBand(relative=0.1)"],
            "risk": [1.0, 2.0, np.nan, 0.3, 0.1],
            "cost": [3.0, 1.0, 0.5, 10.0, 20.0],
            "rebalances": [10.0, 4.0, 0.0, 5.0, 2.0],
            "param_interval": [1 / 365, np.nan, np.nan, 1 / 365, np.nan],
            "risk_measure": ["performance"] * 3 + ["tracking_error"] * 2,
            "cost_measure": ["cost / price"] * 3 + ["cost_per_year_bps"] * 2,
        }
    )
    return mark_frontier(frame)


def test_report_is_offline_and_names_every_run(tmp_path: Path) -> None:
    frame = results()
    path = write_sweep_report(frame, tmp_path / "out", title="Sweep tiny", config_text=CONFIG,
                              config_name="tiny.toml", facts={"workers": "2"})
    assert path == tmp_path / "out" / "report.html"
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert page.count("data:image/png;base64,") == 2
    for label in frame["label"]:
        assert f'<td class="name">{html.escape(label)}</td>' in page
    assert "&lt;0.2&gt;" in page  # labels are escaped
    assert page.count('<tr class="pareto">') == 4  # a: two of three (NaN never); b: both
    assert html.escape(CONFIG) in page
    assert "<td>workers</td><td>2</td>" in page
    assert "risk = tracking_error; cost = cost_per_year_bps" in page


def test_report_rejects_what_it_cannot_show() -> None:
    with pytest.raises(ValueError, match="no results"):
        render_sweep_html(results().iloc[:0], title="t", config_text="", config_name="c")
    with pytest.raises(ValueError, match=r"lacks the columns \['pareto'\]"):
        render_sweep_html(results().drop(columns="pareto"), title="t", config_text="",
                          config_name="c")
