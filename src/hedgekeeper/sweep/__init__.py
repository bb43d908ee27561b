"""Sweeps: grids of policies × parameters × scenarios on Dask distributed, results to Parquet.

``hedgekeeper sweep CONFIG.toml`` (see ``docs/sweep.md``) loads a :class:`SweepConfig`,
expands it into :class:`SweepTask` cells (:func:`expand_grid`), runs them on a local Dask
cluster or a running scheduler (:func:`run_sweep`), marks the cost–risk frontier within each
scenario and writes ``results.parquet`` (:func:`write_results`).
"""

from hedgekeeper.sweep.config import (
    SweepConfig,
    SweepConfigError,
    duration_years,
    load_sweep_config,
)
from hedgekeeper.sweep.frontier import frontier, mark_frontier
from hedgekeeper.sweep.grid import SweepTask, build_policy, expand_grid
from hedgekeeper.sweep.runner import (
    SweepError,
    SweepRun,
    read_results,
    run_sweep,
    write_results,
)
from hedgekeeper.sweep.tasks import WeightsMarket, prepare_weights_market, run_task

__all__ = [
    "SweepConfig",
    "SweepConfigError",
    "SweepError",
    "SweepRun",
    "SweepTask",
    "WeightsMarket",
    "build_policy",
    "duration_years",
    "expand_grid",
    "frontier",
    "load_sweep_config",
    "mark_frontier",
    "prepare_weights_market",
    "read_results",
    "run_sweep",
    "run_task",
    "write_results",
]
