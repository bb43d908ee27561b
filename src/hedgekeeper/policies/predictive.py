"""Predictive rebalancing: bands and cadence set from a volatility *forecast*, and hedge intents.

Both policies read ``view.forecast_vol`` — a forecaster's annualised volatility over the
hedging horizon (e.g. ``hedgekeeper.forecast`` ``Forecast.vol`` from a model refitted
walk-forward) — and recompute the book's gamma at that volatility from ``view.options``: the
gamma the hedge will actually face if the forecast is right, so the band is set *before* the
regime arrives instead of after realised volatility has moved.

Units as in :mod:`hedgekeeper.policies.base`: delta in coin, spot USD, times in years,
volatilities annualised fractions, ``cost`` the one-way proportional cost (fraction of traded
notional), budgets in USD.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

from hedgekeeper.policies._decision import (
    DEFAULT_MAX_DATA_AGE,
    HedgeTo,
    choice,
    delta_band_target,
    finish,
    max_age,
    positive,
    present,
    safe,
    screen,
)
from hedgekeeper.policies.base import (
    BoolArray,
    FloatArray,
    HedgeTarget,
    IntArray,
    Policy,
    PolicyView,
    Reason,
)
from hedgekeeper.policies.calendar import schedule_due
from hedgekeeper.policies.optimal import (
    _gamma_weighted,
    _leg_greeks,
    _model_refusal,
    _rate,
    _usable_legs,
    whalley_wilmott_halfwidth,
)
from hedgekeeper.pricing._inputs import as_float, broadcast, require


def budget_halfwidth(
    spot: FloatArray | float,
    gamma: FloatArray | float,
    vol: FloatArray | float,
    cost: FloatArray | float,
    budget_rate: FloatArray | float,
) -> FloatArray:
    r"""Narrowest delta band whose expected hedging cost fits a cost budget rate.

    With net gamma Γ (coin/USD) and spot S following GBM at volatility σ, the delta mismatch
    ``x`` diffuses with variance rate ``D = (Γ σ S)²`` coin² per year. Kept inside ``[-h, h]``
    by trading to the nearest edge, ``x`` is a doubly reflected Brownian motion whose
    reflection (the traded quantity) grows at the rate ``D / (2h)`` coin per year (its
    stationary density is uniform, ``1/(2h)``, and each boundary's local time grows at
    ``D/2 · 1/(2h)``; Harrison, *Brownian Motion and Stochastic Flow Systems*, 1985, §5.6).
    At one-way cost ``λ`` of notional the expected cost rate is ``λ S D / (2h)`` USD per year;
    setting it equal to the budget rate ``b`` gives

    .. math::
        h_B = \frac{\lambda\, S\, (\Gamma \sigma S)^2}{2 b}.

    Parameters
    ----------
    spot : S, USD, > 0.
    gamma : Γ, coin per USD (sign irrelevant).
    vol : σ, annualised fraction, >= 0.
    cost : λ, one-way proportional cost, >= 0.
    budget_rate : b, USD per year, > 0.

    Returns
    -------
    ndarray of float64, broadcast shape: ``h_B`` in coin (0 when Γσ = 0: no drift, any band
    is affordable).
    """
    values = broadcast(
        {
            "spot": as_float("spot", spot),
            "gamma": as_float("gamma", gamma),
            "vol": as_float("vol", vol),
            "cost": as_float("cost", cost),
            "budget_rate": as_float("budget_rate", budget_rate),
        }
    )
    s, g, sigma, lam, rate = (np.array(v, dtype=np.float64) for v in values)
    require("spot", np.isfinite(s) & (s > 0), "finite and > 0", s)
    require("gamma", np.isfinite(g), "finite", g)
    require("vol", np.isfinite(sigma) & (sigma >= 0), "finite and >= 0", sigma)
    require("cost", np.isfinite(lam) & (lam >= 0), "finite and >= 0", lam)
    require("budget_rate", np.isfinite(rate) & (rate > 0), "finite and > 0", rate)
    diffusion = (g * sigma * s) ** 2
    return np.asarray(lam * s * diffusion / (2.0 * rate), dtype=np.float64)


def _forecast_greeks(
    view: PolicyView, owner: str, refusal: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """(forecast vol, book gamma at it, |qΓ|-weighted expiry, refusal) per element.

    Elements with a non-positive forecast, expired used legs or no used legs are refused
    with ``REFUSED_MODEL`` (unless already refused).
    """
    raw = view.require("forecast_vol", owner)
    good = np.isfinite(raw) & (raw > 0.0)
    vol = np.where(good, raw, 1.0)
    legs = view.require_options(owner)
    used, ok = _usable_legs(legs)
    vol_legs = np.broadcast_to(vol[:, None], legs.strike.shape)
    _, leg_gamma = _leg_greeks(view, legs, np.asarray(vol_legs, dtype=np.float64), used)
    gamma = np.sum(legs.quantity * leg_gamma, axis=1)
    tau = _gamma_weighted(legs.expiry, np.abs(legs.quantity * leg_gamma), used)
    good &= ok & np.isfinite(tau)
    return vol, gamma, safe(tau, 0.0), _model_refusal(refusal, good)


class PredictiveBand:
    r"""Whalley-Wilmott band at the *forecast* volatility, with a cadence that speeds up
    before forecast stress.

    Band: ``H = (3/2 e^{-rτ} λ S Γ_f² / γ)^{1/3}`` (:func:`whalley_wilmott_halfwidth`) with
    ``Γ_f = Σ q_i Γ_BS(S, K_i, τ_i, r, σ_f)`` the book's gamma recomputed at the forecast
    volatility ``σ_f = view.forecast_vol`` (Whalley & Wilmott's band is derived for hedging at
    the volatility the underlying will realise; the forecast is the best estimate of it) and τ
    the |qΓ|-weighted expiry. Fire when ``|net_delta - target_delta| > H``; trade to the edge
    (default) or the centre.

    Cadence (optional): with ``interval`` and ``reference_vol`` the policy also rebalances to
    the centre when ``interval_f = clip(interval · (reference_vol / σ_f)², min_interval,
    interval)`` has passed since the last rebalance. The expected squared delta drift over an
    interval is ``(Γ σ S)² Δt``; shrinking ``Δt`` with ``1/σ_f²`` keeps it at its calm-market
    level when stress is forecast, so the hedge tightens *before* the stress is realised.

    Parameters
    ----------
    cost : one-way proportional cost λ of the hedge instrument, fraction, >= 0.
    risk_aversion : absolute risk aversion γ, 1/USD, > 0.
    interval : calm-market rebalancing interval, years, > 0, or None for no cadence.
    reference_vol : forecast volatility (annualised fraction) at and below which ``interval``
        applies; required with ``interval``.
    min_interval : shortest interval, years (default ``interval / 24``).
    hedge_to : ``"edge"`` (default) or ``"centre"`` for band breaches.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        cost: float,
        risk_aversion: float,
        interval: float | None = None,
        reference_vol: float | None = None,
        min_interval: float | None = None,
        hedge_to: HedgeTo = "edge",
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        owner = "PredictiveBand"
        self.cost = positive(owner, "cost", cost, allow_zero=True)
        self.risk_aversion = positive(owner, "risk_aversion", risk_aversion)
        if (interval is None) != (reference_vol is None):
            raise ValueError(f"{owner}: interval and reference_vol must be given together")
        self.interval = None if interval is None else positive(owner, "interval", interval)
        self.reference_vol = (
            None if reference_vol is None else positive(owner, "reference_vol", reference_vol)
        )
        if min_interval is not None and self.interval is None:
            raise ValueError(f"{owner}: min_interval needs interval and reference_vol")
        self.min_interval = (
            None if min_interval is None else positive(owner, "min_interval", min_interval)
        )
        if self.min_interval is not None and self.interval is not None and (
            self.min_interval > self.interval
        ):
            raise ValueError(
                f"{owner}: min_interval must not exceed interval, got {min_interval!r} > "
                f"{interval!r}"
            )
        self.hedge_to = choice(owner, "hedge_to", hedge_to, ("centre", "edge"))
        self.max_data_age = max_age(owner, max_data_age)

    def interval_at(self, forecast_vol: FloatArray) -> FloatArray:
        """Rebalancing interval (years) at each forecast volatility; requires a cadence."""
        if self.interval is None or self.reference_vol is None:
            raise ValueError("PredictiveBand: interval_at needs interval and reference_vol")
        shortest = self.min_interval if self.min_interval is not None else self.interval / 24.0
        scale = (self.reference_vol / np.maximum(forecast_vol, 1e-12)) ** 2
        return np.asarray(np.clip(self.interval * scale, shortest, self.interval))

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire outside the forecast-vol band, or when the forecast-vol cadence is due."""
        owner = "PredictiveBand"
        fields = ["forecast_vol", *present(view, ("target_delta", "rate"))]
        refusal = screen(view, owner, self.max_data_age, fields, options=True)
        vol, gamma, tau, code = _forecast_greeks(view, owner, refusal)
        half = whalley_wilmott_halfwidth(
            view.spot_or_one(), gamma, self.cost, self.risk_aversion, _rate(view), tau
        )
        centre = view.target_delta_or_zero()
        outside, band = delta_band_target(view.net_delta, centre, half, self.hedge_to)
        fire: BoolArray = outside
        reason = np.full(view.size, Reason.DELTA_BAND, dtype=np.int16)
        if self.interval is not None:
            last = view.require("last_rebalance_time", owner)
            due = schedule_due(safe(view.time), last, self.interval_at(vol), None)
            reason = np.where(outside, reason, np.int16(Reason.SCHEDULE)).astype(np.int16)
            fire = outside | due
            band = (np.where(outside, band[0], centre), band[1], band[2])
        return finish(owner, fire, reason, code, delta=band)


class IntentBand:
    r"""A hedging *intent*: hold net delta in a range until a deadline within a cost budget;
    the policy chooses when to act.

    The user states the net-delta range ``[lower, upper]`` (coin) to hold, the period
    ``[start, deadline]`` (years since the epoch) and the USD ``cost_budget`` for it. Inside the
    range the policy keeps the narrowest band around the range's centre ``c`` that the budget
    affords at the forecast volatility:

    .. math::
        h = \min\left(\frac{upper - lower}{2},\;
                      h_B = \frac{\lambda S (\Gamma_f \sigma_f S)^2}{2 b}\right),\qquad
        b = \frac{\text{cost\_budget}}{\text{deadline} - \text{start}}

    (:func:`budget_halfwidth`; Γ_f is the book's gamma at ``σ_f = view.forecast_vol``). It
    fires when ``|net_delta - c| > h`` and trades to the nearest band edge (the least-cost
    trade). A forecast of stress raises the expected cost of a tight band, so the policy widens
    it — never beyond the user's range, which is a hard limit (where even the range is
    unaffordable the range is held and the budget is exceeded in expectation). A generous
    budget buys a tight band. Outside ``[start, deadline]`` the intent is inactive (hold).

    The view carries no spend history, so the budget is planned as an even rate over the
    period (expected cost to any time is the pro-rata budget); the engine or backtest that
    runs the policy records actual spend.

    Parameters
    ----------
    lower, upper : net-delta range to hold, coin, ``lower < upper``.
    start, deadline : the intent's period, years since the epoch, ``start < deadline``.
    cost_budget : USD the hedging may cost over the period, > 0.
    cost : one-way proportional cost λ of the hedge instrument, fraction, >= 0.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        lower: float,
        upper: float,
        start: float,
        deadline: float,
        cost_budget: float,
        cost: float,
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        owner = "IntentBand"
        self.lower = _finite(owner, "lower", lower)
        self.upper = _finite(owner, "upper", upper)
        if not self.lower < self.upper:
            raise ValueError(f"{owner}: upper must exceed lower, got [{lower!r}, {upper!r}]")
        self.start = _finite(owner, "start", start)
        self.deadline = _finite(owner, "deadline", deadline)
        if not self.start < self.deadline:
            raise ValueError(
                f"{owner}: deadline must be after start, got {deadline!r} <= {start!r}"
            )
        self.cost_budget = positive(owner, "cost_budget", cost_budget)
        self.cost = positive(owner, "cost", cost, allow_zero=True)
        self.max_data_age = max_age(owner, max_data_age)

    @property
    def budget_rate(self) -> float:
        """The budget spread over the period, USD per year."""
        return self.cost_budget / (self.deadline - self.start)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where net delta is outside the budget-affordable band inside the range."""
        owner = "IntentBand"
        refusal = screen(view, owner, self.max_data_age, ["forecast_vol"], options=True)
        vol, gamma, _, code = _forecast_greeks(view, owner, refusal)
        affordable = budget_halfwidth(
            view.spot_or_one(), gamma, vol, self.cost, self.budget_rate
        )
        half = np.minimum(affordable, 0.5 * (self.upper - self.lower))
        centre = np.full(view.size, 0.5 * (self.upper + self.lower))
        outside, band = delta_band_target(view.net_delta, centre, half, "edge")
        active = (view.time >= self.start) & (view.time <= self.deadline)
        return finish(owner, outside & active, Reason.DELTA_BAND, code, delta=band)


def _finite(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
    return number


class ForecastFeed:
    """Hand a policy the forecast known at each decision time, from a precomputed series.

    Rule: ``view.forecast_vol`` is replaced by ``forecast_vol[k]`` of the latest ``k`` with
    ``times[k] <= view.time`` and ``view.time - times[k] <= max_age`` (NaN otherwise, which the
    wrapped policy refuses), and the wrapped policy decides. With ``times`` the origins of a
    walk-forward (``hedgekeeper.forecast.walk_forward``: each forecast made from data strictly
    before its origin) this puts a forecaster refitted walk-forward inside any replay or
    backtest that drives policies, without look-ahead and without the replay knowing about
    forecasts. Pure: the series is a parameter, the output depends only on the view.

    Parameters
    ----------
    policy : the policy that reads ``view.forecast_vol`` (e.g. :class:`PredictiveBand`).
    times : (m,) strictly increasing origins, years since the epoch.
    forecast_vol : (m,) annualised forecast volatility at each origin, fraction (NaN allowed:
        no forecast).
    max_age : years a forecast stays usable (default one day).
    """

    def __init__(
        self,
        policy: Policy,
        times: npt.ArrayLike,
        forecast_vol: npt.ArrayLike,
        max_age: float = 1.0 / 365.0,
    ) -> None:
        owner = "ForecastFeed"
        if not isinstance(policy, Policy):
            raise ValueError(f"{owner}: policy must be a Policy, got {policy!r}")
        self.policy = policy
        stamps = np.array(times, dtype=np.float64)
        vols = np.array(forecast_vol, dtype=np.float64)
        if stamps.ndim != 1 or stamps.size == 0 or not np.all(np.isfinite(stamps)):
            raise ValueError(f"{owner}: times must be a non-empty 1-d array of finite years")
        if np.any(np.diff(stamps) <= 0):
            raise ValueError(f"{owner}: times must be strictly increasing")
        if vols.shape != stamps.shape:
            raise ValueError(
                f"{owner}: forecast_vol must have shape {stamps.shape} like times, "
                f"got {vols.shape}"
            )
        stamps.setflags(write=False)
        vols.setflags(write=False)
        self.times = stamps
        self.forecast_vol = vols
        self.max_age = positive(owner, "max_age", max_age)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Decide with ``view.forecast_vol`` set from the series as of ``view.time``."""
        time = safe(view.time, -np.inf)
        index = np.searchsorted(self.times, time, side="right") - 1
        found = index >= 0
        at = np.maximum(index, 0)
        fresh = found & (time - self.times[at] <= self.max_age)
        vol = np.where(fresh, self.forecast_vol[at], np.nan)
        return self.policy.decide(dataclasses.replace(view, forecast_vol=vol))
