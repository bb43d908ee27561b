"""Run a sweep on Dask distributed and write its results to Parquet.

``run_sweep`` starts a :class:`dask.distributed.LocalCluster` (worker processes, one thread
each) unless it is given the address of a running scheduler (``tcp://HOST:PORT``, started with
``dask scheduler`` and joined by ``dask worker`` processes on any machines that have
hedgekeeper installed). Scenario prices are prepared on the client and broadcast to the
workers once, so workers need no access to the data files; Monte Carlo paths are simulated on
the workers from the scenario's seed (every policy sees the same paths).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hedgekeeper.sweep.config import SweepConfig, WeightsScenario
from hedgekeeper.sweep.frontier import mark_frontier
from hedgekeeper.sweep.grid import SweepTask, check_policies
from hedgekeeper.sweep.tasks import WeightsMarket, prepare_weights_market, run_task

DEFAULT_WORKERS = 2
"""Worker processes of the local cluster when none are asked for."""

RESULTS_FILE = "results.parquet"
CONFIG_COPY = "config.toml"

_ADDRESS = re.compile(r"^(tcp|tls)://[^\s:/]+:\d{1,5}$")


class SweepError(RuntimeError):
    """A sweep that could not run: unreachable scheduler, a task that failed on a worker."""


@dataclass(frozen=True, slots=True, eq=False)
class SweepRun:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    results : one row per task (see :func:`hedgekeeper.sweep.tasks.run_task`), in task order,
        with a ``pareto`` column (frontier within each scenario).
    scheduler : the scheduler's address.
    workers : number of workers that were connected when the tasks were submitted.
    seconds : wall time of the whole sweep (cluster start included).
    """

    results: pd.DataFrame
    scheduler: str
    workers: int
    seconds: float


def check_address(address: str) -> str:
    """``address`` if it looks like ``tcp://HOST:PORT`` (or ``tls://``), else ``ValueError``."""
    if not _ADDRESS.match(address):
        raise ValueError(
            f"--scheduler must be a Dask scheduler address like tcp://127.0.0.1:8786, "
            f"got {address!r}"
        )
    return address


def _distributed() -> Any:
    # dask.distributed is only partly typed; its objects are used as Any here
    try:
        import dask.distributed
    except ImportError as exc:
        raise SweepError(
            "hedgekeeper sweep needs Dask distributed, which is not installed: "
            "pip install 'hedgekeeper[sweep]' (make test and make demo install it)"
        ) from exc
    return dask.distributed


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Any]:
    distributed = _distributed()
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if scheduler is not None:
        try:
            client = Client(check_address(scheduler), timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_sweep(
    config: SweepConfig,
    base: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> SweepRun:
    """Run every task of ``config`` on Dask and collect the rows.

    Parameters
    ----------
    config : a validated sweep configuration.
    base : folder that relative data paths in ``config`` are resolved against.
    scheduler : address of a running Dask scheduler (``tcp://HOST:PORT``); None starts a
        local cluster.
    workers : worker processes of the local cluster (default :data:`DEFAULT_WORKERS`); must
        be None with ``scheduler``.
    progress : called as ``progress(done, total, row)`` after each finished task.

    Raises
    ------
    ValueError
        For ``workers`` < 1, ``workers`` with ``scheduler``, or a malformed address.
    SweepError
        If the scheduler cannot be reached, has no workers, or a task fails (the message names
        the task, its scenario and the error).
    """
    if scheduler is not None:
        check_address(scheduler)
        if workers is not None:
            raise ValueError(
                "--workers sets the size of the local cluster; with --scheduler "
                "the scheduler's own workers run the tasks"
            )
    count = DEFAULT_WORKERS if workers is None else workers
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"--workers must be an integer >= 1, got {workers!r}")
    started = time.perf_counter()
    tasks = check_policies(config)
    scenarios = {scenario.name: scenario for scenario in config.scenarios}
    used = {task.scenario for task in tasks}
    markets: dict[str, WeightsMarket] = {
        scenario.name: prepare_weights_market(scenario, base)
        for scenario in config.scenarios
        if isinstance(scenario, WeightsScenario) and scenario.name in used
    }
    rows: list[dict[str, Any]] = []
    with _client(scheduler, count) as client:
        if scheduler is not None:
            try:
                client.wait_for_workers(1, timeout=30)
            except TimeoutError:
                raise SweepError(f"the Dask scheduler at {scheduler} has no workers") from None
        connected = len(client.scheduler_info().get("workers", {}))
        shipped = {
            name: client.scatter(market, broadcast=True, hash=False)
            for name, market in markets.items()
        }
        token = uuid.uuid4().hex[:12]
        futures = {
            client.submit(
                run_task,
                task,
                scenarios[task.scenario],
                shipped.get(task.scenario),
                key=f"hedgekeeper-sweep-{token}-{task.task_id}",
                retries=0,
            ): task
            for task in tasks
        }
        rows = _collect(futures, progress)
        address = str(client.scheduler.address)
    results = mark_frontier(_frame(rows))
    return SweepRun(results, address, connected, time.perf_counter() - started)


def _collect(
    futures: dict[Any, SweepTask],
    progress: Callable[[int, int, dict[str, Any]], None] | None,
) -> list[dict[str, Any]]:
    as_completed = _distributed().as_completed
    rows: list[dict[str, Any]] = []
    total = len(futures)
    for future in as_completed(list(futures)):
        task = futures[future]
        try:
            row = future.result()
        except Exception as exc:  # a worker's exception, re-raised here
            for other in futures:
                other.cancel()
            raise SweepError(
                f"task {task.task_id} ({task.label} on scenario {task.scenario!r}) failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        rows.append(row)
        if progress is not None:
            progress(len(rows), total, row)
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).sort_values("task_id").reset_index(drop=True)
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object:
            # mixed numbers and gaps (a parameter only some families have) -> float
            numbers = [v for v in values if v is not None and not _is_nan(v)]
            if numbers and all(isinstance(v, int | float) for v in numbers):
                frame[column] = values.astype(np.float64)
    return frame


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def write_results(run: SweepRun, folder: Path, config_file: Path | None = None) -> Path:
    """Write ``results.parquet`` (pyarrow) and a copy of the config into ``folder``.

    Returns the Parquet file's path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS_FILE
    run.results.to_parquet(path, engine="pyarrow", index=False)
    if config_file is not None:
        shutil.copyfile(config_file, folder / CONFIG_COPY)
    return path


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a sweep's ``results.parquet`` (or the folder holding it)."""
    file = Path(path)
    if file.is_dir():
        file = file / RESULTS_FILE
    return pd.read_parquet(file, engine="pyarrow")


__all__ = [
    "CONFIG_COPY",
    "DEFAULT_WORKERS",
    "RESULTS_FILE",
    "SweepError",
    "SweepRun",
    "check_address",
    "read_results",
    "run_sweep",
    "write_results",
]
