"""A small sweep on a local Dask cluster of 2 worker processes, through the command line."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sweep_configs import SMALL, SMALL_TASKS, write_config
from typer.testing import CliRunner

from hedgekeeper.cli import app
from hedgekeeper.sweep import (
    expand_grid,
    load_sweep_config,
    prepare_weights_market,
    read_results,
    run_sweep,
    run_task,
)
from hedgekeeper.sweep.config import WeightsScenario


def test_local_cluster_sweep_writes_parquet_that_reads_back(tmp_path: Path) -> None:
    config_file = write_config(tmp_path)
    result = CliRunner().invoke(
        app, ["sweep", str(config_file), "--workers", "2", "--output", str(tmp_path / "res")]
    )
    assert result.exit_code == 0, result.output
    assert f"{SMALL_TASKS} tasks on a local Dask cluster of 2 worker processes" in result.output
    assert f"{SMALL_TASKS}/{SMALL_TASKS}" in result.output  # the progress bar finished
    assert "on 2 workers" in result.output
    assert "gbm3: cost-risk frontier" in result.output
    assert "short-call: cost-risk frontier" in result.output

    frame = read_results(tmp_path / "res")
    assert (tmp_path / "res" / "config.toml").read_text(encoding="utf-8") == SMALL

    # the HTML frontier report beside results.parquet: offline, every run named
    report = tmp_path / "res" / "report.html"
    assert f"report: {report}" in result.output.replace("\n", "")
    page = report.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert page.count("data:image/png;base64,") == 2  # one frontier figure per scenario
    for label in frame["label"]:
        assert f'<td class="name">{html.escape(label)}</td>' in page
    assert html.escape(SMALL) in page
    assert page.count('<tr class="pareto">') == int(frame["pareto"].sum())
    assert list(frame["task_id"]) == list(range(SMALL_TASKS))
    assert frame["pareto"].dtype == bool
    assert frame.groupby("scenario")["pareto"].any().all()

    # every row is exactly what the task gives when run in this process
    config, base = load_sweep_config(config_file)
    scenarios = {s.name: s for s in config.scenarios}
    weights = scenarios["gbm3"]
    assert isinstance(weights, WeightsScenario)
    market = prepare_weights_market(weights, base)
    for task in expand_grid(config):
        row = run_task(task, scenarios[task.scenario], market if task.scenario == "gbm3" else None)
        stored = frame.iloc[task.task_id]
        assert stored["label"] == task.label
        assert stored["risk"] == row["risk"]
        assert stored["cost"] == row["cost"]
        assert stored["rebalances"] == row["rebalances"]


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = write_config(tmp_path, SMALL.replace("bars = 1500", "bars = 1500\nbarz = 1"))
    result = runner.invoke(app, ["sweep", str(bad)])
    assert result.exit_code == 2
    assert "unknown key 'scenarios[0].gbm.barz'" in result.output
    good = write_config(tmp_path, name="good.toml")
    result = runner.invoke(app, ["sweep", str(good), "--scheduler", "localhost:8786"])
    assert result.exit_code == 2
    assert "tcp://" in result.output
    result = runner.invoke(
        app, ["sweep", str(good), "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]
    )
    assert result.exit_code == 2
    assert "--workers sets the size of the local cluster" in result.output
    result = runner.invoke(app, ["sweep", str(good), "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers must be >= 1" in result.output


def test_run_sweep_argument_checks(tmp_path: Path) -> None:
    config, base = load_sweep_config(write_config(tmp_path))
    with pytest.raises(ValueError, match="--workers must be an integer >= 1"):
        run_sweep(config, base, workers=0)
    with pytest.raises(ValueError, match=r"like tcp://127\.0\.0\.1:8786"):
        run_sweep(config, base, scheduler="127.0.0.1")
