"""The ``hedgekeeper backtest`` configuration: a TOML file validated by frozen pydantic models.

Every model rejects unknown keys; errors name the field and the TOML line
(:func:`hedgekeeper.config.toml.load_toml`). Sections (``examples/demo.toml`` shows them all):

* ``[data]`` — ``source = "bundled"`` (the FTX-window sample inside the package) or
  ``"files"`` with ``dir`` (relative to the config file) and file names ``perp``, ``funding``,
  ``dvol_hourly``, ``dvol_daily``, ``spot``; ``coin``, ``symbol``.
* ``[window]`` — ``start``, ``end``: TOML date-times with a UTC offset (``2022-11-01T08:00:00Z``).
* ``[vol]`` — the smile (``atm_ratio``, ``skew``) and DVOL handling (``dvol_max_age_hours``,
  ``fallback = "realised" | "none"``); see :mod:`hedgekeeper.backtest.smile`.
* ``[book]`` — ``tenor_days``, ``strike_step`` and ``[[book.legs]]`` (``kind``, ``moneyness``,
  ``quantity``: negative = written).
* ``[hedge]`` — ``fill = "close" | "next_open"``, ``half_spread_bps``, ``max_order`` (coin) and
  an optional ``[hedge.option]`` for gamma/vega policies.
* ``[costs]`` — ``fee_bps``, ``impact_eta``, ``impact_beta``.
* ``[gates]`` — optional ``cost_benefit = {risk_aversion, horizon}`` and
  ``max_order_notional_usd``.
* ``[[policies]]`` — one table per policy family with its parameters; any parameter given as
  a list is swept (the runs are the Cartesian product of the lists).

Durations are years as a number, or text with a unit: ``30m``, ``8h``, ``1d`` (1/365 year),
``1w`` (1/52 year), as ``hedgekeeper simulate-hedge`` reads them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from hedgekeeper.backtest.book import LegSpec, RollingBook
from hedgekeeper.backtest.market import MarketFiles, VolSettings
from hedgekeeper.backtest.replay import BacktestSetup, HedgeOptionSpec, binance_perpetual
from hedgekeeper.backtest.suite import PolicySpec
from hedgekeeper.backtest.venue import CostTerms
from hedgekeeper.cli.simulate import parse_duration
from hedgekeeper.costs import HalfSpread, ProportionalFee, SquareRootImpact
from hedgekeeper.domain.instruments import OptionKind
from hedgekeeper.policies import (
    Calendar,
    DeltaBand,
    GreekBands,
    LelandDelta,
    Policy,
    VolRegimeBand,
    WhalleyWilmottBand,
    ZakamoulineBand,
)
from hedgekeeper.risk import CostBenefitGate, Gate, LimitsGate

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _duration(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"a duration must be a number of years or text like '8h', got {value!r}")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"a duration must be > 0 years, got {value!r}")
        return float(value)
    if isinstance(value, str):
        return parse_duration("value", value)
    raise ValueError(f"a duration must be a number of years or text like '8h', got {value!r}")


def _sweep(value: object) -> object:
    """A scalar becomes a one-element sweep; a list stays a list."""
    return value if isinstance(value, list) else [value]


def _sweep_of_lists(value: object) -> object:
    """``[a, b]`` is one setting; ``[[a, b], [c, d]]`` sweeps two."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return value
    return [value]


