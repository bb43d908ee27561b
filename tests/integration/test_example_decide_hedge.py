"""``examples/decide_hedge.py`` runs and shows a trade that leaves delta inside its band."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "decide_hedge.py"
SUMMARY = re.compile(r"^summary: (?P<fields>.*)$", re.MULTILINE)


def _summary(stdout: str) -> dict[str, str]:
    match = SUMMARY.search(stdout)
    assert match is not None, f"no summary line in the output:\n{stdout}"
    return dict(item.split("=", 1) for item in match["fields"].split())


def _band(text: str) -> tuple[float, float]:
    low, high = (float(edge) for edge in text.split(","))
    return low, high


def test_example_trades_into_the_bands() -> None:
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                            timeout=120, check=False, cwd=EXAMPLE.parent.parent)
    assert result.returncode == 0, result.stderr
    summary = _summary(result.stdout)
    assert summary["outcome"] == "trade"
    assert int(summary["orders"]) >= 1
    low, high = _band(summary["delta_band"])
    assert not low <= float(summary["delta_before"]) <= high  # the book started off band
    for greek in ("delta", "gamma", "vega"):
        low, high = _band(summary[f"{greek}_band"])
        assert low <= float(summary[f"{greek}_after"]) <= high, greek
    assert summary["gates"] == "cost_benefit:True,limits:True"
    assert "BTC-PERPETUAL" in result.stdout
