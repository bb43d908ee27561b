"""VolSurface: interpolation in total variance, extrapolation, calendar check, fit_surface."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from hedgekeeper.domain.market import MarketSnapshot
from hedgekeeper.domain.market import VolSurface as VolSurfaceProtocol
from hedgekeeper.pricing.black import black76
from hedgekeeper.pricing.surface import (
    ExpiryFitReport,
    VolSurface,
    fit_surface,
    otm_price_fraction,
)
from hedgekeeper.pricing.svi import SviParams

SHORT = SviParams(a=0.002, b=0.02, rho=-0.2, m=0.0, sigma=0.1)
MIDDLE = SviParams(a=0.01, b=0.05, rho=-0.25, m=0.02, sigma=0.15)
LONG = SviParams(a=0.04, b=0.12, rho=-0.3, m=0.05, sigma=0.3)
TIMES = (0.05, 0.25, 1.0)


def surface() -> VolSurface:
    return VolSurface(expiry_t=TIMES, slices=(SHORT, MIDDLE, LONG))


def test_satisfies_the_domain_protocol_and_plugs_into_a_snapshot() -> None:
    vs = surface()
    assert isinstance(vs, VolSurfaceProtocol)
    protocol_view: VolSurfaceProtocol = vs  # static check under mypy
    snapshot = MarketSnapshot(
        timestamp=datetime(2026, 1, 26, tzinfo=UTC),
        underlying="BTC",
        index_price=87_000.0,
        surface=protocol_view,
    )
    strike = np.array([80_000.0, 90_000.0])
    np.testing.assert_array_equal(
        snapshot.implied_vol(strike, np.array([0.25, 0.25]), np.array([88_000.0, 88_000.0])),
        vs.implied_vol(strike, 0.25, 88_000.0),
    )


@pytest.mark.parametrize("index", [0, 1, 2])
def test_reproduces_each_slice_at_its_expiry(index: int) -> None:
    vs = surface()
    forward = 90_000.0
    strike = forward * np.exp(np.linspace(-1.0, 1.0, 41))
    t = TIMES[index]
    expected = vs.slices[index].implied_vol(np.log(strike / forward), t)
    np.testing.assert_allclose(vs.implied_vol(strike, t, forward), expected, rtol=1e-14)


def test_linear_in_total_variance_between_slices_at_fixed_log_moneyness() -> None:
    vs = surface()
    k = np.linspace(-0.8, 0.8, 17)
    t = 0.25 + 0.3 * (1.0 - 0.25)
    expected = 0.7 * MIDDLE.total_variance(k) + 0.3 * LONG.total_variance(k)
    np.testing.assert_allclose(vs.total_variance(k, t), expected, rtol=1e-14)
    # Same log-moneyness, different forwards: same vol.
    a = vs.implied_vol(100.0 * np.exp(k), t, 100.0)
    b = vs.implied_vol(90_000.0 * np.exp(k), t, 90_000.0)
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_flat_vol_extrapolation_before_first_and_after_last_slice() -> None:
    vs = surface()
    k = np.linspace(-0.5, 0.5, 11)
    for t in (0.001, 0.02):
        np.testing.assert_allclose(
            np.sqrt(vs.total_variance(k, t) / t), SHORT.implied_vol(k, TIMES[0]), rtol=1e-14
        )
    for t in (1.5, 3.0):
        np.testing.assert_allclose(
            np.sqrt(vs.total_variance(k, t) / t), LONG.implied_vol(k, TIMES[-1]), rtol=1e-14
        )


def test_total_variance_non_decreasing_in_t_for_ordered_slices() -> None:
    vs = surface()
    assert all(check.ok for check in vs.check_calendar())
    k = np.linspace(-1.5, 1.5, 61)
    t = np.linspace(0.001, 2.0, 400)
    w = vs.total_variance(k[None, :], t[:, None])
    assert w.shape == (400, 61)
    assert np.all(np.diff(w, axis=0) >= -1e-15)


def test_broadcasting_shapes() -> None:
    vs = surface()
    strike = np.array([80_000.0, 90_000.0, 100_000.0])
    t = np.array([[0.1], [0.5]])
    vol = vs.implied_vol(strike, t, 90_000.0)
    assert vol.shape == (2, 3)
    assert np.isscalar(vs.implied_vol(90_000.0, 0.1, 90_000.0).item())


def test_calendar_check_catches_a_crossing() -> None:
    # The later slice has a higher ATM level but flatter wings: it crosses below the earlier
    # one where a1 + b1 sqrt(k^2 + s^2) > a2 + b2 sqrt(k^2 + s^2), i.e. |k| > k*.
    early = SviParams(a=0.01, b=0.1, rho=0.0, m=0.0, sigma=0.1)
    late = SviParams(a=0.03, b=0.05, rho=0.0, m=0.0, sigma=0.1)
    crossing = np.sqrt(((0.03 - 0.01) / (0.1 - 0.05)) ** 2 - 0.1**2)  # 0.387
    vs = VolSurface(expiry_t=(0.1, 0.2), slices=(early, late))
    (check,) = vs.check_calendar(np.linspace(-1.0, 1.0, 2001))
    assert not check.ok
    assert check.t_early == 0.1
    assert check.t_late == 0.2
    assert check.min_difference < 0
    assert abs(check.k_at_min) == pytest.approx(1.0)
    assert len(check.violations) == 2
    (l0, l1), (r0, r1) = check.violations
    assert l0 == pytest.approx(-1.0)
    assert l1 == pytest.approx(-crossing, abs=1e-3)
    assert r0 == pytest.approx(crossing, abs=1e-3)
    assert r1 == pytest.approx(1.0)
    assert surface().check_calendar()[0].violations == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strike": -1.0}, "strike must be positive"),
        ({"expiry_t": 0.0}, "expiry_t must be a positive number of years"),
        ({"forward": np.nan}, "forward must be positive"),
        ({"strike": np.ones(3), "forward": np.ones(2)}, "do not broadcast"),
    ],
)
def test_implied_vol_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"strike": 90_000.0, "expiry_t": 0.1, "forward": 90_000.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        surface().implied_vol(**args)  # type: ignore[arg-type]


def test_surface_validates_its_slices() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        VolSurface(expiry_t=(0.2, 0.1), slices=(SHORT, MIDDLE))
    with pytest.raises(ValueError, match="one SviParams per expiry_t"):
        VolSurface(expiry_t=(0.1, 0.2), slices=(SHORT,))
    with pytest.raises(ValueError, match="positive years"):
        VolSurface(expiry_t=(-0.1,), slices=(SHORT,))
    with pytest.raises(ValueError, match="non-empty"):
        VolSurface(expiry_t=(), slices=())


def synthetic_quotes(
    slices: list[tuple[SviParams, float, float]], width: float = 3.5, strikes_per_expiry: int = 25
) -> dict[str, np.ndarray]:
    columns: dict[str, list[np.ndarray]] = {"t": [], "forward": [], "strike": [], "iv": []}
    for params, t, forward in slices:
        atm_std = np.sqrt(params.total_variance(0.0))
        k = np.linspace(-width * atm_std, width * atm_std, strikes_per_expiry)
        columns["t"].append(np.full(k.size, t))
        columns["forward"].append(np.full(k.size, forward))
        columns["strike"].append(forward * np.exp(k))
        columns["iv"].append(params.implied_vol(k, t))
    return {name: np.concatenate(parts) for name, parts in columns.items()}


def test_fit_surface_recovers_synthetic_slices_and_reports() -> None:
    truth = [(SHORT, TIMES[0], 88_000.0), (MIDDLE, TIMES[1], 89_000.0), (LONG, TIMES[2], 91_000.0)]
    quotes = synthetic_quotes(truth)
    labels = np.repeat(["A", "B", "C"], 25)
    fit = fit_surface(
        quotes["t"],
        quotes["forward"],
        quotes["strike"],
        quotes["iv"],
        expiry=labels,
        min_price_fraction=0.0,  # keep the 3.5-sd wings; the price floor is tested below
    )
    assert fit.surface.expiry_t == TIMES
    assert fit.skipped == ()
    for report, (params, t, forward), label in zip(fit.reports, truth, "ABC", strict=True):
        assert isinstance(report, ExpiryFitReport)
        assert report.expiry == label
        assert report.t == t
        assert report.forward == forward
        assert report.n_quotes == 25
        assert report.n_excluded == 0
        assert report.rmse_vol < 1e-4
        assert report.max_abs_vol < 1e-4
        assert report.butterfly_ok
        assert report.min_g > 0
        assert report.calendar_ok
        k = np.linspace(-0.5, 0.5, 11)
        np.testing.assert_allclose(
            report.params.total_variance(k), params.total_variance(k), rtol=1e-5
        )
    strike = np.array([70_000.0, 89_000.0, 110_000.0])
    np.testing.assert_allclose(
        fit.surface.implied_vol(strike, TIMES[1], 89_000.0),
        MIDDLE.implied_vol(np.log(strike / 89_000.0), TIMES[1]),
        rtol=1e-5,
    )


def test_fit_surface_filters_unpriced_quotes_and_skips_thin_expiries() -> None:
    truth = [(SHORT, TIMES[0], 88_000.0), (LONG, TIMES[2], 91_000.0)]
    quotes = synthetic_quotes(truth, width=2.0)
    assert np.all(
        otm_price_fraction(quotes["strike"], quotes["t"], quotes["forward"], quotes["iv"]) > 1e-4
    )
    # A deep wing far beyond 3.5 sd on the short expiry: priced below 1e-4 of the forward.
    deep = 88_000.0 * np.exp(np.array([-1.2, 1.2]))
    quotes = {
        "t": np.concatenate([quotes["t"], [TIMES[0]] * 2]),
        "forward": np.concatenate([quotes["forward"], [88_000.0] * 2]),
        "strike": np.concatenate([quotes["strike"], deep]),
        "iv": np.concatenate([quotes["iv"], [0.9, 0.9]]),
    }
    # A third expiry with only 3 strikes.
    thin_k = np.array([-0.05, 0.0, 0.05])
    quotes = {
        "t": np.concatenate([quotes["t"], [2.0] * 3]),
        "forward": np.concatenate([quotes["forward"], [95_000.0] * 3]),
        "strike": np.concatenate([quotes["strike"], 95_000.0 * np.exp(thin_k)]),
        "iv": np.concatenate([quotes["iv"], [0.5] * 3]),
    }
    assert np.all(otm_price_fraction(deep, TIMES[0], 88_000.0, 0.9) < 1e-4)
    fit = fit_surface(quotes["t"], quotes["forward"], quotes["strike"], quotes["iv"])
    assert [r.n_quotes for r in fit.reports] == [25, 25]
    assert [r.n_excluded for r in fit.reports] == [2, 0]
    assert len(fit.skipped) == 1
    assert fit.skipped[0].t == 2.0
    assert fit.skipped[0].n_quotes == 3
    assert "need 5" in fit.skipped[0].reason
    assert fit.reports[0].expiry == f"t={TIMES[0]:.6f}"
    # With no price floor the deep quotes are fitted (and pull the short slice off its smile).
    unfiltered = fit_surface(
        quotes["t"], quotes["forward"], quotes["strike"], quotes["iv"], min_price_fraction=0.0
    )
    assert unfiltered.reports[0].n_quotes == 27


def test_otm_price_fraction_is_the_coin_price_of_the_otm_option() -> None:
    strike = np.array([80_000.0, 90_000.0, 100_000.0])
    forward, t, vol = 90_000.0, 0.1, 0.5
    call = black76(forward, strike, t, 0.0, vol, "call").price / forward
    put = black76(forward, strike, t, 0.0, vol, "put").price / forward
    np.testing.assert_allclose(
        otm_price_fraction(strike, t, forward, vol), [put[0], call[1], call[2]], rtol=1e-14
    )


def test_fit_surface_errors_name_the_argument() -> None:
    t = np.full(6, 0.1)
    forward = np.full(6, 90_000.0)
    strike = 90_000.0 * np.exp(np.linspace(-0.2, 0.2, 6))
    iv = np.full(6, 0.5)
    with pytest.raises(ValueError, match="implied_vol must be positive"):
        fit_surface(t, forward, strike, -iv)
    with pytest.raises(ValueError, match="strike must be positive"):
        fit_surface(t, forward, -strike, iv)
    with pytest.raises(ValueError, match="expiry must have one label per quote"):
        fit_surface(t, forward, strike, iv, expiry=["a"])
    with pytest.raises(ValueError, match="min_price_fraction must be >= 0"):
        fit_surface(t, forward, strike, iv, min_price_fraction=-1.0)
    with pytest.raises(ValueError, match="no expiry has enough quotes"):
        fit_surface(t[:3], forward[:3], strike[:3], iv[:3])