Duration = Annotated[float, BeforeValidator(_duration)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
HedgeTo = Literal["centre", "edge"]
Unit = Literal["coin", "usd"]


PositiveSweep = Annotated[list[Positive], BeforeValidator(_sweep), Field(min_length=1)]
NonNegativeSweep = Annotated[list[NonNegative], BeforeValidator(_sweep), Field(min_length=1)]
DurationSweep = Annotated[list[Duration], BeforeValidator(_sweep), Field(min_length=1)]
HedgeToSweep = Annotated[list[HedgeTo], BeforeValidator(_sweep), Field(min_length=1)]
OptionalPositiveSweep = Annotated[list[Positive | None], BeforeValidator(_sweep),
                                  Field(min_length=1)]


class DataConfig(BaseModel):
    """``[data]``: where the hourly bars, funding and DVOL come from."""

    model_config = _FROZEN
    source: Literal["bundled", "files"] = "bundled"
    dir: str | None = None
    perp: str | None = None
    funding: str | None = None
    dvol_hourly: str | None = None
    dvol_daily: str | None = None
    spot: str | None = None
    coin: str = "BTC"
    symbol: str = "BTCUSDT"

    @model_validator(mode="after")
    def _files_named(self) -> DataConfig:
        if self.source == "files":
            missing = [name for name in ("perp", "funding") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"source = 'files' needs {' and '.join(missing)} (file names, "
                                 "relative to dir)")
        else:
            given = [name for name in ("dir", "perp", "funding", "dvol_hourly", "dvol_daily",
                                       "spot") if getattr(self, name) is not None]
            if given:
                raise ValueError(f"source = 'bundled' takes no file names, got "
                                 f"{', '.join(given)} (use source = 'files')")
            if (self.coin, self.symbol) != ("BTC", "BTCUSDT"):
                raise ValueError("the bundled sample holds BTC and BTCUSDT only")
        _quote_of(self.symbol, self.coin)
        return self

    def files(self, base: Path) -> MarketFiles:
        """The files, resolved against ``base`` (the config file's folder) and ``dir``."""
        if self.source == "bundled":
            from hedgekeeper.backtest.samples import bundled_market_files

            return bundled_market_files()
        folder = base / (self.dir or ".")

        def path(name: str | None) -> Path | None:
            return None if name is None else folder / name

        return MarketFiles(perp=folder / (self.perp or ""), funding=folder / (self.funding or ""),
                           dvol_hourly=path(self.dvol_hourly), dvol_daily=path(self.dvol_daily),
                           spot=path(self.spot))


class WindowConfig(BaseModel):
    """``[window]``: first and last step (bar close times), UTC."""

    model_config = _FROZEN
    start: dt.datetime
    end: dt.datetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must carry a UTC offset, e.g. 2022-11-01T08:00:00Z")
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _ordered(self) -> WindowConfig:
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} must be after start "
                             f"{self.start.isoformat()}")
        return self


class VolConfig(BaseModel):
    """``[vol]``: the smile and how DVOL gaps are treated."""

    model_config = _FROZEN
    atm_ratio: Positive = 1.0
    skew: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    dvol_max_age_hours: Positive = 48.0
    fallback: Literal["realised", "none"] = "realised"

    def settings(self) -> VolSettings:
        """The market builder's settings."""
        return VolSettings(dvol_max_age_hours=self.dvol_max_age_hours, fallback=self.fallback)


class LegConfig(BaseModel):
    """``[[book.legs]]``: one option leg, struck at ``moneyness * index`` at each roll."""

    model_config = _FROZEN
    kind: Literal["call", "put"]
    moneyness: Positive = 1.0
    quantity: Annotated[float, Field(allow_inf_nan=False)]

    @field_validator("quantity")
    @classmethod
    def _non_zero(cls, value: float) -> float:
        if value == 0.0:
            raise ValueError("must be a non-zero number of options (negative = written)")
        return value


class BookConfig(BaseModel):
    """``[book]``: the option legs and their roll."""

    model_config = _FROZEN
    tenor_days: Annotated[int, Field(ge=1, le=3650)] = 30
    strike_step: Positive = 1000.0
    legs: Annotated[list[LegConfig], Field(min_length=1)]

    def rolling_book(self) -> RollingBook:
        """The :class:`~hedgekeeper.backtest.book.RollingBook`."""
        legs = tuple(LegSpec(OptionKind.parse(leg.kind), leg.moneyness, leg.quantity)
                     for leg in self.legs)
        return RollingBook(legs, tenor_days=self.tenor_days, strike_step=self.strike_step)


class HedgeOptionConfig(BaseModel):
    """``[hedge.option]``: an option the sizer may trade besides the perpetual."""

    model_config = _FROZEN
    kind: Literal["call", "put"] = "call"
    moneyness: Positive = 1.0
    tenor_days: Annotated[int, Field(ge=2, le=3650)] = 60
    max_order: Positive = 100.0
    half_spread: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.01
    daily_volume: Positive = 1000.0


class HedgeConfig(BaseModel):
    """``[hedge]``: the perpetual's quotes, fills and an optional hedge option."""

    model_config = _FROZEN
    instrument: Literal["perpetual"] = "perpetual"
    fill: Literal["close", "next_open"] = "close"
    half_spread_bps: Annotated[float, Field(ge=0.0, lt=1e4)] = 0.5
    max_order: Positive = 1000.0
    option: HedgeOptionConfig | None = None


class CostConfig(BaseModel):
    """``[costs]``: fee (basis points of notional) and square-root impact."""

    model_config = _FROZEN
    fee_bps: NonNegative = 5.0
    impact_eta: NonNegative = 0.0
    impact_beta: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5

    def terms(self) -> CostTerms:
        """Fee, half spread and impact cost models."""
        fee = ProportionalFee(taker_bps=self.fee_bps) if self.fee_bps > 0 else None
        impact = SquareRootImpact(eta=self.impact_eta, beta=self.impact_beta) \
            if self.impact_eta > 0 else None
        return CostTerms(fee=fee, spread=HalfSpread(), impact=impact)


