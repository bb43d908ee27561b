"""Scenario grid: full revaluation, axes, agreement with exposure Greeks and with a reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pricing_books import SPOT, mixed_book
from scipy.special import ndtr

from hedgekeeper.pricing.exposure import (
    PRODUCT_FUTURE,
    PRODUCT_OPTION,
    PRODUCT_SPOT,
    PositionArrays,
    exposure,
)
from hedgekeeper.pricing.scenario import DEFAULT_SPOT_SHOCKS, DEFAULT_VOL_SHOCKS, scenario_grid


def reference_black76_price(forward, strike, t, vol, kind):
    """Textbook Black-76 price at r = 0 (Black 1976)."""
    sd = vol * math.sqrt(t)
    d1 = (math.log(forward / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    return kind * (forward * ndtr(kind * d1) - strike * ndtr(kind * d2))


def reference_pnl(
    positions: PositionArrays, spot_shock: float, vol_shock: float, numeraire: str
) -> float:
    """P&L written out position by position (independent of the package)."""
    f_factor, v_factor = 1 + spot_shock, 1 + vol_shock
    index0, index1 = SPOT, SPOT * f_factor
    pnl = 0.0
    for i in range(len(positions)):
        q, size, base = positions.quantity[i], positions.contract_size[i], positions.forward[i]
        shocked = base * f_factor
        if positions.product[i] == PRODUCT_OPTION:
            args = (positions.strike[i], positions.expiry_years[i])
            kind = int(positions.option_kind[i])
            old = reference_black76_price(base, *args, positions.vol[i], kind)
            new = reference_black76_price(shocked, *args, positions.vol[i] * v_factor, kind)
            if numeraire == "usd":
                pnl += q * size * (new - old)
            elif positions.inverse[i]:
                pnl += q * size * (new / shocked - old / base)
            else:
                pnl += q * size * (new / index1 - old / index0)
        elif positions.product[i] == PRODUCT_FUTURE and positions.inverse[i]:
            coin = q * size * (1 / base - 1 / shocked)
            pnl += coin * shocked if numeraire == "usd" else coin
        elif positions.product[i] == PRODUCT_FUTURE:
            usd = q * size * (shocked - base)
            pnl += usd if numeraire == "usd" else usd / index1
        else:
            pnl += q * size * (index1 - index0) if numeraire == "usd" else 0.0
    return pnl


def test_default_axes() -> None:
    grid = scenario_grid(mixed_book())
    assert grid.pnl.shape == (21, 11)
    assert grid.pnl_by_underlying.shape == (1, 21, 11)
    assert grid.axes == ("spot_shock", "vol_shock")
    np.testing.assert_allclose(grid.spot_shocks, np.linspace(-0.3, 0.3, 21), atol=1e-12)
    np.testing.assert_allclose(grid.vol_shocks, np.linspace(-0.5, 0.5, 11), atol=1e-12)
    assert DEFAULT_SPOT_SHOCKS[10] == 0.0
    assert DEFAULT_VOL_SHOCKS[5] == 0.0
    # No shock, no P&L.
    assert grid.pnl[10, 5] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("numeraire", ["usd", "coin"])
def test_grid_is_a_full_revaluation(numeraire: str) -> None:
    positions = mixed_book()
    grid = scenario_grid(positions, numeraire=numeraire)
    scale = 1.0 if numeraire == "usd" else 1 / SPOT
    for i in (0, 3, 10, 17, 20):
        for j in (0, 2, 5, 10):
            expected = reference_pnl(positions, grid.spot_shocks[i], grid.vol_shocks[j], numeraire)
            assert grid.pnl[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-7 * scale)


@pytest.mark.parametrize("numeraire", ["usd", "coin"])
def test_exposure_agrees_with_finite_differences_of_the_grid(numeraire: str) -> None:
    positions = mixed_book()
    h = 1e-4
    grid = scenario_grid(
        positions, spot_shocks=[-h, 0.0, h], vol_shocks=[-h, 0.0, h], numeraire=numeraire
    )
    down, mid, up = grid.pnl[:, 1]
    assert mid == pytest.approx(0.0, abs=1e-9)
    totals = exposure(positions, numeraire).by_underlying.row("BTC")
    per_move = (up - down) / (2 * h)  # dV/d(ln S) at the centre
    second = (up - 2 * mid + down) / h**2  # S^2 V''
    if numeraire == "usd":
        delta_coin = per_move / SPOT
        gamma = second / SPOT**2
    else:
        delta_coin = per_move
        gamma = (per_move + second) / SPOT  # d(S W')/dS = W' + S W''
    assert totals["delta_coin"] == pytest.approx(delta_coin, rel=1e-6)
    assert totals["gamma_coin_per_usd"] == pytest.approx(gamma, rel=1e-4)
    # Relative vol shock: dV/dv = sum of vega (per 1.00 vol) * vol.
    per_position = exposure(positions, numeraire).per_position
    relative_vega = float(np.nansum(per_position.vega_per_vol_point / 0.01 * positions.vol))
    vol_down, _, vol_up = grid.pnl[1, :]
    assert (vol_up - vol_down) / (2 * h) == pytest.approx(relative_vega, rel=1e-6)


def test_spot_coins_make_usd_pnl_but_no_coin_pnl() -> None:
    spot_only = PositionArrays(
        instrument_name=("BTC_USDC",),
        underlying=("BTC",),
        bucket=("spot",),
        product=[PRODUCT_SPOT],
        inverse=[False],
        option_kind=[0],
        strike=[np.nan],
        expiry_years=[np.nan],
        forward=[SPOT],
        vol=[np.nan],
        rate=[0.0],
        quantity=[2.0],
        contract_size=[1.0],
        spot=[SPOT],
    )
    usd = scenario_grid(spot_only, numeraire="usd")
    coin = scenario_grid(spot_only, numeraire="coin")
    np.testing.assert_allclose(
        usd.pnl, 2.0 * SPOT * usd.spot_shocks[:, None] * np.ones((1, 11)), rtol=1e-12
    )
    np.testing.assert_array_equal(coin.pnl, 0.0)


def test_worst_point_and_dict() -> None:
    grid = scenario_grid(mixed_book(), numeraire="coin")
    worst, spot_shock, vol_shock = grid.worst()
    assert worst == grid.pnl.min()
    assert spot_shock in grid.spot_shocks
    assert vol_shock in grid.vol_shocks
    data = grid.to_dict()
    assert data["axes"] == ["spot_shock", "vol_shock"]
    assert len(data["pnl"]) == 21
    assert len(data["pnl"][0]) == 11
    assert set(data["pnl_by_underlying"]) == {"BTC"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spot_shocks": [-1.0, 0.0]}, "spot_shocks must be finite and greater than -1"),
        ({"vol_shocks": [np.nan]}, "vol_shocks must be finite"),
        ({"vol_shocks": []}, "vol_shocks must be a non-empty 1-d array"),
        ({"spot_shocks": [[0.1]]}, "spot_shocks must be a non-empty 1-d array"),
        ({"spot_shocks": "big"}, "spot_shocks must be a number or an array"),
        ({"numeraire": "eur"}, "numeraire must be 'usd' or 'coin'"),
    ],
)
def test_bad_shocks_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scenario_grid(mixed_book(), **kwargs)  # type: ignore[arg-type]
