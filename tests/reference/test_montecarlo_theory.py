"""Monte Carlo hedging engine against the textbook and the theory of discrete delta hedging.

Statistical checks use fixed seeds (deterministic) and tolerances of about four standard errors
or more; each states what it measured when written.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hedgekeeper.pricing.black import black_scholes
from hedgekeeper.sim import GeometricBrownianMotion
from hedgekeeper.sim.montecarlo import OptionBook, simulate_hedge

WEEK = 1.0 / 52.0

# SOURCE: J. C. Hull, *Options, Futures, and Other Derivatives*, section 19.4 "Delta hedging"
# (9th ed. 2015 and 10th ed. 2018), Table 19.4 "Performance of delta hedging. The performance
# measure is the ratio of the standard deviation of the cost of writing the option and hedging
# it to the theoretical price of the option", one million paths: a written call on 100,000
# shares, S = 49, K = 50, r = 0.05, sigma = 0.20, mu = 0.13, T = 20 weeks; Black-Scholes price
# $240,000 (Example 19.1 / section 19.1), i.e. 2.40 per option.
HULL_TABLE_19_4 = {5.0: 0.42, 4.0: 0.38, 2.0: 0.28, 1.0: 0.21, 0.5: 0.16, 0.25: 0.13}
# Measured with 40,000 paths (seed 1904): 0.419, 0.377, 0.269, 0.193, 0.137, 0.0979 (100,000
# paths, seed 1: 0.417, 0.375, 0.269, 0.192, 0.138, 0.0984). The three coarse columns agree with
# Hull's to within 0.011. The fine ones fall below Hull's (0.19 vs 0.21, 0.14 vs 0.16, 0.10 vs
# 0.13) and follow the asymptotic Derman-Kamal value sqrt(pi/4) vega sigma / (sqrt(N) price)
# = 0.894 / sqrt(N) instead (6 % below it at N = 4, 2 % below at N = 80). Hull's fine entries
# shrink by 0.76 and 0.81 per halving of the interval rather than 1/sqrt(2) = 0.71; the book
# does not say what adds that floor, and neither our simulation nor the formula shows it. So
# the coarse columns are checked against Hull, every column against the formula, and the fine
# columns are kept at or below Hull's as a regression guard.


def _hull_paths(n_paths: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    model = GeometricBrownianMotion(drift=0.13, vol=0.20)
    paths = model.simulate(49.0, 0.25 * WEEK, 80, n_paths, seed)
    times = paths.times
    times[-1] = 20 * WEEK
    return np.array(paths.prices), times


def test_hull_table_19_4_delta_hedging_performance() -> None:
    prices, times = _hull_paths(40_000, 1904)
    book = OptionBook.single("call", 50.0, 20 * WEEK, 0.20, position="short")
    greeks = black_scholes(49.0, 50.0, 20 * WEEK, 0.05, 0.20, "call")
    measured = {}
    for weeks, hull in HULL_TABLE_19_4.items():
        every = round(weeks / 0.25)
        result = simulate_hedge(prices[:, ::every], times[::every], book, rate=0.05)
        stats = result.statistics()
        assert stats.option_price == pytest.approx(2.40, abs=0.005)  # Hull: $240,000 / 100,000
        # The mean cost of writing and hedging is about the option price (Hull, section 19.4);
        # with drift mu != r and coarse hedging it is off by a little (0.01-0.03 at 5 weeks).
        standard_error = stats.hedge_cost_std / math.sqrt(stats.paths)
        assert stats.hedge_cost_mean == pytest.approx(
            stats.option_price, abs=4 * standard_error + 0.02
        )
        assert stats.rebalances_mean == 20 / weeks
        n_rebalances = 20 / weeks
        derman_kamal = (
            math.sqrt(math.pi / 4)
            * float(greeks.vega)
            * 0.20
            / math.sqrt(n_rebalances)
            / float(greeks.price)
        )
        measured[weeks] = stats.performance
        assert stats.performance == pytest.approx(derman_kamal, rel=0.08), weeks
        if weeks >= 2.0:
            assert stats.performance == pytest.approx(hull, abs=0.015), weeks
        else:
            assert stats.performance <= hull + 0.005, weeks
    values = list(measured.values())
    assert all(a > b for a, b in itertools.pairwise(values))


# SOURCE: E. Derman and M. Kamal (1999), "When you cannot hedge continuously: the corrections
# of Black-Scholes", Risk 12(1), 82-85 (Goldman Sachs Quantitative Strategies note, 1998):
# with N equally spaced rebalances the standard deviation of the replication error of an
# at-the-money option is approximately sqrt(pi/4) * vega * sigma / sqrt(N), vega = dC/dsigma.
# Measured (20,000 paths, seed 5, S = K = 100, sigma = 0.2, T = 0.25, r = mu = 0):
# std / formula = 0.953, 0.971, 0.981 at N = 25, 100, 400; std ratios 1.965 and 1.979 per
# quadrupling of N (theory 2); log-log slope -0.490.
def test_derman_kamal_hedging_error_shrinks_like_one_over_sqrt_n() -> None:
    spot = strike = 100.0
    vol, expiry = 0.20, 0.25
    fine = GeometricBrownianMotion(drift=0.0, vol=vol).simulate(spot, expiry / 400, 400, 20_000, 5)
    prices, times = np.array(fine.prices), fine.times
    times[-1] = expiry
    book = OptionBook.single("call", strike, expiry, vol)
    vega = float(black_scholes(spot, strike, expiry, 0.0, vol, "call").vega)
    std = {}
    for n_rebalances in (25, 100, 400):
        every = 400 // n_rebalances  # the coarser grids sample the same Brownian paths
        result = simulate_hedge(prices[:, ::every], times[::every], book)
        std[n_rebalances] = float(np.std(result.pnl_pv, ddof=1))
        formula = math.sqrt(math.pi / 4) * vega * vol / math.sqrt(n_rebalances)
        tolerance = 0.06 if n_rebalances == 25 else 0.04
        assert std[n_rebalances] == pytest.approx(formula, rel=tolerance), n_rebalances
    assert std[25] / std[100] == pytest.approx(2.0, rel=0.03)
    assert std[100] / std[400] == pytest.approx(2.0, rel=0.03)
    slope = math.log(std[400] / std[25]) / math.log(16.0)
    assert slope == pytest.approx(-0.5, abs=0.02)


# SOURCE: the P&L of an option hedged at its implied volatility sigma_i while the spot realises
# sigma_r ("fundamental theorem of derivative trading": El Karoui, Jeanblanc-Picque and Shreve
# (1998), Math. Finance 8(2), 93-126, section 4; Ellersgaard, Jonsson and Poulsen (2017),
# Quantitative Finance 17(4), "The fundamental theorem of derivative trading - exposition,
# extensions and experiments", eq. (2)): for a written option bought back by continuous
# delta hedging, discounted P&L = 1/2 int_0^T e^{-rt} Gamma_i(t, S_t) S_t^2 (sigma_i^2 -
# sigma_r^2) dt, Gamma_i the Black-Scholes gamma at sigma_i. Computed along each path as a
# left-point sum on the hedging grid. Measured (4,000 paths, seed 9, 500 dates): mean P&L
# 1.9804, theory 1.9815, difference -0.0010 with standard error 0.0019.
@pytest.mark.parametrize(("kind", "position"), [("call", "short"), ("put", "long")])
def test_mean_hedged_pnl_is_the_gamma_weighted_variance_spread(kind: str, position: str) -> None:
    implied, realised, rate, expiry, dates, n_paths = 0.30, 0.20, 0.03, 0.25, 500, 4_000
    paths = GeometricBrownianMotion(drift=0.08, vol=realised).simulate(
        100.0, expiry / dates, dates, n_paths, 9
    )
    prices, times = np.array(paths.prices), paths.times
    times[-1] = expiry
    book = OptionBook.single(kind, 100.0, expiry, implied, position=position)  # type: ignore[arg-type]
    result = simulate_hedge(prices, times, book, rate=rate)

    t = times[:-1]
    spot = prices[:, :-1]
    gamma = np.asarray(black_scholes(spot, 100.0, expiry - t, rate, implied, kind).gamma)
    quantity = float(book.quantity[0])
    theory = np.sum(
        -quantity
        * 0.5
        * np.exp(-rate * t)
        * gamma
        * spot**2
        * (implied**2 - realised**2)
        * np.diff(times),
        axis=1,
    )
    difference = result.pnl_pv - theory
    standard_error = float(np.std(difference, ddof=1)) / math.sqrt(n_paths)
    sign = 1.0 if position == "short" else -1.0
    # The writer earns the spread when implied > realised; the holder pays it.
    assert sign * theory.mean() > 1.5
    assert sign * result.pnl_pv.mean() > 100 * float(np.std(result.pnl_pv)) / math.sqrt(n_paths)
    assert abs(difference.mean()) <= 4.0 * standard_error + 0.002 * abs(theory.mean())
    # Pathwise too: the P&L is the integral plus the discrete-hedging noise, small at 500 dates.
    assert np.corrcoef(result.pnl_pv, theory)[0, 1] > 0.9