class CostBenefitConfig(BaseModel):
    """``cost_benefit``: skip trades whose cost exceeds the value of the risk removed."""

    model_config = _FROZEN
    risk_aversion: Positive
    horizon: Duration = 1.0 / 8760.0


class GatesConfig(BaseModel):
    """``[gates]``: pre-trade gates (none by default)."""

    model_config = _FROZEN
    cost_benefit: CostBenefitConfig | None = None
    max_order_notional_usd: Positive | None = None

    def gates(self) -> tuple[Gate, ...]:
        """The gate objects, in order."""
        out: list[Gate] = []
        if self.cost_benefit is not None:
            out.append(CostBenefitGate(risk_aversion=self.cost_benefit.risk_aversion,
                                       horizon_years=self.cost_benefit.horizon))
        if self.max_order_notional_usd is not None:
            out.append(LimitsGate(max_order_notional_usd=self.max_order_notional_usd))
        return tuple(out)


# ---------------------------------------------------------------- policy families


class _Family(BaseModel):
    model_config = _FROZEN
    label: str | None = None

    def _sweeps(self) -> dict[str, list[Any]]:
        raise NotImplementedError

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        raise NotImplementedError

    def expand(self, one_way_cost: float) -> list[tuple[str, dict[str, Any], Policy]]:
        """Every parameter combination: (run name, parameters, policy)."""
        sweeps = self._sweeps()
        names = list(sweeps)
        runs: list[tuple[str, dict[str, Any], Policy]] = []
        for combo in itertools.product(*(sweeps[n] for n in names)):
            values = dict(zip(names, combo, strict=True))
            policy = self._make(values, one_way_cost)
            shown = {k: v for k, v in values.items()
                     if v is not None and (len(sweeps[k]) > 1 or k in self._always_shown())}
            params = ", ".join(f"{k}={_fmt(v, k in self._durations())}"
                               for k, v in shown.items())
            base = self.label or self.family_name()
            runs.append((f"{base}({params})" if params else base, values, policy))
        return runs

    def family_name(self) -> str:
        """The ``family`` tag."""
        return str(getattr(self, "family"))  # noqa: B009 - each subclass declares its tag

    def _always_shown(self) -> tuple[str, ...]:
        return ()

    def _durations(self) -> tuple[str, ...]:
        return ()

    @model_validator(mode="after")
    def _builds(self) -> _Family:
        self.expand(0.0005)  # policies validate their own parameters; errors name them
        return self


def _fmt(value: Any, duration: bool = False) -> str:
    if isinstance(value, list | tuple):
        return "[" + ",".join(_fmt(v, duration) for v in value) + "]"
    if isinstance(value, float) and duration:
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_duration(years: float) -> str:
    """Years as short text: ``1h``, ``8h``, ``1d``, ``1w`` when whole, else ``0.25y``."""
    for unit, size in (("w", 1.0 / 52.0), ("d", 1.0 / 365.0), ("h", 1.0 / 8760.0),
                       ("m", 1.0 / 525_600.0)):
        count = years / size
        if count >= 1.0 and abs(count - round(count)) < 1e-6:
            return f"{round(count)}{unit}"
    return f"{years:.4g}y"


class CalendarFamily(_Family):
    """``family = "calendar"``: :class:`~hedgekeeper.policies.Calendar`."""

    family: Literal["calendar"]
    interval: DurationSweep
    align_to: str | None = None

    def _sweeps(self) -> dict[str, list[Any]]:
        return {"interval": list(self.interval)}

    def _always_shown(self) -> tuple[str, ...]:
        return ("interval",)

    def _durations(self) -> tuple[str, ...]:
        return ("interval",)

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        return Calendar(values["interval"], align_to=_clock_time(self.align_to))


class DeltaBandFamily(_Family):
    """``family = "delta_band"``: :class:`~hedgekeeper.policies.DeltaBand`."""

    family: Literal["delta_band"]
    halfwidth: PositiveSweep
    unit: Unit = "coin"
    hedge_to: HedgeToSweep = ["centre"]

    def _sweeps(self) -> dict[str, list[Any]]:
        return {"halfwidth": list(self.halfwidth), "hedge_to": list(self.hedge_to)}

    def _always_shown(self) -> tuple[str, ...]:
        return ("halfwidth",)

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        return DeltaBand(values["halfwidth"], unit=self.unit, hedge_to=values["hedge_to"])


