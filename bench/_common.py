"""Helpers shared by the benchmark modules: thread pinning, best-of-N timing, machine facts.

This module imports only the standard library at import time, so a benchmark module can call
:func:`pin_single_thread` before numpy, numba or a peer library is imported.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

# Every knob we know of that starts worker threads in the libraries we time. numba's
# prange kernels (fast-vollib's numba backend) read NUMBA_NUM_THREADS; pyvolr's Rust core uses
# rayon's global pool (RAYON_NUM_THREADS, documented in pyvolr.bs.implied_vol/greeks); numpy's
# BLAS (unused by the kernels, but set anyway) reads the OpenMP/MKL/OpenBLAS variables.
SINGLE_THREAD_ENV: dict[str, str] = {
    "NUMBA_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def pin_single_thread() -> None:
    """Force one worker thread in every library; call before importing numpy/numba/peers."""
    already = [name for name in ("numpy", "numba", "pyvolr") if name in sys.modules]
    if already and any(os.environ.get(k) != v for k, v in SINGLE_THREAD_ENV.items()):
        raise RuntimeError(
            f"pin_single_thread() called after {already} were imported; thread pools may "
            "already be sized. Call it before any numeric import."
        )
    os.environ.update(SINGLE_THREAD_ENV)


@dataclass(frozen=True)
class Timing:
    """Best-of-N wall time of one callable.

    ``cpu_per_wall`` is process CPU time over wall time across the timed runs: about 1.0 for a
    single-threaded run on an idle core, clearly above 1 if something ran threads, below 1 when
    the process waited (other jobs on a shared machine).
    """

    best_s: float
    median_s: float
    runs_s: list[float]
    cpu_per_wall: float
    scale: float = 1.0  # >1 when timed on a subset and scaled up to the full book

    @property
    def scaled_s(self) -> float:
        return self.best_s * self.scale

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["scaled_s"] = self.scaled_s
        return out


def best_of(
    func: Callable[[], object], repeats: int = 5, warmup: int = 1, scale: float = 1.0
) -> Timing:
    """Time ``func()`` ``repeats`` times after ``warmup`` untimed calls; keep the minimum."""
    for _ in range(warmup):
        func()
    runs: list[float] = []
    cpu_total = 0.0
    for _ in range(repeats):
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        func()
        runs.append(time.perf_counter() - t0)
        cpu_total += time.process_time() - cpu0
    ordered = sorted(runs)
    median = ordered[len(ordered) // 2]
    return Timing(
        best_s=ordered[0],
        median_s=median,
        runs_s=runs,
        cpu_per_wall=cpu_total / max(sum(runs), 1e-12),
        scale=scale,
    )


def best_of_interleaved(
    funcs: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1
) -> dict[str, Timing]:
    """Like :func:`best_of` for several callables, timed in rounds (one call of each per round).

    On a shared machine the load changes from second to second; interleaving exposes every
    contender to the same conditions, so the ratios of the minima are far steadier than when
    each callable's repeats run back to back.
    """
    for _ in range(warmup):
        for func in funcs.values():
            func()
    runs: dict[str, list[float]] = {name: [] for name in funcs}
    cpu: dict[str, float] = dict.fromkeys(funcs, 0.0)
    for _ in range(repeats):
        for name, func in funcs.items():
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            func()
            runs[name].append(time.perf_counter() - t0)
            cpu[name] += time.process_time() - cpu0
    out: dict[str, Timing] = {}
    for name, times in runs.items():
        ordered = sorted(times)
        out[name] = Timing(
            best_s=ordered[0],
            median_s=ordered[len(ordered) // 2],
            runs_s=times,
            cpu_per_wall=cpu[name] / max(sum(times), 1e-12),
        )
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    """CPU model, core counts, load, interpreter and library versions, date (UTC)."""
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_1_5_15": load,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "git_commit": _git_commit(),
        "thread_env": {k: os.environ.get(k) for k in SINGLE_THREAD_ENV},
        "versions": {
            name: _version(name)
            for name in (
                "hedgekeeper",
                "numpy",
                "numba",
                "llvmlite",
                "scipy",
                "pyvolr",
                "fast-vollib",
                "vollib",
                "lets_be_rational",
                "QuantLib",
                "mpmath",
            )
        },
    }
