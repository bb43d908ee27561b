"""``hedgekeeper sweep --scheduler``: a real ``dask scheduler`` and ``dask worker`` on 127.0.0.1.

The fixture starts both processes on a free port and always stops them (terminate, then kill)
when the test ends, passed or failed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedgekeeper.sweep import expand_grid, load_sweep_config, read_results, run_task

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 60.0

CONFIG = """\
[sweep]
name = "on-a-cluster"
output = "out"

[[scenarios]]
name = "gbm2"
kind = "weights"
targets = { A = 0.7, USDT = 0.3 }
fee_bps = 10.0
[scenarios.gbm]
vols = { A = 0.8 }
bars = 800
seed = 11

[[scenarios]]
name = "put"
kind = "montecarlo"
option = "put"
spot = 100.0
strike = 95.0
vol = 0.6
maturity = "5d"
step = "4h"
paths = 100
seed = 2
fee_bps = 5.0

[[policies]]
policy = "WeightBand"
absolute = [0.02, 0.05]

[[policies]]
policy = "DeltaBand"
halfwidth = 0.1
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited early with status {process.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"dask scheduler did not listen on 127.0.0.1:{port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a running scheduler with one single-threaded worker."""
    dask = BIN / "dask"
    assert dask.exists(), f"{dask} missing: install the test extra (dask[distributed])"
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    started: list[subprocess.Popen[bytes]] = []
    try:
        with (logs / "scheduler.log").open("wb") as log:
            started.append(
                subprocess.Popen(
                    [
                        str(dask),
                        "scheduler",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--no-dashboard",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for_port(port, started[0], time.monotonic() + STARTUP_TIMEOUT_S)
        with (logs / "worker.log").open("wb") as log:
            started.append(
                subprocess.Popen(
                    [
                        str(dask),
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        yield address
    finally:
        for process in reversed(started):
            stop(process)


def test_sweep_runs_on_a_running_scheduler(tmp_path: Path, dask_cluster: str) -> None:
    config_file = tmp_path / "sweep.toml"
    config_file.write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [str(BIN / "hedgekeeper"), "sweep", str(config_file), "--scheduler", dask_cluster],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"3 tasks on the scheduler at {dask_cluster}" in done.stdout
    assert "on 1 workers" in done.stdout
    frame = read_results(tmp_path / "out")
    assert list(frame["label"]) == [
        "WeightBand(absolute=0.02, hedge_to=centre)",
        "WeightBand(absolute=0.05, hedge_to=centre)",
        "DeltaBand(halfwidth=0.1, unit=coin, hedge_to=centre)",
    ]
    config, _ = load_sweep_config(config_file)
    scenarios = {s.name: s for s in config.scenarios}
    task = expand_grid(config)[2]
    row = run_task(task, scenarios["put"])
    assert frame.iloc[2]["risk"] == row["risk"]
    assert frame.iloc[2]["mc_option_price"] > 0.0
    assert (frame["weights_rebalances"].iloc[:2] > 0).all()