class _UtilityFamily(_Family):
    cost: NonNegativeSweep | None = None
    risk_aversion: PositiveSweep
    hedge_to: HedgeToSweep = ["edge"]

    def _sweeps(self) -> dict[str, list[Any]]:
        return {"cost": [None] if self.cost is None else list(self.cost),
                "risk_aversion": list(self.risk_aversion), "hedge_to": list(self.hedge_to)}

    def _always_shown(self) -> tuple[str, ...]:
        return ("risk_aversion",)


class WhalleyWilmottFamily(_UtilityFamily):
    """``family = "whalley_wilmott"``: :class:`~hedgekeeper.policies.WhalleyWilmottBand`;
    ``cost`` defaults to the one-way cost of ``[costs]`` and ``[hedge]`` (fee + half spread)."""

    family: Literal["whalley_wilmott"]

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        cost = one_way_cost if values["cost"] is None else values["cost"]
        return WhalleyWilmottBand(cost, values["risk_aversion"], hedge_to=values["hedge_to"])


class ZakamoulineFamily(_UtilityFamily):
    """``family = "zakamouline"``: :class:`~hedgekeeper.policies.ZakamoulineBand`; ``cost`` as
    for Whalley-Wilmott."""

    family: Literal["zakamouline"]

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        cost = one_way_cost if values["cost"] is None else values["cost"]
        return ZakamoulineBand(cost, values["risk_aversion"], hedge_to=values["hedge_to"])


class LelandFamily(_Family):
    """``family = "leland"``: :class:`~hedgekeeper.policies.LelandDelta`;
    ``cost_round_trip`` defaults to twice the one-way cost."""

    family: Literal["leland"]
    interval: DurationSweep
    cost_round_trip: NonNegativeSweep | None = None

    def _sweeps(self) -> dict[str, list[Any]]:
        return {"interval": list(self.interval),
                "cost_round_trip": [None] if self.cost_round_trip is None
                else list(self.cost_round_trip)}

    def _always_shown(self) -> tuple[str, ...]:
        return ("interval",)

    def _durations(self) -> tuple[str, ...]:
        return ("interval",)

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        cost = 2.0 * one_way_cost if values["cost_round_trip"] is None \
            else values["cost_round_trip"]
        return LelandDelta(cost, values["interval"])


class GreekBandsFamily(_Family):
    """``family = "greek_bands"``: :class:`~hedgekeeper.policies.GreekBands` (delta-gamma);
    needs ``[hedge.option]`` to trade gamma."""

    family: Literal["greek_bands"]
    gamma_halfwidth: OptionalPositiveSweep = [None]
    vega_halfwidth: OptionalPositiveSweep = [None]
    delta_halfwidth: OptionalPositiveSweep = [None]
    hedge_to: HedgeToSweep = ["centre"]

    def _sweeps(self) -> dict[str, list[Any]]:
        return {"gamma_halfwidth": list(self.gamma_halfwidth),
                "vega_halfwidth": list(self.vega_halfwidth),
                "delta_halfwidth": list(self.delta_halfwidth), "hedge_to": list(self.hedge_to)}

    def _always_shown(self) -> tuple[str, ...]:
        return ("gamma_halfwidth", "delta_halfwidth")

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        return GreekBands(gamma_halfwidth=values["gamma_halfwidth"],
                          vega_halfwidth=values["vega_halfwidth"],
                          delta_halfwidth=values["delta_halfwidth"],
                          hedge_to=values["hedge_to"])


FloatList = list[Annotated[float, Field(allow_inf_nan=False)]]
ListSweep = Annotated[list[FloatList], BeforeValidator(_sweep_of_lists), Field(min_length=1)]
DurationListSweep = Annotated[list[list[Duration]], BeforeValidator(_sweep_of_lists),
                              Field(min_length=1)]


class VolRegimeFamily(_Family):
    """``family = "vol_regime"``: :class:`~hedgekeeper.policies.VolRegimeBand`; ``thresholds``,
    ``halfwidths`` and ``intervals`` are lists (a list of lists sweeps them)."""

    family: Literal["vol_regime"]
    signal: Literal["vol_percentile", "realised_vol", "dvol"] = "dvol"
    thresholds: ListSweep
    halfwidths: ListSweep
    intervals: DurationListSweep | None = None
    unit: Unit = "coin"
    hedge_to: HedgeToSweep = ["centre"]

    def _sweeps(self) -> dict[str, list[Any]]:
        return {"thresholds": list(self.thresholds), "halfwidths": list(self.halfwidths),
                "intervals": [None] if self.intervals is None else list(self.intervals),
                "hedge_to": list(self.hedge_to)}

    def _always_shown(self) -> tuple[str, ...]:
        return ("halfwidths", "intervals")

    def _durations(self) -> tuple[str, ...]:
        return ("intervals",)

    def _make(self, values: dict[str, Any], one_way_cost: float) -> Policy:
        return VolRegimeBand(self.signal, values["thresholds"], values["halfwidths"],
                             intervals=values["intervals"], unit=self.unit,
                             hedge_to=values["hedge_to"])


