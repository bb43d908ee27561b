"""Path-by-path delta-hedging kernels: a numba loop and the numpy reference beside it.

These run the fixed rules the Monte Carlo engine recognises without calling a policy object:
rebalance on a schedule (every grid date, or every ``interval`` years like
:class:`~hedgekeeper.policies.Calendar` without ``align_to``) or when net delta leaves a fixed
band (:class:`~hedgekeeper.policies.DeltaBand`). The generic engine in
:mod:`hedgekeeper.sim.montecarlo` calls the policy objects instead; the tests check that all
three give the same numbers for the same rule.

Accounting (per path, USD, all flows into one cash account ``B`` that earns ``rate``):

* ``t_0``: ``B = -Σ q_i V_i`` (premium received for written options, paid for bought ones),
  ``V_i`` the Black-Scholes value at the leg's pricing vol.
* each step ``t_{k-1} -> t_k``: ``B *= exp(r Δt)``; with a perpetual hedge ``B += h (S_k -
  S_{k-1}) - h S_{k-1} f_{k-1} Δt`` (variation margin and funding, ``f`` annualised, longs pay
  when ``f > 0``).
* legs whose expiry is ``t_k`` pay ``q_i max(w_i (S_k - K_i), 0)`` into ``B``.
* decision at ``t_k`` (``k < K``): net delta ``x = h + Σ_alive q_i Δ_i``; if the rule fires,
  trade ``u = target - x`` (underlying: ``B -= u S_k``), pay
  ``c(u) = |u| S_k (λ + η σ_d (|u| / V_d)^β)`` (proportional fee + half spread ``λ``, square
  root impact), ``h += u``.
* ``t_K``: legs not yet expired are marked at Black-Scholes value; the hedge is unwound
  (underlying: ``B += h S_K``), paying ``c(h)``, or with physical settlement
  ``c(h + Σ q_i w_i)`` over the legs expiring in the money at ``t_K`` (their delivery uses
  that much of the hedge; the cash flows are the same as cash settlement).
* ``pnl_pv = B exp(-r (t_K - t_0))``: the present value of the hedged book's P&L.

Rules: ``RULE_SCHEDULE`` fires at ``t_0`` and whenever ``t_k - t_last >= interval - 1e-9``
(``interval <= 0``: every date); ``RULE_DELTA_BAND`` fires when ``|x| > w`` with ``w`` the
half-width in coin (or ``halfwidth / S_k`` in USD) and trades to 0 or to the nearest edge.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

from hedgekeeper.pricing._jit import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

RULE_SCHEDULE = 0
"""Rebalance on a schedule (``interval`` years; every grid date when ``interval <= 0``)."""
RULE_DELTA_BAND = 1
"""Rebalance when net delta leaves ``± halfwidth``."""

TIME_TOLERANCE = 1e-9
"""Years of slack in schedule comparisons (``hedgekeeper.policies.calendar.TIME_TOLERANCE``)."""

_SQRT1_2 = 1.0 / math.sqrt(2.0)


@njit
def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x * _SQRT1_2)


@njit
def _bs_value(
    spot: float, strike: float, tau: float, rate: float, vol: float, kind: float
) -> float:
    s = vol * math.sqrt(tau)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * tau) / s
    d2 = d1 - s
    disc = math.exp(-rate * tau)
    if kind > 0.0:
        return spot * _norm_cdf(d1) - strike * disc * _norm_cdf(d2)
    return strike * disc * _norm_cdf(-d2) - spot * _norm_cdf(-d1)


@njit
def _trade_cost(
    size: float,
    spot: float,
    linear_cost: float,
    impact_coef: float,
    impact_beta: float,
    daily_volume: float,
) -> float:
    cost = size * spot * linear_cost
    if impact_coef > 0.0 and size > 0.0:
        cost += size * spot * impact_coef * (size / daily_volume) ** impact_beta
    return cost


@njit
def delta_hedge_kernel(
    spot: FloatArray,
    log_spot: FloatArray,
    times: FloatArray,
    strike: FloatArray,
    expiry: FloatArray,
    vol: FloatArray,
    kind: FloatArray,
    quantity: FloatArray,
    settle_step: IntArray,
    rate: float,
    funding: FloatArray,
    perpetual: bool,
    rule: int,
    interval: float,
    halfwidth: float,
    halfwidth_usd: bool,
    to_edge: bool,
    linear_cost: float,
    impact_coef: float,
    impact_beta: float,
    daily_volume: float,
    physical: bool,
    out: FloatArray,
) -> None:
    """Hedge every path; see the module docstring for the accounting and the rules.

    Parameters
    ----------
    spot : (n, K + 1) USD per coin on the grid ``times``.
    log_spot : ``ln(spot)``, same shape (computed by numpy outside, where it is vectorised).
    times : (K + 1,) years, increasing; discounting runs from ``times[0]``. The schedule rule
        compares these, so pass the same origin the policy engine uses (years since the epoch)
        to see identical numbers.
    strike, expiry, vol, kind, quantity : (L,) option legs; expiry in the units of ``times``,
        kind +1.0 call / -1.0 put, quantity signed (negative written).
    settle_step : (L,) grid index at which each leg expires; ``K + 1`` if after the horizon.
    rate : continuously compounded, per year.
    funding : (1 or n, K) annualised funding rate per step (read only if ``perpetual``).
    rule, interval, halfwidth, halfwidth_usd, to_edge : the rebalancing rule.
    linear_cost : proportional fee plus half spread, fraction of notional.
    impact_coef : ``η σ_d`` of the square-root impact (0 for none); impact_beta ``β``;
        daily_volume ``V_d`` in coin.
    physical : options expiring at the horizon in the money are settled by delivering the
        underlying, so only ``hedge + Σ q_i w_i`` (over those legs) is traded at the horizon;
        otherwise (cash settlement) the whole hedge is unwound.
    out : (7, n) written: pnl_pv, transaction_cost_pv, funding_pv, rebalances, turnover_coin,
        turnover_usd, max_abs_delta_deviation (largest ``|x|`` before trading at the decision
        dates after the first; the unhedged book at ``t_0`` is left out).
    """
    n_paths = spot.shape[0]
    last = spot.shape[1] - 1
    n_legs = strike.shape[0]
    per_path_funding = funding.shape[0] > 1
    # Per-date constants shared by every path: discount and growth factors, and for each live
    # leg d1 = (ln S - ln K + drift) * inv_spread, 1 / inv_spread = vol sqrt(tau),
    # drift = (r + vol^2/2) tau.
    disc = np.empty(last + 1)
    growth = np.ones(last + 1)
    inv_spread = np.ones((last + 1, n_legs))
    drift = np.zeros((last + 1, n_legs))
    log_strike = np.log(strike)
    for k in range(last + 1):
        disc[k] = math.exp(-rate * (times[k] - times[0]))
        if k > 0:
            growth[k] = math.exp(rate * (times[k] - times[k - 1]))
        for i in range(n_legs):
            if settle_step[i] > k:
                tau = expiry[i] - times[k]
                inv_spread[k, i] = 1.0 / (vol[i] * math.sqrt(tau))
                drift[k, i] = (rate + 0.5 * vol[i] * vol[i]) * tau
    for p in range(n_paths):
        row = p if per_path_funding else 0
        cash = 0.0
        hedge = 0.0
        cost_pv = 0.0
        funding_pv = 0.0
        count = 0.0
        turnover = 0.0
        turnover_usd = 0.0
        max_dev = 0.0
        last_time = math.nan
        s0 = spot[p, 0]
        for i in range(n_legs):
            if settle_step[i] > 0:
                tau0 = expiry[i] - times[0]
                cash -= quantity[i] * _bs_value(s0, strike[i], tau0, rate, vol[i], kind[i])
        for k in range(last + 1):
            s = spot[p, k]
            if k > 0:
                cash *= growth[k]
                if perpetual:
                    dt = times[k] - times[k - 1]
                    s_prev = spot[p, k - 1]
                    paid = hedge * s_prev * funding[row, k - 1] * dt
                    cash += hedge * (s - s_prev) - paid
                    funding_pv += paid * disc[k]
            delivered = 0.0
            for i in range(n_legs):
                if settle_step[i] == k:
                    intrinsic = kind[i] * (s - strike[i])
                    if intrinsic > 0.0:
                        cash += quantity[i] * intrinsic
                        delivered += quantity[i] * kind[i]
            if k == last:
                for i in range(n_legs):
                    if settle_step[i] > k:
                        tau = expiry[i] - times[k]
                        cash += quantity[i] * _bs_value(s, strike[i], tau, rate, vol[i], kind[i])
                if not perpetual:
                    cash += hedge * s
                size = abs(hedge + delivered) if physical else abs(hedge)
                if size > 0.0:
                    c = _trade_cost(size, s, linear_cost, impact_coef, impact_beta, daily_volume)
                    cash -= c
                    cost_pv += c * disc[k]
                    turnover += size
                    turnover_usd += size * s
                break
            net = hedge
            log_s = log_spot[p, k]
            for i in range(n_legs):
                if settle_step[i] > k:
                    d1 = (log_s - log_strike[i] + drift[k, i]) * inv_spread[k, i]
                    if kind[i] > 0.0:
                        net += quantity[i] * _norm_cdf(d1)
                    else:
                        net -= quantity[i] * _norm_cdf(-d1)
            dev = abs(net)
            if k > 0 and dev > max_dev:
                max_dev = dev
            fire = False
            target = 0.0
            if rule == RULE_SCHEDULE:
                fire = (
                    math.isnan(last_time)
                    or interval <= 0.0
                    or times[k] - last_time >= interval - TIME_TOLERANCE
                )
            else:
                width = halfwidth / s if halfwidth_usd else halfwidth
                if net < -width or net > width:
                    fire = True
                    if to_edge:
                        target = width if net > width else -width
            if fire:
                trade = target - net
                hedge += trade
                if not perpetual:
                    cash -= trade * s
                size = abs(trade)
                c = _trade_cost(size, s, linear_cost, impact_coef, impact_beta, daily_volume)
                cash -= c
                cost_pv += c * disc[k]
                count += 1.0
                turnover += size
                turnover_usd += size * s
                last_time = times[k]
        out[0, p] = cash * disc[last]
        out[1, p] = cost_pv
        out[2, p] = funding_pv
        out[3, p] = count
        out[4, p] = turnover
        out[5, p] = turnover_usd
        out[6, p] = max_dev


def _norm_cdf_np(x: FloatArray) -> FloatArray:
    return np.asarray(special.ndtr(x), dtype=np.float64)


def _bs_value_np(
    spot: FloatArray, strike: float, tau: float, rate: float, vol: float, kind: float
) -> FloatArray:
    s = vol * math.sqrt(tau)
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * tau) / s
    d2 = d1 - s
    disc = math.exp(-rate * tau)
    if kind > 0.0:
        return spot * _norm_cdf_np(d1) - strike * disc * _norm_cdf_np(d2)
    return strike * disc * _norm_cdf_np(-d2) - spot * _norm_cdf_np(-d1)


def _bs_delta_np(
    spot: FloatArray, strike: float, tau: float, rate: float, vol: float, kind: float
) -> FloatArray:
    s = vol * math.sqrt(tau)
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * tau) / s
    return _norm_cdf_np(d1) if kind > 0.0 else -_norm_cdf_np(-d1)


def delta_hedge_numpy(
    spot: FloatArray,
    log_spot: FloatArray,
    times: FloatArray,
    strike: FloatArray,
    expiry: FloatArray,
    vol: FloatArray,
    kind: FloatArray,
    quantity: FloatArray,
    settle_step: IntArray,
    rate: float,
    funding: FloatArray,
    perpetual: bool,
    rule: int,
    interval: float,
    halfwidth: float,
    halfwidth_usd: bool,
    to_edge: bool,
    linear_cost: float,
    impact_coef: float,
    impact_beta: float,
    daily_volume: float,
    physical: bool,
    out: FloatArray,
) -> None:
    """The numpy reference of :func:`delta_hedge_kernel`: same arguments and output, loops over
    the grid dates and vectorises across paths (``log_spot`` is not used: d1 is formed from
    ``spot / strike`` directly)."""
    n_paths, columns = spot.shape
    last = columns - 1

    def cost_of(size: FloatArray, s: FloatArray) -> FloatArray:
        cost = size * s * linear_cost
        if impact_coef > 0.0:
            cost = cost + size * s * impact_coef * (size / daily_volume) ** impact_beta
        return cost

    cash = np.zeros(n_paths)
    hedge = np.zeros(n_paths)
    cost_pv = np.zeros(n_paths)
    funding_pv = np.zeros(n_paths)
    count = np.zeros(n_paths)
    turnover = np.zeros(n_paths)
    turnover_usd = np.zeros(n_paths)
    max_dev = np.zeros(n_paths)
    last_time = np.full(n_paths, np.nan)
    for i in range(strike.shape[0]):
        if settle_step[i] > 0:
            value = _bs_value_np(spot[:, 0], strike[i], expiry[i] - times[0], rate, vol[i], kind[i])
            cash -= quantity[i] * value
    for k in range(last + 1):
        s = spot[:, k]
        disc = math.exp(-rate * (times[k] - times[0]))
        if k > 0:
            dt = times[k] - times[k - 1]
            cash *= math.exp(rate * dt)
            if perpetual:
                s_prev = spot[:, k - 1]
                paid = hedge * s_prev * funding[:, k - 1] * dt
                cash += hedge * (s - s_prev) - paid
                funding_pv += paid * disc
        delivered = np.zeros(n_paths)
        for i in range(strike.shape[0]):
            if settle_step[i] == k:
                intrinsic = kind[i] * (s - strike[i])
                cash += quantity[i] * np.maximum(intrinsic, 0.0)
                delivered += np.where(intrinsic > 0.0, quantity[i] * kind[i], 0.0)
        if k == last:
            for i in range(strike.shape[0]):
                if settle_step[i] > k:
                    tau = expiry[i] - times[k]
                    cash += quantity[i] * _bs_value_np(s, strike[i], tau, rate, vol[i], kind[i])
            if not perpetual:
                cash += hedge * s
            size = np.abs(hedge + delivered) if physical else np.abs(hedge)
            c = cost_of(size, s)
            cash -= c
            cost_pv += c * disc
            turnover += size
            turnover_usd += size * s
            break
        net = hedge.copy()
        for i in range(strike.shape[0]):
            if settle_step[i] > k:
                tau = expiry[i] - times[k]
                net += quantity[i] * _bs_delta_np(s, strike[i], tau, rate, vol[i], kind[i])
        if k > 0:
            max_dev = np.maximum(max_dev, np.abs(net))
        target = np.zeros(n_paths)
        if rule == RULE_SCHEDULE:
            with np.errstate(invalid="ignore"):
                due = times[k] - last_time >= interval - TIME_TOLERANCE
            fire = np.isnan(last_time) | (interval <= 0.0) | due
        else:
            width = halfwidth / s if halfwidth_usd else np.full(n_paths, halfwidth)
            fire = (net < -width) | (net > width)
            if to_edge:
                target = np.where(net > width, width, -width)
        trade = np.where(fire, target - net, 0.0)
        hedge += trade
        if not perpetual:
            cash -= trade * s
        size = np.abs(trade)
        c = cost_of(size, s)
        cash -= c
        cost_pv += c * disc
        count += fire
        turnover += size
        turnover_usd += size * s
        last_time = np.where(fire, times[k], last_time)
    out[0] = cash * math.exp(-rate * (times[last] - times[0]))
    out[1] = cost_pv
    out[2] = funding_pv
    out[3] = count
    out[4] = turnover
    out[5] = turnover_usd
    out[6] = max_dev
