"""Small sweep configurations shared by the sweep tests (imported as a module by name)."""

from __future__ import annotations

from pathlib import Path

# Weights scenario: WeightBand 2 x 2 + Calendar (5 tasks); Monte Carlo scenario: Calendar +
# DeltaBand x 2 (3 tasks).
SMALL = """\
[sweep]
name = "small"
output = "out"

[[scenarios]]
name = "gbm3"
kind = "weights"
targets = { A = 0.4, B = 0.4, USDT = 0.2 }
fee_bps = 10.0
slippage_bps = 2.0
[scenarios.gbm]
vols = { A = 0.6, B = 0.9 }
bars = 1500
seed = 3

[[scenarios]]
name = "short-call"
kind = "montecarlo"
spot = 100.0
strike = 100.0
vol = 0.5
maturity = "10d"
step = "4h"
paths = 200
seed = 1
fee_bps = 5.0

[[policies]]
policy = "WeightBand"
relative = [0.05, 0.2]
hedge_to = ["centre", "edge"]

[[policies]]
policy = "Calendar"
interval = "1d"

[[policies]]
policy = "DeltaBand"
halfwidth = [0.05, 0.2]
"""

SMALL_TASKS = 4 + 1 + 1 + 2


def write_config(folder: Path, text: str = SMALL, name: str = "sweep.toml") -> Path:
    """Write ``text`` to ``folder/name`` and return the path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
