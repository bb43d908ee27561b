"""The sweep configuration: a TOML file validated into frozen pydantic models.

A sweep is a grid of **scenarios** × **policies** × each policy's **parameters**. Example::

    [sweep]
    name = "btc-eth-bands"
    output = "sweep-out"                    # folder, relative to this file

    [[scenarios]]
    name = "btc-eth-2019-2024"
    kind = "weights"                        # target-weight portfolio backtest
    targets = { BTC = 0.4, ETH = 0.4, USDT = 0.2 }
    cash = "USDT"
    fee_bps = 10.0
    slippage_bps = 2.0
    [scenarios.history]                     # real hourly closes (or [scenarios.gbm])
    start = 2019-01-01T00:00:00Z
    end = 2025-01-01T00:00:00Z
    [scenarios.history.files]
    BTC = "data/binance_spot_BTCUSDT_1h_to2024.csv.gz"
    ETH = "data/binance_spot_ETHUSDT_1h_to2024.csv.gz"

    [[scenarios]]
    name = "short-call"
    kind = "montecarlo"                     # option hedging Monte Carlo (sim.montecarlo)
    spot = 60000.0
    strike = 60000.0
    vol = 0.6
    maturity = "30d"
    step = "1h"
    paths = 2000
    seed = 7
    fee_bps = 5.0

    [[policies]]
    policy = "WeightBand"
    relative = [0.05, 0.1, 0.2]             # a list is a grid axis
    hedge_to = ["centre", "edge"]

    [[policies]]
    policy = "Calendar"
    interval = ["1d", "7d", "30d"]          # durations: years, or w/d/h/m suffixes

    [[policies]]
    policy = "DeltaBand"
    halfwidth = [0.02, 0.05, 0.1]

Every table rejects unknown keys; errors name the file, the line and the field
(:class:`SweepConfigError`). Paths in the file are relative to the file's folder. Each policy
runs on every scenario it applies to (``Calendar`` on both kinds, ``WeightBand`` on weight
scenarios, the delta policies on Monte Carlo scenarios), or on the scenarios it names in
``scenarios = [...]``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hedgekeeper.config.toml import ConfigError, Loc, key_lines, load_toml, locate

YEAR_UNITS: dict[str, float] = {
    "y": 1.0,
    "w": 1.0 / 52.0,
    "d": 1.0 / 365.0,
    "h": 1.0 / (365.0 * 24.0),
    "m": 1.0 / (365.0 * 24.0 * 60.0),
}
"""Duration suffixes in years (ACT/365; ``w`` = 1/52 year, as ``hedgekeeper simulate-hedge``)."""

MAX_PATH_VALUES = 25_000_000
"""Prices one Monte Carlo task may simulate (200 MB of float64)."""

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([ywdhm]?)\s*$")


class SweepConfigError(ConfigError):
    """A sweep configuration that cannot be used; the message names the file, line and field.

    A :class:`hedgekeeper.config.toml.ConfigError` (so a ``ValueError``); ``issues`` holds
    one line per problem.
    """


def duration_years(value: object) -> float:
    """Years from a number (years) or a string like ``"7d"``, ``"8h"``, ``"2w"``; > 0."""
    if isinstance(value, bool):
        raise ValueError(f"a duration must be a number of years or a string like '1d', got {value}")
    if isinstance(value, int | float):
        years = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        years = float(match.group(1)) * YEAR_UNITS[match.group(2) or "y"]
    else:
        raise ValueError(
            "a duration must be years as a number, or a number with a unit w (1/52 year), "
            f"d (1/365), h, m (minutes), e.g. '7d', '8h'; got {value!r}"
        )
    if not (math.isfinite(years) and years > 0.0):
        raise ValueError(f"a duration must be > 0, got {value!r}")
    return years


Duration = Annotated[float, BeforeValidator(duration_years)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]
HedgeTo = Literal["centre", "edge"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# ---------------------------------------------------------------- sections


class SweepSection(_Table):
    """``[sweep]``: the name and the output folder (relative to the config file)."""

    name: Name = "sweep"
    output: str = "sweep-output"


class HistorySource(_Table):
    """``[scenarios.history]``: real hourly close files (Binance format), one per asset."""

    files: dict[Name, str]
    start: dt.datetime | dt.date | None = None
    end: dt.datetime | dt.date | None = None

    @field_validator("files")
    @classmethod
    def _some_files(cls, files: dict[str, str]) -> dict[str, str]:
        if not files:
            raise ValueError("files must name at least one asset and its hourly close file")
        return files


class GbmSource(_Table):
    """``[scenarios.gbm]``: seeded geometric Brownian motion closes, one path per asset."""

    vols: dict[Name, Positive]
    drift: Finite = 0.0
    bars: Annotated[int, Field(ge=2)]
    step: Duration = 1.0 / (365.0 * 24.0)
    seed: int
    start_price: Positive = 100.0

    @field_validator("vols")
    @classmethod
    def _some_vols(cls, vols: dict[str, float]) -> dict[str, float]:
        if not vols:
            raise ValueError("vols must name at least one asset and its volatility")
        return vols


class WeightsScenario(_Table):
    """A target-weight portfolio backtest (:func:`hedgekeeper.backtest.weights.backtest_weights`).

    ``targets`` maps every asset, the cash asset included, to its target weight (sum 1).
    """

    kind: Literal["weights"]
    name: Name
    targets: dict[Name, NonNegative]
    cash: Name = "USDT"
    fee_bps: NonNegative = 0.0
    slippage_bps: Annotated[float, Field(ge=0.0, lt=1e4)] = 0.0
    initial_value: Positive = 1_000_000.0
    history: HistorySource | None = None
    gbm: GbmSource | None = None

    @model_validator(mode="after")
    def _consistent(self) -> WeightsScenario:
        if (self.history is None) == (self.gbm is None):
            raise ValueError(
                "give exactly one price source: [scenarios.history] or [scenarios.gbm]"
            )
        priced = list(self.history.files if self.history is not None else self.gbm.vols)  # type: ignore[union-attr]
        if self.cash in priced:
            raise ValueError(f"cash asset {self.cash!r} must not also be a priced asset")
        expected = {*priced, self.cash}
        if set(self.targets) != expected:
            raise ValueError(
                f"targets must give a weight for exactly the assets {sorted(expected)} "
                f"(priced assets and cash), got {sorted(self.targets)}"
            )
        total = sum(self.targets.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"targets must sum to 1 (cash included), got {total!r}")
        return self

    @property
    def assets(self) -> list[str]:
        """Priced assets in file/vol order, then the cash asset (the price columns)."""
        source = self.history.files if self.history is not None else self.gbm.vols  # type: ignore[union-attr]
        return [*source, self.cash]


class MonteCarloScenario(_Table):
    """An option hedging Monte Carlo (:func:`hedgekeeper.sim.montecarlo.simulate_hedge`).

    One option (or a straddle: a call and a put) on one coin, written (``short``) or bought,
    hedged with the underlying or a perpetual on seeded GBM paths; every policy of the sweep
    sees the same paths.
    """

    kind: Literal["montecarlo"]
    name: Name
    spot: Positive
    strike: Positive
    vol: Positive
    drift: Finite = 0.0
    rate: Finite = 0.0
    maturity: Duration
    step: Duration
    paths: Annotated[int, Field(ge=2, le=1_000_000)]
    seed: int
    option: Literal["call", "put", "straddle"] = "call"
    position: Literal["short", "long"] = "short"
    fee_bps: NonNegative = 0.0
    half_spread_bps: Annotated[float, Field(ge=0.0, lt=1e4)] = 0.0
    hedge: Literal["underlying", "perpetual"] = "underlying"

    @model_validator(mode="after")
    def _whole_steps(self) -> MonteCarloScenario:
        steps = round(self.maturity / self.step)
        if steps < 1 or abs(steps * self.step - self.maturity) > 1e-9 * max(self.maturity, 1.0):
            raise ValueError(
                f"maturity must be a whole number of steps, got {self.maturity:.6g} / "
                f"{self.step:.6g} years"
            )
        return self

    @model_validator(mode="after")
    def _fits_one_task(self) -> MonteCarloScenario:
        values = self.paths * (self.steps + 1)
        if values > MAX_PATH_VALUES:
            raise ValueError(
                f"paths x (steps + 1) = {values:,} prices is more than one task holds "
                f"({MAX_PATH_VALUES:,}); use fewer paths or a longer step, or split the "
                "scenario into several with different seeds"
            )
        return self

    @property
    def steps(self) -> int:
        """Number of hedging steps on the grid."""
        return round(self.maturity / self.step)

    @property
    def cost_rate(self) -> float:
        """Proportional one-way cost (fee + half spread), fraction of notional."""
        return (self.fee_bps + self.half_spread_bps) / 1e4


Scenario = Annotated[WeightsScenario | MonteCarloScenario, Field(discriminator="kind")]


# ---------------------------------------------------------------- policy grids


def _axis(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


class _PolicyGrid(_Table):
    scenarios: list[Name] | None = None
    """Scenario names this policy runs on (default: every scenario it applies to)."""

    APPLIES_TO: ClassVar[tuple[str, ...]] = ()
    """Scenario kinds the policy can run on."""

    def axes(self) -> dict[str, list[Any]]:
        """Parameter name -> values (a scalar is a one-value axis); ``None`` values dropped."""
        out: dict[str, list[Any]] = {}
        for name in type(self).model_fields:
            if name in ("policy", "scenarios"):
                continue
            value = getattr(self, name)
            if value is None:
                continue
            values = _axis(value)
            if not values:
                raise ValueError(f"{name} must not be an empty list")
            out[name] = values
        return out


class CalendarGrid(_PolicyGrid):
    """``Calendar``: rebalance every ``interval`` (weights: to target; Monte Carlo: to delta 0)."""

    policy: Literal["Calendar"]
    interval: Duration | list[Duration]
    APPLIES_TO: ClassVar[tuple[str, ...]] = ("weights", "montecarlo")


class WeightBandGrid(_PolicyGrid):
    """``WeightBand``: absolute and/or relative bands, back to target (centre) or to the edge."""

    policy: Literal["WeightBand"]
    absolute: Positive | list[Positive] | None = None
    relative: Positive | list[Positive] | None = None
    hedge_to: HedgeTo | list[HedgeTo] = "centre"
    APPLIES_TO: ClassVar[tuple[str, ...]] = ("weights",)

    @model_validator(mode="after")
    def _a_band(self) -> WeightBandGrid:
        if self.absolute is None and self.relative is None:
            raise ValueError("give absolute, relative or both")
        return self


class DeltaBandGrid(_PolicyGrid):
    """``DeltaBand``: a fixed half-width around zero net delta (coin or USD)."""

    policy: Literal["DeltaBand"]
    halfwidth: Positive | list[Positive]
    unit: Literal["coin", "usd"] | list[Literal["coin", "usd"]] = "coin"
    hedge_to: HedgeTo | list[HedgeTo] = "centre"
    APPLIES_TO: ClassVar[tuple[str, ...]] = ("montecarlo",)


class WhalleyWilmottGrid(_PolicyGrid):
    """``WhalleyWilmottBand``; ``cost`` defaults to the scenario's fee + half spread."""

    policy: Literal["WhalleyWilmottBand"]
    risk_aversion: Positive | list[Positive]
    cost: NonNegative | list[NonNegative] | None = None
    hedge_to: HedgeTo | list[HedgeTo] = "edge"
    APPLIES_TO: ClassVar[tuple[str, ...]] = ("montecarlo",)


