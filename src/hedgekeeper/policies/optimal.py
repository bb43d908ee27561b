"""Optimal delta-hedging bands for option books under proportional transaction costs.

Three classical results, each as a broadcasting function and a policy:

* Whalley & Wilmott (1997): asymptotic no-trade band around the Black-Scholes delta.
* Zakamouline (2006): a fitted closed-form approximation of the exact utility-based band,
  centred on the delta at a modified volatility.
* Leland (1985): hedge at fixed intervals with the delta at a cost-adjusted volatility.

Units: spot and strike in USD, gamma in coin per USD (shares per dollar), times in years,
volatilities and rates as fractions, ``cost`` the one-way proportional cost (0.001 = 10 bp of
traded notional), ``risk_aversion`` the absolute (CARA) risk aversion in 1/USD. Because the
risk aversion is absolute, the bands depend on the price scale: gamma ~ 1/S and the band in
coin is invariant under rescaling USD only when ``risk_aversion`` is rescaled by the same factor.
"""

from __future__ import annotations

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
    OptionLegs,
    PolicyView,
    Reason,
)
from hedgekeeper.policies.calendar import schedule_due
from hedgekeeper.pricing._inputs import as_float, as_kind, broadcast, require
from hedgekeeper.pricing.black import black_scholes

ArrayLike = npt.ArrayLike

# Zakamouline (2006) regression constants (see zakamouline_band).
_ZAK_K = 4.76
_ZAK_K_COST = 0.78
_ZAK_K_T = 0.02
_ZAK_K_RISK = 0.15
_ZAK_H1 = 1.12
_ZAK_H1_COST = 0.31
_ZAK_H1_T = 0.05
_ZAK_DISCOUNT = 0.25


# ---------------------------------------------------------------- band formulas


def whalley_wilmott_halfwidth(
    spot: ArrayLike,
    gamma: ArrayLike,
    cost: ArrayLike,
    risk_aversion: ArrayLike,
    rate: ArrayLike,
    t: ArrayLike,
) -> FloatArray:
    r"""Half-width of the Whalley-Wilmott no-trade band, in units of the underlying (coin).

    .. math::
        H = \left(\frac{3}{2}\, e^{-r\tau}\, \frac{\lambda\, S\, \Gamma^2}{\gamma}\right)^{1/3}

    Whalley, A. E. & Wilmott, P. (1997), "An asymptotic analysis of an optimal hedging model for
    option pricing with transaction costs", *Mathematical Finance* 7(3), 307-324, eq. for the
    hedging bandwidth (also Wilmott, *Paul Wilmott on Quantitative Finance*, 2nd ed., ch. 48).
    The hedge holding stays within ``Δ ± H``; outside it, trade back to the nearest edge.

    Parameters
    ----------
    spot : underlying price S, USD, > 0.
    gamma : gamma Γ of the position to hedge, coin per USD (sign irrelevant).
    cost : one-way proportional cost λ, fraction of notional, >= 0.
    risk_aversion : absolute risk aversion γ, 1/USD, > 0.
    rate : continuously compounded rate r, fraction per year.
    t : time to expiry τ, years, >= 0.

    Returns
    -------
    ndarray of float64, broadcast shape: H in coin. Properties: grows like λ^(1/3), like
    |Γ|^(2/3), falls like γ^(-1/3); in spot-move units ``H / |Γ|`` falls like |Γ|^(-1/3).
    """
    values = broadcast(
        {
            "spot": as_float("spot", spot),
            "gamma": as_float("gamma", gamma),
            "cost": as_float("cost", cost),
            "risk_aversion": as_float("risk_aversion", risk_aversion),
            "rate": as_float("rate", rate),
            "t": as_float("t", t),
        }
    )
    s, g, lam, gam, r, tau = (np.array(v, dtype=np.float64) for v in values)
    require("spot", np.isfinite(s) & (s > 0), "finite and > 0", s)
    require("gamma", np.isfinite(g), "finite", g)
    require("cost", np.isfinite(lam) & (lam >= 0), "finite and >= 0", lam)
    require("risk_aversion", np.isfinite(gam) & (gam > 0), "finite and > 0", gam)
    require("rate", np.isfinite(r), "finite", r)
    require("t", np.isfinite(tau) & (tau >= 0), "finite and >= 0", tau)
    return np.asarray(np.cbrt(1.5 * np.exp(-r * tau) * lam * s * g * g / gam), dtype=np.float64)


