"""Backtest config: frozen, unknown keys rejected, errors naming the field and the TOML line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pydantic
import pytest

from hedgekeeper.backtest.samples import demo_config_path
from hedgekeeper.config import BacktestConfig, ConfigError, key_lines, load_toml, locate
from hedgekeeper.policies import Calendar, DeltaBand, VolRegimeBand, WhalleyWilmottBand

BASE = """\
title = "t"

[window]
start = 2022-11-01T08:00:00Z
end = 2022-11-05T08:00:00Z

[book]
tenor_days = 30

[[book.legs]]
kind = "call"
quantity = -1

[[policies]]
family = "delta_band"
halfwidth = [0.5, 1.0]
"""


def _load(tmp_path: Path, text: str) -> BacktestConfig:
    path = tmp_path / "bt.toml"
    path.write_text(textwrap.dedent(text))
    return load_toml(path, BacktestConfig)[0]


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return str(info.value)


def test_the_demo_config_is_valid_and_expands() -> None:
    config, text = load_toml(demo_config_path(), BacktestConfig)
    runs = config.runs()
    assert len(runs) == 13
    assert {r.family for r in runs} == {"calendar", "delta_band", "whalley_wilmott",
                                        "zakamouline", "leland", "greek_bands", "vol_regime"}
    assert runs[0].name == "calendar(interval=1h)"
    assert isinstance(runs[0].policy, Calendar)
    assert runs[0].policy.interval == pytest.approx(1.0 / 8760.0)
    assert [r.trade_options for r in runs].count(True) == 1  # only the delta-gamma policy
    ww = next(r.policy for r in runs if r.family == "whalley_wilmott")
    assert isinstance(ww, WhalleyWilmottBand)
    assert ww.cost == pytest.approx((5.0 + 0.5) / 1e4)  # fee + half spread by default
    assert "[[policies]]" in text
    setup = config.setup()
    assert setup.book.tenor_days == 30
    assert setup.perp.name == "BTCUSDT"
    assert setup.hedge_option is not None


def test_sweeps_are_cartesian_products(tmp_path: Path) -> None:
    config = _load(tmp_path, BASE + 'hedge_to = ["centre", "edge"]\n')
    names = [r.name for r in config.runs()]
    assert names == ["delta_band(halfwidth=0.5, hedge_to=centre)",
                     "delta_band(halfwidth=0.5, hedge_to=edge)",
                     "delta_band(halfwidth=1, hedge_to=centre)",
                     "delta_band(halfwidth=1, hedge_to=edge)"]
    assert all(isinstance(r.policy, DeltaBand) for r in config.runs())


def test_vol_regime_lists_and_list_sweeps(tmp_path: Path) -> None:
    text = BASE + textwrap.dedent("""
        [[policies]]
        family = "vol_regime"
        thresholds = [[0.6, 0.8], [0.5, 0.7]]
        halfwidths = [2.0, 1.0, 0.5]
        intervals = ["1d", "8h", "1h"]
        """)
    runs = _load(tmp_path, text).runs()[2:]
    assert len(runs) == 2
    assert isinstance(runs[0].policy, VolRegimeBand)
    assert runs[0].policy.thresholds == (0.6, 0.8)
    assert runs[1].policy.thresholds == (0.5, 0.7)
    assert runs[0].name == "vol_regime(thresholds=[0.6,0.8], halfwidths=[2,1,0.5], " \
                           "intervals=[1d,8h,1h])"


def test_unknown_key_names_the_field_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("halfwidth = [0.5, 1.0]", "halfwidht = 0.5"))
    assert "bt.toml line 16: unknown key 'policies[0].halfwidht' (did you mean 'halfwidth'?)" \
        in message
    message = _error(tmp_path, BASE.replace("tenor_days = 30", "tenor_days = 30\nroll = 1"))
    assert "line 9: unknown key 'book.roll'" in message
    message = _error(tmp_path, BASE + "\n[extra]\nx = 1\n")
    assert "line 18: unknown key 'extra'" in message


def test_type_errors_name_the_field_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("halfwidth = [0.5, 1.0]", "halfwidth = [0.5, -1]"))
    assert "line 16: policies[0].halfwidth[1]: Input should be greater than 0 (got -1)" \
        in message
    message = _error(tmp_path, BASE.replace('kind = "call"', 'kind = "straddle"'))
    assert "line 11: book.legs[0].kind: Input should be 'call' or 'put'" in message
    message = _error(tmp_path, BASE.replace("quantity = -1", "quantity = 0"))
    assert "line 12: book.legs[0].quantity: must be a non-zero number" in message
    message = _error(tmp_path, BASE.replace("tenor_days = 30", 'tenor_days = "30d"'))
    assert "line 8: book.tenor_days: Input should be a valid integer" in message


def test_missing_keys_and_bad_windows(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("quantity = -1\n", ""))
    assert "line 10: missing required key 'book.legs[0].quantity'" in message
    message = _error(tmp_path, BASE.replace("2022-11-01T08:00:00Z", "2022-11-01T08:00:00"))
    assert "line 4: window.start: must carry a UTC offset" in message
    message = _error(tmp_path, BASE.replace("2022-11-05", "2022-10-05"))
    assert "line 3: window: end 2022-10-05T08:00:00+00:00 must be after start" in message


def test_policy_errors_point_at_the_policy(tmp_path: Path) -> None:
    text = BASE + textwrap.dedent("""
        [[policies]]
        family = "vol_regime"
        thresholds = [0.8, 0.6]
        halfwidths = [2.0, 1.0, 0.5]
        """)
    message = _error(tmp_path, text)
    assert "line 18: policies[1]: VolRegimeBand: thresholds must be a non-empty strictly " \
           "increasing sequence" in message
    message = _error(tmp_path, BASE + '\n[[policies]]\nfamily = "magic"\n')
    assert "line 18: policies[1]: Input tag 'magic' found using 'family' does not match" \
        in message
    gamma = BASE + '\n[[policies]]\nfamily = "greek_bands"\ngamma_halfwidth = 0.001\n'
    assert "add a [hedge.option] table" in _error(tmp_path, gamma)
    interval = BASE + '\n[[policies]]\nfamily = "calendar"\ninterval = "fortnight"\n'
    assert "line 20: policies[1].interval[0]: value must be a duration > 0" in \
        _error(tmp_path, interval)


def test_data_section(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE + '\n[data]\nsource = "files"\nperp = "p.csv"\n')
    assert "line 18: data: source = 'files' needs funding" in message
    message = _error(tmp_path, BASE + '\n[data]\nperp = "p.csv"\n')
    assert "source = 'bundled' takes no file names, got perp" in message
    config = _load(tmp_path, BASE + '\n[data]\nsource = "files"\ndir = "d"\nperp = "p.csv"\n'
                   'funding = "f.csv"\n')
    files = config.data.files(tmp_path)
    assert files.perp == tmp_path / "d" / "p.csv"
    assert files.dvol_hourly is None


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    assert "is not valid TOML" in _error(tmp_path, "title = \n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_toml(tmp_path / "absent.toml", BacktestConfig)


def test_models_are_frozen(tmp_path: Path) -> None:
    config = _load(tmp_path, BASE)
    with pytest.raises(pydantic.ValidationError):
        config.title = "other"  # type: ignore[misc]


def test_key_lines_and_locate() -> None:
    text = textwrap.dedent("""\
        a = 1
        [t]
        "quoted key" = 2
        arr = [
          1,
          2,
        ]
        s = \"\"\"
        [not a header]
        \"\"\"
        [[items]]
        x.y = 3
        [[items]]
        x = 4
        [items.sub]
        z = 5
        """)
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("t", "quoted key")] == 3
    assert lines[("t", "arr")] == 4
    assert ("not a header",) not in lines
    assert lines[("items", 0, "x", "y")] == 12
    assert lines[("items", 1)] == 13
    assert lines[("items", 1, "sub", "z")] == 16
    assert locate(lines, ("items", 1, "tag", "x", 3)) == 14
    assert locate(lines, ("t", "missing")) == 2
    assert locate(lines, ("nowhere",)) is None