class ZakamoulineGrid(_PolicyGrid):
    """``ZakamoulineBand``; ``cost`` defaults to the scenario's fee + half spread."""

    policy: Literal["ZakamoulineBand"]
    risk_aversion: Positive | list[Positive]
    cost: NonNegative | list[NonNegative] | None = None
    hedge_to: HedgeTo | list[HedgeTo] = "edge"
    APPLIES_TO: ClassVar[tuple[str, ...]] = ("montecarlo",)


class LelandGrid(_PolicyGrid):
    """``LelandDelta``; ``cost_round_trip`` defaults to twice the scenario's one-way cost."""

    policy: Literal["LelandDelta"]
    interval: Duration | list[Duration]
    cost_round_trip: NonNegative | list[NonNegative] | None = None
    APPLIES_TO: ClassVar[tuple[str, ...]] = ("montecarlo",)


PolicyGrid = Annotated[
    CalendarGrid
    | WeightBandGrid
    | DeltaBandGrid
    | WhalleyWilmottGrid
    | ZakamoulineGrid
    | LelandGrid,
    Field(discriminator="policy"),
]

class SweepConfig(_Table):
    """The whole file: ``[sweep]``, ``[[scenarios]]`` and ``[[policies]]``."""

    sweep: SweepSection = SweepSection()
    scenarios: Annotated[list[Scenario], Field(min_length=1)]
    policies: Annotated[list[PolicyGrid], Field(min_length=1)]

    @model_validator(mode="after")
    def _names(self) -> SweepConfig:
        names = [scenario.name for scenario in self.scenarios]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"scenario names must be unique, repeated: {duplicates}")
        return self