PolicyFamily = Annotated[
    CalendarFamily | DeltaBandFamily | WhalleyWilmottFamily | ZakamoulineFamily | LelandFamily
    | GreekBandsFamily | VolRegimeFamily,
    Field(discriminator="family"),
]

FAMILIES: dict[str, str] = {
    "calendar": "Calendar", "delta_band": "DeltaBand", "whalley_wilmott": "WhalleyWilmottBand",
    "zakamouline": "ZakamoulineBand", "leland": "LelandDelta", "greek_bands": "GreekBands",
    "vol_regime": "VolRegimeBand",
}
"""Config family tag -> policy class."""


def _clock_time(text: str | None) -> dt.time | None:
    if text is None:
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"align_to must be a UTC time of day like '08:00', got {text!r}"
                         ) from None




class BacktestConfig(BaseModel):
    """A whole ``hedgekeeper backtest`` file."""

    model_config = _FROZEN
    title: str = "hedgekeeper backtest"
    data: DataConfig = Field(default_factory=DataConfig)
    window: WindowConfig
    vol: VolConfig = Field(default_factory=VolConfig)
    book: BookConfig
    hedge: HedgeConfig = Field(default_factory=HedgeConfig)
    costs: CostConfig = Field(default_factory=CostConfig)
    gates: GatesConfig = Field(default_factory=GatesConfig)
    policies: Annotated[list[PolicyFamily], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> BacktestConfig:
        option = self.hedge.option
        if option is not None and option.tenor_days <= self.book.tenor_days:
            raise ValueError(f"hedge.option.tenor_days ({option.tenor_days}) must exceed "
                             f"book.tenor_days ({self.book.tenor_days})")
        needs_option = [p.family_name() for p in self.policies
                        if isinstance(p, GreekBandsFamily)
                        and (any(g is not None for g in p.gamma_halfwidth)
                             or any(v is not None for v in p.vega_halfwidth))]
        if needs_option and option is None:
            raise ValueError("policies of family greek_bands target gamma or vega, which the "
                             "perpetual cannot trade: add a [hedge.option] table")
        names = [run.name for run in self.runs()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two policies have the same name {twice[0]!r}: give one a label")
        return self

    @property
    def one_way_cost(self) -> float:
        """Fee plus half spread of the perpetual, fraction of notional (the λ of the
        utility-based bands when they give none)."""
        return (self.costs.fee_bps + self.hedge.half_spread_bps) / 1e4

    def runs(self) -> list[PolicySpec]:
        """Every policy and parameter combination, in file order; gamma/vega policies may
        trade the ``[hedge.option]``."""
        out: list[PolicySpec] = []
        for family in self.policies:
            options = isinstance(family, GreekBandsFamily) and self.hedge.option is not None
            for name, params, policy in family.expand(self.one_way_cost):
                out.append(PolicySpec(name=name, family=family.family_name(), policy=policy,
                                      params=params, trade_options=options))
        return out

    def setup(self) -> BacktestSetup:
        """The replay's :class:`~hedgekeeper.backtest.replay.BacktestSetup`."""
        option = self.hedge.option
        spec = None if option is None else HedgeOptionSpec(
            kind=OptionKind.parse(option.kind), moneyness=option.moneyness,
            tenor_days=option.tenor_days, max_order=option.max_order,
            half_spread=option.half_spread, daily_volume=option.daily_volume)
        return BacktestSetup(
            book=self.book.rolling_book(), costs=self.costs.terms(),
            perp=binance_perpetual(self.data.coin, _quote_of(self.data.symbol, self.data.coin)),
            half_spread_bps=self.hedge.half_spread_bps, perp_max_order=self.hedge.max_order,
            atm_ratio=self.vol.atm_ratio, skew=self.vol.skew, fill=self.hedge.fill,
            hedge_option=spec, gates=self.gates.gates(),
        )


def _quote_of(symbol: str, coin: str) -> str:
    if not symbol.startswith(coin) or len(symbol) == len(coin):
        raise ValueError(f"data.symbol {symbol!r} must be the coin {coin!r} followed by its "
                         "quote currency, e.g. BTCUSDT")
    return symbol[len(coin):]