def _zakamouline_terms(
    spot: FloatArray,
    gamma_abs: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    vol: FloatArray,
    cost: FloatArray,
    risk_aversion: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(K, H0, H1) of Zakamouline (2006); see :func:`zakamouline_band`."""
    discount = (np.exp(-rate * t) / vol) ** _ZAK_DISCOUNT
    k = (
        -_ZAK_K
        * cost**_ZAK_K_COST
        / t**_ZAK_K_T
        * discount
        * (risk_aversion * spot**2 * gamma_abs) ** _ZAK_K_RISK
    )
    h0 = cost / (risk_aversion * spot * vol**2 * t)
    h1 = _ZAK_H1 * cost**_ZAK_H1_COST * t**_ZAK_H1_T * discount * np.sqrt(gamma_abs / risk_aversion)
    return k, h0, h1


def zakamouline_band(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    kind: npt.ArrayLike | str,
    cost: ArrayLike,
    risk_aversion: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    r"""Zakamouline's hedging band for a SHORT position in one European option.

    Returns the lower and upper bound of the hedge holding (units of underlying held per option
    written):

    .. math::
        \delta^\pm = \Delta_{BS}(\sigma_m) \pm (H_0 + H_1),\qquad
        \sigma_m^2 = \sigma^2 (1 - K),

        K = -4.76\, \frac{\lambda^{0.78}}{\tau^{0.02}}
            \left(\frac{e^{-r\tau}}{\sigma}\right)^{0.25} (\gamma S^2 |\Gamma|)^{0.15},\quad
        H_0 = \frac{\lambda}{\gamma S \sigma^2 \tau},\quad
        H_1 = 1.12\, \lambda^{0.31} \tau^{0.05}
            \left(\frac{e^{-r\tau}}{\sigma}\right)^{0.25} \left(\frac{|\Gamma|}{\gamma}\right)^{0.5}

    with Γ the Black-Scholes gamma at σ. K < 0, so a writer hedges with a higher volatility
    (as in Leland); a holder of the option would use σ²(1 + K) (see :class:`ZakamoulineBand`).

    Source: V. I. Zakamouline (2006), "Efficient analytic approximation of the optimal hedging
    strategy for a European call option with transaction costs", *Quantitative Finance* 6(5),
    435-445 (working paper "Optimal hedging of options with transaction costs", EFMA 2005),
    which fits these forms to the exact utility-based band of his (2006) *J. Econ. Dyn.
    Control* 30 model; reproduced in E. Sinclair, *Volatility Trading*, 2nd ed. (2013), ch. 7.
    The constants are the paper's regression estimates.

    Parameters
    ----------
    spot : S, USD, > 0.
    strike : K, USD, > 0.
    t : time to expiry τ, years, > 0.
    rate : continuously compounded r, fraction per year (no dividend/carry).
    vol : σ, annualised fraction, > 0.
    kind : ``"call"``/``"put"``, ``"c"``/``"p"`` or +1/-1.
    cost : one-way proportional cost λ, fraction, >= 0.
    risk_aversion : absolute risk aversion γ, 1/USD, > 0.

    Returns
    -------
    (lower, upper) : ndarrays of float64, broadcast shape, in units of underlying.
    """
    kinds = as_kind(kind)
    values = broadcast(
        {
            "spot": as_float("spot", spot),
            "strike": as_float("strike", strike),
            "t": as_float("t", t),
            "rate": as_float("rate", rate),
            "vol": as_float("vol", vol),
            "kind": kinds,
            "cost": as_float("cost", cost),
            "risk_aversion": as_float("risk_aversion", risk_aversion),
        }
    )
    s, k_strike, tau, r, sigma, _, lam, gam = (np.array(v, dtype=np.float64) for v in values)
    kinds_b = np.array(values[5])
    require("spot", np.isfinite(s) & (s > 0), "finite and > 0", s)
    require("strike", np.isfinite(k_strike) & (k_strike > 0), "finite and > 0", k_strike)
    require("t", np.isfinite(tau) & (tau > 0), "finite and > 0", tau)
    require("rate", np.isfinite(r), "finite", r)
    require("vol", np.isfinite(sigma) & (sigma > 0), "finite and > 0", sigma)
    require("cost", np.isfinite(lam) & (lam >= 0), "finite and >= 0", lam)
    require("risk_aversion", np.isfinite(gam) & (gam > 0), "finite and > 0", gam)
    gamma = np.asarray(black_scholes(s, k_strike, tau, r, sigma, kinds_b).gamma)
    k, h0, h1 = _zakamouline_terms(s, np.abs(gamma), tau, r, sigma, lam, gam)
    vol_modified = sigma * np.sqrt(1.0 - k)
    centre = np.asarray(black_scholes(s, k_strike, tau, r, vol_modified, kinds_b).delta)
    half = h0 + h1
    return centre - half, centre + half


def leland_vol(
    vol: ArrayLike,
    cost_round_trip: ArrayLike,
    dt: ArrayLike,
    short: bool | npt.ArrayLike = True,
) -> FloatArray:
    r"""Leland's cost-adjusted volatility for hedging at fixed intervals ``dt``.

    .. math::
        \sigma_L^2 = \sigma^2 \left(1 \pm \sqrt{2/\pi}\, \frac{k}{\sigma\sqrt{\Delta t}}\right)

    ``+`` for a net short option position (the writer over-hedges), ``-`` for a net long one.
    Leland, H. E. (1985), "Option pricing and replication with transactions costs", *Journal
    of Finance* 40(5), 1283-1301, eq. (12); k is the round-trip cost as a fraction of the
    traded value (twice the one-way cost λ).

    In the long case the variance is negative once the Leland number
    ``Le = sqrt(2/π) k / (σ sqrt(Δt))`` exceeds 1 (costs too high, or rebalancing too often,
    for the formula to apply); the result is then NaN (as ``implied_vol`` returns NaN where no
    volatility exists). :class:`LelandDelta` refuses such elements with ``REFUSED_MODEL``.

    Parameters
    ----------
    vol : σ, annualised fraction, > 0.
    cost_round_trip : k, fraction of traded value, >= 0.
    dt : rebalancing interval Δt, years, > 0.
    short : True (``+``) for a net short option position, False (``-``) for net long; a bool
        array broadcasts.

    Returns
    -------
    ndarray of float64, broadcast shape: σ_L as an annualised fraction (NaN where undefined).
    """
    values = broadcast(
        {
            "vol": as_float("vol", vol),
            "cost_round_trip": as_float("cost_round_trip", cost_round_trip),
            "dt": as_float("dt", dt),
            "short": _as_bool("short", short).astype(np.float64),
        }
    )
    sigma, k, step, is_short = (np.array(v, dtype=np.float64) for v in values)
    require("vol", np.isfinite(sigma) & (sigma > 0), "finite and > 0", sigma)
    require("cost_round_trip", np.isfinite(k) & (k >= 0), "finite and >= 0", k)
    require("dt", np.isfinite(step) & (step > 0), "finite and > 0", step)
    leland_number = math.sqrt(2.0 / math.pi) * k / (sigma * np.sqrt(step))
    factor = 1.0 + np.where(is_short > 0.5, leland_number, -leland_number)
    return np.asarray(
        np.where(factor >= 0.0, sigma * np.sqrt(np.maximum(factor, 0.0)), np.nan),
        dtype=np.float64,
    )


def _as_bool(name: str, value: object) -> npt.NDArray[np.bool_]:
    array = np.asarray(value)
    if array.dtype != np.bool_:
        raise ValueError(f"{name} must be True/False or a bool array, got {value!r}")
    return array


# ---------------------------------------------------------------- book helpers


def _usable_legs(legs: OptionLegs) -> tuple[BoolArray, BoolArray]:
    """(used, ok): legs with a non-zero quantity, and rows whose used legs have not expired."""
    used = legs.quantity != 0.0
    ok = ~np.any(used & ~(legs.expiry > 0.0), axis=1)
    return used, ok


def _leg_greeks(
    view: PolicyView, legs: OptionLegs, vol: FloatArray, used: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Per-leg Black-Scholes delta and gamma (n, legs), zero on unused or invalid legs."""
    valid = (
        used
        & np.isfinite(legs.strike)
        & (legs.strike > 0)
        & (legs.expiry > 0)
        & np.isfinite(vol)
        & (vol > 0)
        & np.isfinite(view.spot)[:, None]
        & (view.spot > 0)[:, None]
    )
    spot = np.where(valid, view.spot[:, None], 1.0)
    greeks = black_scholes(
        spot,
        np.where(valid, legs.strike, 1.0),
        np.where(valid, legs.expiry, 1.0),
        np.where(valid, _rate(view)[:, None], 0.0),
        np.where(valid, vol, 1.0),
        legs.kind,
    )
    delta = np.where(valid, np.asarray(greeks.delta), 0.0)
    gamma = np.where(valid, np.asarray(greeks.gamma), 0.0)
    return delta, gamma


def _rate(view: PolicyView) -> FloatArray:
    return np.zeros(view.size) if view.rate is None else safe(view.rate, 0.0)


def _gamma_weighted(values: FloatArray, weight: FloatArray, used: BoolArray) -> FloatArray:
    """Average of ``values`` over each row's used legs, weighted by ``weight`` (|q Γ|); plain
    mean of used legs when all weights are zero; NaN for rows without used legs."""
    w = np.where(used, weight, 0.0)
    total = w.sum(axis=1)
    w = np.where((total > 0)[:, None], w, np.where(used, 1.0, 0.0))
    norm = w.sum(axis=1)
    weighted = (w * np.where(used, values, 0.0)).sum(axis=1)
    return np.where(norm > 0, weighted / np.where(norm > 0, norm, 1.0), np.nan)


# ---------------------------------------------------------------- policies


class WhalleyWilmottBand:
    """Delta band of half-width ``whalley_wilmott_halfwidth`` around the target net delta.

    Rule: ``H = (3/2 e^{-rτ} λ S Γ² / γ)^{1/3}`` with Γ = ``view.gamma`` (the book's net gamma)
    and S = ``view.spot``; fire when ``|net_delta - target_delta| > H`` and trade to the
    nearest edge (the optimal action in Whalley & Wilmott's analysis) or to the centre. τ is
    the book's |qΓ|-weighted time to expiry from ``view.options``; ``view.options`` is required
    only when ``view.rate`` is given (with r = 0 the discount factor is 1 whatever τ).

    Parameters
    ----------
    cost : one-way proportional cost λ of the hedge instrument, fraction, >= 0.
    risk_aversion : absolute risk aversion γ, 1/USD, > 0.
    hedge_to : ``"edge"`` (default) or ``"centre"``.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        cost: float,
        risk_aversion: float,
        hedge_to: HedgeTo = "edge",
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        self.cost = positive("WhalleyWilmottBand", "cost", cost, allow_zero=True)
        self.risk_aversion = positive("WhalleyWilmottBand", "risk_aversion", risk_aversion)
        self.hedge_to = choice("WhalleyWilmottBand", "hedge_to", hedge_to, ("centre", "edge"))
        self.max_data_age = max_age("WhalleyWilmottBand", max_data_age)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where net delta is outside the Whalley-Wilmott band."""
        owner = "WhalleyWilmottBand"
        fields = ["gamma", *present(view, ("target_delta", "rate"))]
        with_options = view.rate is not None
        refusal = screen(view, owner, self.max_data_age, fields, options=with_options)
        gamma = safe(view.require("gamma", owner), 0.0)
        tau = np.zeros(view.size)
        if with_options and view.options is not None:
            legs = view.options
            used, ok = _usable_legs(legs)
            _, leg_gamma = _leg_greeks(view, legs, legs.vol, used)
            tau = _gamma_weighted(legs.expiry, np.abs(legs.quantity * leg_gamma), used)
            refusal = _model_refusal(refusal, ok & np.isfinite(tau))
            tau = safe(tau, 0.0)
        half = whalley_wilmott_halfwidth(
            view.spot_or_one(),
            gamma,
            self.cost,
            self.risk_aversion,
            _rate(view),
            np.maximum(tau, 0.0),
        )
        outside, band = delta_band_target(
            view.net_delta, view.target_delta_or_zero(), half, self.hedge_to
        )
        return finish(owner, outside, Reason.DELTA_BAND, refusal, delta=band)


class ZakamoulineBand:
    """Zakamouline's band on the net delta of an option book (see :func:`zakamouline_band`).

    For a book of legs ``q_i`` (positive long) the paper's single-option formulas are applied
    to the position's gamma ``Γ_p = Σ q_i Γ_i`` (Black-Scholes at each leg's vol), which is
    exact for one leg of any size under CARA utility (a position of q options with risk
    aversion γ hedges like q times one option with risk aversion qγ). The book is short when
    ``Γ_p < 0``: σ_m,i² = σ_i²(1 - K), else σ_i²(1 + K) (Zakamouline's long-position case).
    For legs with different expiries or vols, τ and σ in K, H0 and H1 are the |q_i Γ_i|-weighted
    averages (this project's extension; exact for a single expiry and vol).

    Hedge band on the holding: ``-Σ q_i Δ_i(σ_m,i) ± (H0 + H1)``. In net-delta terms (net delta
    computed at each leg's own vol, as in ``view.net_delta``) the band is
    ``target_delta + Σ q_i (Δ_i(σ_i) - Δ_i(σ_m,i)) ± (H0 + H1)``. Books with no option legs,
    expired legs, or a long-side 1 + K < 0 are refused with ``REFUSED_MODEL``.

    Parameters
    ----------
    cost : one-way proportional cost λ, fraction, >= 0.
    risk_aversion : absolute risk aversion γ, 1/USD, > 0.
    hedge_to : ``"edge"`` (default, as in the paper) or ``"centre"``.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        cost: float,
        risk_aversion: float,
        hedge_to: HedgeTo = "edge",
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        self.cost = positive("ZakamoulineBand", "cost", cost, allow_zero=True)
        self.risk_aversion = positive("ZakamoulineBand", "risk_aversion", risk_aversion)
        self.hedge_to = choice("ZakamoulineBand", "hedge_to", hedge_to, ("centre", "edge"))
        self.max_data_age = max_age("ZakamoulineBand", max_data_age)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire where net delta is outside Zakamouline's band."""
        owner = "ZakamoulineBand"
        fields = present(view, ("target_delta", "rate"))
        refusal = screen(view, owner, self.max_data_age, fields, options=True)
        legs = view.require_options(owner)
        used, ok = _usable_legs(legs)
        delta, gamma = _leg_greeks(view, legs, legs.vol, used)
        position_gamma = np.sum(legs.quantity * gamma, axis=1)
        weight = np.abs(legs.quantity * gamma)
        tau = _gamma_weighted(legs.expiry, weight, used)
        sigma = _gamma_weighted(legs.vol, weight, used)
        spot = view.spot_or_one()
        rate = _rate(view)
        good = ok & np.isfinite(tau) & np.isfinite(sigma) & (tau > 0) & (sigma > 0)
        tau, sigma = np.where(good, tau, 1.0), np.where(good, sigma, 1.0)
        k, h0, h1 = _zakamouline_terms(
            spot,
            np.abs(position_gamma),
            tau,
            rate,
            sigma,
            np.full(view.size, self.cost),
            np.full(view.size, self.risk_aversion),
        )
        factor = np.where(position_gamma < 0.0, 1.0 - k, 1.0 + k)
        good &= factor > 0.0
        vol_modified = legs.vol * np.sqrt(np.where(good, factor, 1.0))[:, None]
        delta_modified, _ = _leg_greeks(view, legs, vol_modified, used)
        shift = np.sum(legs.quantity * (delta - delta_modified), axis=1)
        centre = view.target_delta_or_zero() + shift
        outside, band = delta_band_target(view.net_delta, centre, h0 + h1, self.hedge_to)
        return finish(owner, outside, Reason.DELTA_BAND, _model_refusal(refusal, good), delta=band)


class LelandDelta:
    """Hedge every ``interval`` to the delta at Leland's adjusted volatility.

    Rule (Leland 1985): at each rebalancing date (a calendar of step Δt = ``interval``, as in
    :class:`~hedgekeeper.policies.Calendar`) set the hedge to ``-Σ q_i Δ_i(σ_L,i)`` with
    ``σ_L,i = leland_vol(σ_i, k, Δt, short=Γ_p < 0)``, Γ_p the book's gamma. In net-delta terms
    the target is ``target_delta + Σ q_i (Δ_i(σ_i) - Δ_i(σ_L,i))``. Elements where σ_L is
    undefined (net long, Leland number > 1) or a leg has expired are refused with
    ``REFUSED_MODEL``; books need ``view.options`` and ``view.last_rebalance_time``.

    Parameters
    ----------
    cost_round_trip : k, round-trip proportional cost, fraction, >= 0.
    interval : Δt, years between rebalances, > 0.
    max_data_age : years; older market data is refused (default five minutes).
    """

    def __init__(
        self,
        cost_round_trip: float,
        interval: float,
        max_data_age: float = DEFAULT_MAX_DATA_AGE,
    ) -> None:
        self.cost_round_trip = positive(
            "LelandDelta", "cost_round_trip", cost_round_trip, allow_zero=True
        )
        self.interval = positive("LelandDelta", "interval", interval)
        self.max_data_age = max_age("LelandDelta", max_data_age)

    def decide(self, view: PolicyView) -> HedgeTarget | None:
        """Fire on the Δt schedule; target the Leland delta."""
        owner = "LelandDelta"
        fields = present(view, ("target_delta", "rate"))
        refusal = screen(view, owner, self.max_data_age, fields, options=True)
        last = view.require("last_rebalance_time", owner)
        legs = view.require_options(owner)
        used, ok = _usable_legs(legs)
        delta, gamma = _leg_greeks(view, legs, legs.vol, used)
        short = np.sum(legs.quantity * gamma, axis=1) < 0.0
        vol = np.where(used & (legs.vol > 0) & np.isfinite(legs.vol), legs.vol, 1.0)
        vol_leland = leland_vol(vol, self.cost_round_trip, self.interval, short[:, None])
        good = ok & np.all(~used | np.isfinite(vol_leland), axis=1)
        delta_leland, _ = _leg_greeks(view, legs, safe(vol_leland), used)
        target = view.target_delta_or_zero() + np.sum(
            legs.quantity * (delta - delta_leland), axis=1
        )
        due = schedule_due(safe(view.time), last, self.interval, None)
        return finish(
            owner,
            due,
            Reason.SCHEDULE,
            _model_refusal(refusal, good),
            delta=(target, target, target),
        )


def _model_refusal(refusal: IntArray, ok: BoolArray) -> IntArray:
    """Add ``REFUSED_MODEL`` where ``ok`` is False and nothing else refused already."""
    return np.where((refusal == 0) & ~ok, np.int16(Reason.REFUSED_MODEL), refusal).astype(np.int16)
