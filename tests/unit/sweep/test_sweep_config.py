"""Sweep configuration: validation errors name the file, the line and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sweep_configs import SMALL, write_config

from hedgekeeper.sweep import SweepConfigError, duration_years, load_sweep_config
from hedgekeeper.sweep.config import MonteCarloScenario, WeightsScenario


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


def test_small_config_loads(tmp_path: Path) -> None:
    config, base = load_sweep_config(write_config(tmp_path))
    assert base == tmp_path.resolve()
    assert config.sweep.name == "small"
    weights, montecarlo = config.scenarios
    assert isinstance(weights, WeightsScenario)
    assert weights.assets == ["A", "B", "USDT"]
    assert isinstance(montecarlo, MonteCarloScenario)
    assert montecarlo.maturity == pytest.approx(10 / 365)
    assert montecarlo.steps == 60
    assert [grid.policy for grid in config.policies] == ["WeightBand", "Calendar", "DeltaBand"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d", 1 / 365),
        ("7d", 7 / 365),
        ("8h", 8 / 8760),
        ("2w", 2 / 52),
        ("30m", 30 / 525_600),
        ("0.5", 0.5),
        (0.25, 0.25),
        (1, 1.0),
    ],
)
def test_durations(text: str | float, expected: float) -> None:
    assert duration_years(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("bad", ["0d", "-1d", "1x", "", "d", True, None])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        duration_years(bad)


def expect_error(
    tmp_path: Path, text: str, field: str, line: int | None, problem: str
) -> None:
    """Some line of the error is ``FILE line N: <field>: ...`` (the wording of
    hedgekeeper.config.toml; ``unknown key '<field>'`` / ``missing required key '<field>'``
    for those two) and matches ``problem``."""
    path = write_config(tmp_path, text)
    with pytest.raises(SweepConfigError) as info:
        load_sweep_config(path)
    where = f"{path} line {line}: " if line is not None else f"{path}: "
    matching = [
        issue
        for issue in str(info.value).splitlines()
        if issue.startswith(where)
        and (f"{field}: " in issue or f"key {field!r}" in issue)
        and re.search(problem, issue)
    ]
    assert matching, str(info.value)


def test_unknown_policy_key_names_field_and_line(tmp_path: Path) -> None:
    text = SMALL.replace('interval = "1d"', 'interval = "1d"\nintreval = "2d"')
    expect_error(tmp_path, text, "policies[1].intreval", line_of(text, "intreval"), "unknown key")


def test_unknown_key_in_a_subtable(tmp_path: Path) -> None:
    text = SMALL.replace("bars = 1500", "bars = 1500\nbarz = 3")
    expect_error(tmp_path, text, "scenarios[0].gbm.barz", line_of(text, "barz"), "unknown key")


def test_bad_value_names_field_and_line(tmp_path: Path) -> None:
    text = SMALL.replace("relative = [0.05, 0.2]", "relative = [0.05, -0.2]")
    expect_error(
        tmp_path, text, "policies[0].relative[1]", line_of(text, "relative ="), "greater than 0"
    )


def test_missing_field_points_at_its_table(tmp_path: Path) -> None:
    text = SMALL.replace("halfwidth = [0.05, 0.2]\n", "")
    expect_error(
        tmp_path,
        text,
        "policies[2].halfwidth",
        line_of(text, "[[policies]]", 3),
        "missing required key",
    )


def test_unknown_policy_family(tmp_path: Path) -> None:
    text = SMALL.replace('policy = "DeltaBand"', 'policy = "DeltaBandz"')
    expect_error(
        tmp_path, text, "policies[2]", line_of(text, "[[policies]]", 3), "'DeltaBand'"
    )


def test_bad_duration_in_a_list(tmp_path: Path) -> None:
    text = SMALL.replace('interval = "1d"', 'interval = ["1d", "1q"]')
    expect_error(tmp_path, text, "policies[1].interval[1]", line_of(text, "1q"), "duration")


def test_targets_must_cover_assets_and_sum_to_one(tmp_path: Path) -> None:
    text = SMALL.replace("USDT = 0.2 }", "USDT = 0.3 }")
    expect_error(tmp_path, text, "scenarios[0]", line_of(text, "[[scenarios]]"), "sum to 1")
    text = SMALL.replace("B = 0.4, USDT", "C = 0.4, USDT")
    expect_error(tmp_path, text, "scenarios[0]", line_of(text, "[[scenarios]]"), "exactly the")


def test_montecarlo_maturity_must_be_whole_steps(tmp_path: Path) -> None:
    text = SMALL.replace('step = "4h"', 'step = "7h"')
    expect_error(
        tmp_path, text, "scenarios[1]", line_of(text, "[[scenarios]]", 2), "whole number of steps"
    )


def test_policy_on_a_scenario_of_the_wrong_kind(tmp_path: Path) -> None:
    text = SMALL.replace("halfwidth = [0.05, 0.2]", 'halfwidth = 0.1\nscenarios = ["gbm3"]')
    expect_error(
        tmp_path, text, "policies[2]", line_of(text, "[[policies]]", 3), "montecarlo scenarios"
    )


def test_policy_without_any_scenario(tmp_path: Path) -> None:
    start = SMALL.index('[[scenarios]]\nname = "short-call"')
    end = SMALL.index("[[policies]]")
    text = SMALL[:start] + SMALL[end:]
    expect_error(
        tmp_path, text, "policies[2]", line_of(text, "[[policies]]", 3), "this sweep has none"
    )


def test_missing_data_file(tmp_path: Path) -> None:
    text = SMALL.replace(
        "[scenarios.gbm]\nvols = { A = 0.6, B = 0.9 }\nbars = 1500\nseed = 3",
        '[scenarios.history]\nfiles = { A = "a.csv.gz", B = "b.csv.gz" }',
    )
    expect_error(
        tmp_path, text, "scenarios[0].history.files.A", line_of(text, "files ="), "no such file"
    )


def test_duplicate_scenario_names(tmp_path: Path) -> None:
    text = SMALL.replace('name = "short-call"', 'name = "gbm3"')
    expect_error(tmp_path, text, "(top level)", None, "unique")


def test_toml_syntax_error(tmp_path: Path) -> None:
    text = SMALL.replace("bars = 1500", "bars = = 1500")
    path = write_config(tmp_path, text)
    line = line_of(text, "bars = =")
    with pytest.raises(SweepConfigError, match=rf"is not valid TOML: .*line {line}\b"):
        load_sweep_config(path)


def test_missing_file() -> None:
    with pytest.raises(SweepConfigError, match=r"config file .* cannot be read"):
        load_sweep_config("/nonexistent/sweep.toml")


def test_error_is_the_shared_config_error(tmp_path: Path) -> None:
    from hedgekeeper.config.toml import ConfigError

    text = SMALL.replace("bars = 1500", "bars = 1500\nbarz = 3\nbarx = 4")
    with pytest.raises(ConfigError) as info:
        load_sweep_config(write_config(tmp_path, text))
    assert isinstance(info.value, SweepConfigError)
    assert len(info.value.issues) == 2
