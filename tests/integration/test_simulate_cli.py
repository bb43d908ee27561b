"""``hedgekeeper simulate-hedge``: the command-line contract."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hedgekeeper.cli import app
from hedgekeeper.cli.simulate import parse_duration
from hedgekeeper.pricing.black import black_scholes

runner = CliRunner()
HULL = [
    "--spot",
    "49",
    "--strike",
    "50",
    "--rate",
    "0.05",
    "--vol",
    "0.2",
    "--drift",
    "0.13",
    "--maturity",
    "20w",
]


def run_json(*args: str) -> dict:
    result = runner.invoke(app, ["simulate-hedge", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_is_hulls_delta_hedge_at_every_date() -> None:
    report = run_json(*HULL, "--rebalance-every", "1w", "--paths", "20000", "--seed", "7")
    assert report["option_price"] == pytest.approx(2.4005, abs=1e-4)  # Hull: 240,000 / 100,000
    assert report["hedge_cost_mean"] == pytest.approx(2.40, abs=0.03)
    assert report["performance"] == pytest.approx(
        report["hedge_cost_std"] / report["option_price"], rel=1e-12
    )
    assert report["performance"] == pytest.approx(0.19, abs=0.015)  # Hull Table 19.4: 0.21
    assert report["rebalances_mean"] == 20.0
    assert report["transaction_cost_mean"] == 0.0
    assert report["policy"] == "every-step"
    assert [row["name"] for row in report["policies"]] == ["every-step"]
    assert report["inputs"]["steps"] == 20
    assert report["inputs"]["maturity_years"] == pytest.approx(20 / 52)
    assert "performance" in report["units"]


def test_same_seed_same_numbers_and_batches_do_not_change_them() -> None:
    args = [*HULL, "--rebalance-every", "4w", "--paths", "3000", "--seed", "11"]
    first, second = run_json(*args), run_json(*args)
    assert first == second
    import hedgekeeper.cli.simulate as simulate

    saved = simulate.MAX_VALUES_PER_BATCH
    simulate.MAX_VALUES_PER_BATCH = 600  # 100 paths per batch: one generator across batches
    try:
        batched = run_json(*args)
    finally:
        simulate.MAX_VALUES_PER_BATCH = saved
    assert batched["hedge_cost_std"] == pytest.approx(first["hedge_cost_std"], rel=1e-12)


def test_several_policies_run_on_the_same_paths_with_costs() -> None:
    policies = [
        "every-step",
        "delta-band:0.1",
        "delta-band:0.1:edge",
        "whalley-wilmott:1",
        "zakamouline:1",
        "leland",
        "calendar:2w",
    ]
    args = [
        *HULL,
        "--rebalance-every",
        "0.5w",
        "--paths",
        "2000",
        "--seed",
        "3",
        "--cost-bps",
        "20",
    ]
    for name in policies:
        args += ["--policy", name]
    report = run_json(*args)
    rows = {row["name"]: row for row in report["policies"]}
    assert list(rows) == policies
    assert report["policy"] == "every-step"
    assert report["rebalances_mean"] == rows["every-step"]["rebalances_mean"] == 40.0
    assert rows["calendar:2w"]["rebalances_mean"] == 10.0
    assert rows["delta-band:0.1"]["rebalances_mean"] < 40.0
    assert rows["delta-band:0.1:edge"]["turnover_mean"] < rows["delta-band:0.1"]["turnover_mean"]
    for row in rows.values():
        assert row["option_price"] == report["option_price"]
        assert row["transaction_cost_mean"] > 0.0
        assert math.isfinite(row["pnl_cvar_95"])
    assert (
        rows["every-step"]["transaction_cost_mean"]
        > rows["delta-band:0.1"]["transaction_cost_mean"]
    )
    assert rows["every-step"]["engine"] == "kernel"
    assert rows["leland"]["engine"] == "policy"


def test_put_and_long_position() -> None:
    report = run_json(
        *HULL,
        "--rebalance-every",
        "1w",
        "--paths",
        "2000",
        "--seed",
        "5",
        "--kind",
        "put",
        "--position",
        "long",
    )
    put = black_scholes(49.0, 50.0, 20 / 52, 0.05, 0.2, "put").price
    assert report["option_price"] == pytest.approx(float(put), rel=1e-12)
    # Buying the option and hedging it earns back its price: the "cost" is minus the price.
    assert report["hedge_cost_mean"] == pytest.approx(-report["option_price"], abs=0.05)


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("0.3846", 0.3846),
        ("20w", 20 / 52),
        ("1w", 1 / 52),
        ("0.5w", 0.5 / 52),
        ("1d", 1 / 365),
        ("8h", 8 / 8760),
        ("30m", 30 / 525_600),
        ("1y", 1.0),
        (" 2.5e-1 ", 0.25),
    ],
)
def test_durations(text: str, years: float) -> None:
    assert parse_duration("--maturity", text) == pytest.approx(years, rel=1e-15)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--maturity", "20x"], "--maturity must be a duration > 0"),
        (["--maturity", "-1w"], "--maturity must be a duration > 0"),
        (["--rebalance-every", "w"], "--rebalance-every must be a duration > 0"),
        (["--rebalance-every", "3w"], "--maturity must be a whole number of --rebalance-every"),
        (["--policy", "magic"], "--policy 'magic' is not a known policy"),
        (["--policy", "delta-band:x"], "half-width"),
        (["--policy", "calendar:soon"], "--policy 'calendar:soon' must be a duration"),
        (["--kind", "straddle"], "--kind must be 'call' or 'put'"),
        (["--position", "flat"], "--position must be 'short' or 'long'"),
        (["--paths", "1"], "--paths must be at least 2"),
        (["--vol", "0"], "--vol must be a finite number > 0"),
        (["--cost-bps", "-3"], "--cost-bps must be a finite number >= 0"),
    ],
)
def test_bad_input_is_one_error_line(args: list[str], message: str) -> None:
    base = {
        "--spot": "49",
        "--strike": "50",
        "--rate": "0.05",
        "--vol": "0.2",
        "--drift": "0.13",
        "--maturity": "20w",
        "--rebalance-every": "1w",
        "--paths": "100",
        "--seed": "1",
    }
    extra: list[str] = []
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag in base:
            base[flag] = value
        else:
            extra += [flag, value]
    argv = [item for pair in base.items() for item in pair] + extra
    result = runner.invoke(app, ["simulate-hedge", *argv])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert message in " ".join(result.stderr.split())


def test_table_output_names_every_policy() -> None:
    result = runner.invoke(
        app,
        [
            "simulate-hedge",
            *HULL,
            "--rebalance-every",
            "5w",
            "--paths",
            "500",
            "--seed",
            "2",
            "--policy",
            "every-step",
            "--policy",
            "delta-band:0.2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "every-step" in result.stdout
    assert "delta-band:0.2" in result.stdout
    assert "2.4005" in result.stdout


def test_help_documents_the_policy_syntax() -> None:
    result = runner.invoke(app, ["simulate-hedge", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for word in (
        "every-step",
        "delta-band:H",
        "whalley-wilmott:G",
        "zakamouline:G",
        "leland",
        "calendar:INTERVAL",
        "20w",
    ):
        assert word in text


def test_real_subprocess_json() -> None:
    executable = shutil.which("hedgekeeper", path=str(Path(sys.executable).parent))
    assert executable is not None, "the hedgekeeper console script is not installed"
    done = subprocess.run(
        [
            executable,
            "simulate-hedge",
            *HULL,
            "--rebalance-every",
            "5w",
            "--paths",
            "5000",
            "--seed",
            "42",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for key in (
        "option_price",
        "hedge_cost_mean",
        "hedge_cost_std",
        "performance",
        "rebalances_mean",
        "transaction_cost_mean",
    ):
        assert math.isfinite(report[key])
    assert report["option_price"] == pytest.approx(2.4005, abs=1e-4)
    assert report["performance"] == pytest.approx(0.42, abs=0.03)  # Hull Table 19.4, 5 weeks
    assert report["rebalances_mean"] == 4.0
