"""The P&L variance formula and the mean-variance benefit, by hand and by simulation."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.risk import pnl_variance, variance_benefit


def test_delta_term_by_hand() -> None:
    # 2 BTC of delta, S = 100, 50 % vol, h = 0.01 y: 2^2 * 100^2 * 0.25 * 0.01 = 100 USD^2.
    assert float(pnl_variance(2.0, 0.0, 0.0, 100.0, 0.5, 0.01)) == pytest.approx(100.0)


def test_gamma_term_by_hand() -> None:
    # 1/2 * 0.01^2 * 100^4 * 0.5^4 * 0.01^2 = 1/2 * 1e-4 * 1e8 * 0.0625 * 1e-4 = 0.03125 USD^2.
    assert float(pnl_variance(0.0, 0.01, 0.0, 100.0, 0.5, 0.01)) == pytest.approx(0.03125)


def test_vega_and_cross_terms_by_hand() -> None:
    # vega 1,000 USD per 1.00 vol, vol of vol 0.8, h = 0.01: 1e6 * 0.64 * 0.01 = 6,400 USD^2;
    # cross term with delta 2, S = 100, sigma 0.5, rho -0.5: 2 * -0.5 * 2 * 1000 * 50 * 0.8 *
    # 0.01 = -800 USD^2.
    alone = float(pnl_variance(0.0, 0.0, 1_000.0, 100.0, 0.5, 0.01, vol_of_vol=0.8))
    assert alone == pytest.approx(6_400.0)
    both = float(pnl_variance(2.0, 0.0, 1_000.0, 100.0, 0.5, 0.01, vol_of_vol=0.8,
                              spot_vol_correlation=-0.5))
    assert both == pytest.approx(100.0 + 6_400.0 - 800.0)


def test_matches_simulated_second_order_pnl() -> None:
    # Monte Carlo of dPnL = delta dS + gamma/2 dS^2 + vega dsigma under the stated model.
    rng = np.random.default_rng(20260126)
    n = 2_000_000
    delta, gamma, vega, spot, vol, h, nu, rho = 1.5, 4e-4, 800.0, 90_000.0, 0.6, 1 / 365, 0.9, -0.3
    z1 = rng.standard_normal(n)
    z2 = rho * z1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    move = spot * vol * np.sqrt(h) * z1
    pnl = delta * move + 0.5 * gamma * move**2 + vega * nu * np.sqrt(h) * z2
    expected = float(pnl_variance(delta, gamma, vega, spot, vol, h, nu, rho))
    assert np.var(pnl) == pytest.approx(expected, rel=0.01)


def test_broadcasts_over_a_batch() -> None:
    deltas = np.array([0.0, 1.0, 2.0])
    variance = pnl_variance(deltas[:, None], 0.0, 0.0, 100.0, np.array([0.1, 0.2]), 1.0)
    assert variance.shape == (3, 2)
    np.testing.assert_allclose(variance, (deltas[:, None] * 100.0 * np.array([0.1, 0.2])) ** 2)


def test_benefit_is_half_risk_aversion_times_variance_cut() -> None:
    assert float(variance_benefit(10_000.0, 2_500.0, 1e-3)) == pytest.approx(3.75)
    assert float(variance_benefit(100.0, 400.0, 1e-2)) == pytest.approx(-1.5)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"spot": 0.0}, "spot"),
        ({"vol": -0.1}, "vol"),
        ({"horizon": -1.0}, "horizon"),
        ({"vol_of_vol": -0.1}, "vol_of_vol"),
        ({"spot_vol_correlation": 1.5}, "spot_vol_correlation"),
        ({"delta": np.nan}, "delta"),
    ],
)
def test_validation_names_the_argument(kwargs: dict[str, float], name: str) -> None:
    args: dict[str, float] = {"delta": 1.0, "gamma": 0.0, "vega": 0.0, "spot": 100.0,
                              "vol": 0.5, "horizon": 0.01}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        pnl_variance(**args)
    with pytest.raises(ValueError, match="risk_aversion"):
        variance_benefit(1.0, 0.0, -1.0)