# ---------------------------------------------------------------- loading


def load_sweep_config(path: str | Path) -> tuple[SweepConfig, Path]:
    """Read and validate a sweep TOML file; return the config and the file's folder.

    Reading and validation go through :func:`hedgekeeper.config.toml.load_toml`, so messages
    have the same form as ``hedgekeeper backtest``'s. Data file paths are resolved against the
    file's folder and must exist. Every grid point's policy is constructed once, so a
    parameter the policy rejects is reported here.

    Raises
    ------
    SweepConfigError
        One line per problem, ``"<file> line <N>: <field>: <problem>"`` (``unknown key
        '<field>'`` and ``missing required key '<field>'`` for those two), for an unknown
        key, a bad value, a missing field, a missing data file or a parameter the policy
        rejects; an unreadable file or a TOML syntax error (with the parser's line and
        column) names the file.
    """
    file = Path(path)
    try:
        config, text = load_toml(file, SweepConfig)
    except ConfigError as exc:
        raise SweepConfigError(str(exc), exc.issues) from None
    lines = key_lines(text)
    base = file.resolve().parent
    for index, scenario in enumerate(config.scenarios):
        if isinstance(scenario, WeightsScenario) and scenario.history is not None:
            for asset, name in scenario.history.files.items():
                if not (base / name).is_file():
                    loc: Loc = ("scenarios", index, "history", "files", asset)
                    raise _error(file, lines, loc, f"no such file {str(base / name)!r}")
    from hedgekeeper.sweep.grid import PolicyGridError, check_policies

    try:
        check_policies(config)
    except PolicyGridError as exc:
        raise _error(file, lines, ("policies", exc.index), exc.problem) from None
    return config, base


def _error(file: Path, lines: dict[Loc, int], loc: Loc, problem: str) -> SweepConfigError:
    """A :class:`SweepConfigError` worded as :func:`hedgekeeper.config.toml.describe` words
    pydantic's errors: ``FILE line N: field.path: problem``."""
    line = locate(lines, loc)
    where = f"{file} line {line}" if line is not None else str(file)
    message = f"{where}: {_dotted(loc)}: {problem}"
    return SweepConfigError(message, (message,))


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


__all__ = [
    "CalendarGrid",
    "DeltaBandGrid",
    "GbmSource",
    "HistorySource",
    "LelandGrid",
    "MonteCarloScenario",
    "SweepConfig",
    "SweepConfigError",
    "SweepSection",
    "WeightBandGrid",
    "WeightsScenario",
    "WhalleyWilmottGrid",
    "ZakamoulineGrid",
    "duration_years",
    "load_sweep_config",
]
