"""Unit tests of hedgekeeper.pricing.black: validation, shapes, kinds, edge cases, code paths."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import numpy.typing as npt
import pytest

from hedgekeeper.pricing import black
from hedgekeeper.pricing._jit import NUMBA_AVAILABLE
from hedgekeeper.pricing.black import OptionGreeks, black76, black_scholes

FloatArray = npt.NDArray[np.float64]
GREEKS = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga")
BASE = {"strike": 100.0, "t": 0.5, "rate": 0.03, "vol": 0.4, "kind": "call"}

# ---------------------------------------------------------------------------------------------
# Validation: every bad input raises ValueError naming the argument.


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("spot", -1.0, "spot must be a finite number >= 0"),
        ("spot", math.nan, "spot must be a finite number >= 0"),
        ("spot", math.inf, "spot must be a finite number >= 0"),
        ("strike", -5.0, "strike must be a finite number >= 0"),
        ("strike", [100.0, math.nan], "strike must be a finite number >= 0"),
        ("t", -0.01, "t must be a finite number >= 0"),
        ("t", math.nan, "t must be a finite number >= 0"),
        ("vol", -0.2, "vol must be a finite number >= 0"),
        ("vol", math.nan, "vol must be a finite number >= 0"),
        ("vol", [0.2, math.inf], "vol must be a finite number >= 0"),
        ("rate", math.nan, "rate must be a finite number"),
        ("rate", -math.inf, "rate must be a finite number"),
        ("div_yield", math.nan, "div_yield must be a finite number"),
    ],
)
def test_black_scholes_rejects_bad_input_naming_it(name: str, value: object, expected: str) -> None:
    args: dict[str, object] = {"spot": 100.0, **BASE, name: value}
    with pytest.raises(ValueError, match=expected):
        black_scholes(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value"),
    [("forward", -1.0), ("forward", math.nan), ("strike", math.inf), ("t", -1.0), ("vol", -1e-9)],
)
def test_black76_rejects_bad_input_naming_it(name: str, value: float) -> None:
    args: dict[str, object] = {"forward": 100.0, **BASE, name: value}
    with pytest.raises(ValueError, match=f"^{name} must be a finite number >= 0"):
        black76(**args)  # type: ignore[arg-type]


def test_negative_rate_and_yield_are_valid() -> None:
    g = black_scholes(100.0, 100.0, 1.0, -0.01, 0.2, "put", div_yield=-0.02)
    assert np.isfinite(g.price)
    assert g.price > 0.0


@pytest.mark.parametrize("kind", ["straddle", "", 0, 2, [1, 0], 1.5, math.nan])
def test_unknown_kind_is_rejected(kind: object) -> None:
    with pytest.raises(ValueError, match="kind"):
        black76(100.0, 100.0, 1.0, 0.0, 0.2, kind)  # type: ignore[arg-type]


def test_shapes_that_do_not_broadcast_name_the_arguments() -> None:
    with pytest.raises(ValueError, match=r"forward\(2,\), strike\(3,\)"):
        black76([100.0, 101.0], [90.0, 100.0, 110.0], 1.0, 0.0, 0.2, "c")


def test_non_numeric_input_is_rejected_naming_it() -> None:
    with pytest.raises(ValueError, match="strike must be a number"):
        black76(100.0, "a hundred", 1.0, 0.0, 0.2, "c")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Shapes, result type, kinds.


def test_scalar_inputs_give_zero_dimensional_read_only_arrays() -> None:
    g = black76(100.0, 100.0, 1.0, 0.0, 0.2, "call")
    for name in GREEKS:
        value = getattr(g, name)
        assert isinstance(value, np.ndarray)
        assert value.shape == ()
        assert value.dtype == np.float64
        assert not value.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.price = np.asarray(1.0)  # type: ignore[misc]


def test_outputs_cannot_be_written() -> None:
    g = black_scholes([100.0, 110.0], 100.0, 1.0, 0.0, 0.2, "call")
    with pytest.raises(ValueError, match="read-only"):
        g.delta[0] = 0.0


def test_broadcasting_grid_shape() -> None:
    strikes = np.array([80.0, 100.0, 120.0])[:, None]
    vols = np.array([0.1, 0.2, 0.3, 0.4])[None, :]
    g = black76(100.0, strikes, 0.25, 0.01, vols, np.array([[1], [-1], [1]]))
    for name in GREEKS:
        assert getattr(g, name).shape == (3, 4)
    one = black76(100.0, 100.0, 0.25, 0.01, 0.3, "put")
    assert g.price[1, 2] == one.price
    assert g.vanna[1, 2] == one.vanna


def test_broadcast_result_matches_elementwise_calls() -> None:
    rng = np.random.default_rng(3)
    spot = rng.uniform(50, 150, (4, 5))
    g = black_scholes(spot, 100.0, np.linspace(0.1, 2, 5), 0.02, 0.3, -1, div_yield=0.01)
    for i in range(4):
        for j in range(5):
            one = black_scholes(spot[i, j], 100.0, np.linspace(0.1, 2, 5)[j], 0.02, 0.3, -1, 0.01)
            for name in GREEKS:
                assert getattr(g, name)[i, j] == getattr(one, name)


def test_empty_input_gives_empty_output() -> None:
    g = black76(np.array([]), 100.0, 1.0, 0.0, 0.2, "c")
    assert g.price.shape == (0,)
    assert g.volga.shape == (0,)


def test_strided_and_read_only_inputs_agree_with_contiguous() -> None:
    rng = np.random.default_rng(4)
    wide = rng.uniform(50, 150, (6, 8))
    column = wide[:, 3]  # strided view
    frozen = column.copy()
    frozen.flags.writeable = False
    expected = black76(column.copy(), 100.0, 1.0, 0.01, 0.3, "c")
    for forward in (column, frozen):
        g = black76(forward, 100.0, 1.0, 0.01, 0.3, "c")
        np.testing.assert_array_equal(g.price, expected.price)
        np.testing.assert_array_equal(g.gamma, expected.gamma)


@pytest.mark.parametrize(
    ("call", "put"),
    [("call", "put"), ("c", "p"), ("CALL", "Put"), (1, -1), (np.int8(1), np.int8(-1)), (1.0, -1.0)],
)
def test_kind_spellings_agree(call: object, put: object) -> None:
    reference = black76(100.0, 105.0, 1.0, 0.02, 0.3, np.array([1, -1]))
    g = black76(100.0, 105.0, 1.0, 0.02, 0.3, np.array([call, put]))
    g_call = black76(100.0, 105.0, 1.0, 0.02, 0.3, call)  # type: ignore[arg-type]
    np.testing.assert_array_equal(g.price, reference.price)
    assert g_call.price == reference.price[0]


# ---------------------------------------------------------------------------------------------
# Edge cases (documented in the module docstring).


def test_expiry_gives_intrinsic_value_and_step_delta() -> None:
    forward = np.array([90.0, 100.0, 110.0])
    g_call = black76(forward, 100.0, 0.0, 0.05, 0.3, "call")
    g_put = black76(forward, 100.0, 0.0, 0.05, 0.3, "put")
    np.testing.assert_array_equal(g_call.price, [0.0, 0.0, 10.0])
    np.testing.assert_array_equal(g_put.price, [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(g_call.delta, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(g_put.delta, [-1.0, -0.5, 0.0])
    for name in ("gamma", "vega", "vanna", "volga"):
        np.testing.assert_array_equal(getattr(g_call, name), 0.0)
        np.testing.assert_array_equal(getattr(g_put, name), 0.0)
    # theta = r V (only discounting decays when the value is deterministic), rho = -t V = 0.
    np.testing.assert_array_equal(g_call.theta, 0.05 * g_call.price)
    np.testing.assert_array_equal(g_call.rho, 0.0)


def test_zero_vol_is_discounted_intrinsic_of_the_forward() -> None:
    t, r, q = 0.75, 0.04, 0.01
    spot = np.array([80.0, 100.0, 120.0])
    g = black_scholes(spot, 100.0, t, r, 0.0, "call", div_yield=q)
    forward = spot * math.exp((r - q) * t)
    np.testing.assert_allclose(g.price, math.exp(-r * t) * np.maximum(forward - 100.0, 0.0))
    np.testing.assert_allclose(g.delta, math.exp(-q * t) * (forward > 100.0))
    # deterministic value S e^{-qt} - K e^{-rt}: theta = q S e^{-qt} - r K e^{-rt}
    itm = forward > 100.0
    theta = q * spot * math.exp(-q * t) - r * 100.0 * math.exp(-r * t)
    np.testing.assert_allclose(g.theta[itm], theta[itm], rtol=1e-14)
    np.testing.assert_allclose(g.rho[itm], t * 100.0 * math.exp(-r * t), rtol=1e-14)
    np.testing.assert_array_equal(g.vega, 0.0)


def test_zero_strike_and_zero_forward() -> None:
    disc = math.exp(-0.05)
    g = black76(np.array([100.0, 0.0]), np.array([0.0, 100.0]), 1.0, 0.05, 0.3, "call")
    np.testing.assert_allclose(g.price, [100.0 * disc, 0.0], rtol=1e-15)
    np.testing.assert_allclose(g.delta, [disc, 0.0], rtol=1e-15)
    p = black76(np.array([100.0, 0.0]), np.array([0.0, 100.0]), 1.0, 0.05, 0.3, "put")
    np.testing.assert_allclose(p.price, [0.0, 100.0 * disc], rtol=1e-15)
    np.testing.assert_allclose(p.delta, [0.0, -disc], rtol=1e-15)
    for g_ in (g, p):
        assert np.all(np.isfinite([getattr(g_, name) for name in GREEKS]))


def test_extreme_moneyness_no_nan_and_deep_itm_precision() -> None:
    strike = np.array([1e-200, 1e-12, 1e-3, 1e3, 1e12, 1e200])
    for kind in ("call", "put"):
        g = black76(1.0, strike, 2.0, 0.01, 0.5, kind)
        values = np.array([getattr(g, name) for name in GREEKS])
        assert np.all(np.isfinite(values)), kind
        assert np.all(g.price >= 0.0)
    disc = math.exp(-0.02)
    call = black76(1.0, 1e-3, 2.0, 0.01, 0.5, "call").price
    assert call == pytest.approx(disc * (1.0 - 1e-3), rel=1e-15)  # deep ITM keeps every digit
    put = black76(1.0, 1e3, 2.0, 0.01, 0.5, "put").price
    assert put == pytest.approx(disc * (1e3 - 1.0), rel=1e-15)


@pytest.mark.parametrize("t", [1e-300, 1e-16, 1e-8])
def test_vanishing_time_is_finite_and_tends_to_intrinsic(t: float) -> None:
    g = black76(np.array([99.0, 100.0, 101.0]), 100.0, t, 0.0, 0.5, "call")
    values = np.array([getattr(g, name) for name in GREEKS])
    assert np.all(np.isfinite(values))
    assert g.price[0] < 1e-12
    assert g.price[2] == pytest.approx(1.0, abs=1e-12)
    assert g.delta[1] == pytest.approx(0.5, abs=1e-3)


def test_subnormal_std_dev_counts_as_zero() -> None:
    # vol sqrt(t) = 1e-324 would make 1/s overflow; below 1e-300 the option is deterministic.
    g = black_scholes([1e-200, 1.0], [1e-200, 1.0], 1e-216, 0.0, 1e-216, "call")
    for name in GREEKS:
        assert np.all(np.isfinite(getattr(g, name))), name
    np.testing.assert_array_equal(g.price, 0.0)
    np.testing.assert_array_equal(g.delta, 0.5)


def test_huge_vol_tends_to_the_forward() -> None:
    g = black76(100.0, 100.0, 10.0, 0.0, 100.0, "call")
    assert g.price == pytest.approx(100.0, rel=1e-12)
    assert np.isfinite(g.volga)
    assert np.isfinite(g.vanna)


def test_tiny_price_keeps_relative_precision() -> None:
    # d2 = -20, s = 0.5: true price from mpmath at 50 digits.
    forward, t, vol = 1.0, 1.0, 0.5
    strike = forward * math.exp((20.0 - 0.25) * 0.5)
    mpmath.mp.dps = 50
    f, k, s = mpmath.mpf(forward), mpmath.mpf(strike), mpmath.mpf(vol)
    d1 = mpmath.log(f / k) / s + s / 2
    exact = f * mpmath.ncdf(d1) - k * mpmath.ncdf(d1 - s)
    price = black76(forward, strike, t, 0.0, vol, "call").price
    assert 1e-90 < float(exact) < 1e-85
    assert abs(float((price - exact) / exact)) < 1e-13


# ---------------------------------------------------------------------------------------------
# The special functions written into the kernel, against mpmath and libm.


def test_cody_erf_and_erfcx_against_mpmath() -> None:
    mpmath.mp.dps = 40
    worst = 0.0
    for y in np.linspace(-0.46875, 0.46875, 301):
        if y == 0.0:
            continue
        exact = mpmath.erf(mpmath.mpf(y))
        worst = max(worst, abs(float((black._erf_small(y) - exact) / exact)))
    for y in np.linspace(0.46875, 4.0, 401):
        exact = mpmath.exp(mpmath.mpf(y) ** 2) * mpmath.erfc(mpmath.mpf(y))
        worst = max(worst, abs(float((black._erfcx_mid(y) - exact) / exact)))
    for y in np.concatenate([np.linspace(4.0, 30.0, 301), [1e3, 1e8, 1e150]]):
        exact = mpmath.exp(mpmath.mpf(y) ** 2) * mpmath.erfc(mpmath.mpf(y))
        approx = 1.0 / (math.sqrt(math.pi) * y) - black._erfcx_large_correction(y)
        worst = max(worst, abs(float((approx - exact) / exact)))
    assert worst < 1e-15
    assert black._erfcx_large_correction(math.inf) == 0.0


def test_kernel_exp_and_log_within_two_ulp_of_libm() -> None:
    rng = np.random.default_rng(11)
    xs = np.concatenate([rng.uniform(-745.0, 709.0, 3000), rng.uniform(-1.0, 1.0, 1000)])
    for x in xs:
        exact = math.exp(x)
        assert abs(black._exp(x) - exact) <= 2.0 * np.spacing(exact), x
    assert black._exp(-746.0) == 0.0
    assert black._exp(-math.inf) == 0.0
    assert black._exp(710.0) == math.inf
    ys = np.concatenate(
        [np.exp(rng.uniform(-700.0, 700.0, 3000)), rng.uniform(0.5, 2.0, 1000), [5e-324, 1e-310]]
    )
    for y in ys:
        exact = math.log(y)
        assert abs(black._log(y) - exact) <= 2.0 * np.spacing(abs(exact)), y
    assert black._log(1.0) == 0.0
    assert black._log(0.0) == -math.inf
    assert black._log(math.inf) == math.inf


# ---------------------------------------------------------------------------------------------
# numba kernel against the numpy reference, and the public API without numba.


def _random_book(n: int, seed: int) -> dict[str, FloatArray]:
    rng = np.random.default_rng(seed)
    book = {
        "underlying": 100.0 * np.exp(rng.uniform(-3.0, 3.0, n)),
        "strike": rng.uniform(50.0, 150.0, n),
        "t": np.where(rng.random(n) < 0.05, 0.0, rng.uniform(0.0, 3.0, n)),
        "rate": rng.uniform(-0.02, 0.1, n),
        "div_yield": rng.uniform(-0.03, 0.05, n),
        "vol": np.where(rng.random(n) < 0.05, 0.0, rng.uniform(0.0, 2.0, n)),
    }
    book["underlying"][:200] = book["strike"][:200]  # at the money
    book["strike"][200:250] = 0.0
    book["underlying"][250:300] = 0.0
    book["vol"][300:350] = 1e-9  # tiny s
    return book


def _scale(
    reference: tuple[FloatArray, ...], underlying: FloatArray, strike: FloatArray
) -> FloatArray:
    """Per-option magnitude for a combined tolerance: Greeks that pass through zero."""
    size = np.maximum(underlying, strike)
    return np.maximum(np.abs(np.array(reference)), 1e-9 * size)


@pytest.mark.skipif(not NUMBA_AVAILABLE, reason="numba kernel not compiled")
@pytest.mark.parametrize("spot_model", [True, False])
def test_numba_kernel_agrees_with_numpy_reference(spot_model: bool) -> None:
    n = 20_000
    book = _random_book(n, seed=5)
    kind = np.where(np.random.default_rng(6).random(n) < 0.5, 1, -1).astype(np.int8)
    args = (*book.values(), kind, spot_model)
    out = np.empty((8, n))
    bad = black._black_kernel(*args, out)
    reference = black._black_numpy(*args)
    assert bad == 0
    assert not np.any(np.isnan(out))
    scale = _scale(reference, book["underlying"], book["strike"])
    error = np.abs(out - np.array(reference)) / scale
    # Measured: p99.9 of the error 2e-13, max 2e-11 (deep tails with tiny s, and Greeks near 0,
    # where the two implementations round differently).
    assert np.quantile(error, 0.999) < 1e-12
    assert error.max() < 1e-9


@pytest.mark.skipif(not NUMBA_AVAILABLE, reason="numba kernel not compiled")
def test_kernel_flags_each_invalid_argument() -> None:
    good = [np.array([100.0]), np.array([100.0]), np.array([1.0]), np.array([0.0])]
    good += [np.array([0.0]), np.array([0.2])]
    kind = np.array([1], dtype=np.int8)
    for position, bad_value in [(0, -1.0), (1, math.nan), (2, -1.0), (3, math.inf), (4, math.nan)]:
        args = [a.copy() for a in good]
        args[position][0] = bad_value
        mask = black._black_kernel(*args, kind, True, np.empty((8, 1)))
        assert mask == 1 << position
    args = [a.copy() for a in good]
    args[5][0] = -0.1
    assert black._black_kernel(*args, kind, True, np.empty((8, 1))) == 32


_SUBPROCESS = """
import json, numpy as np
from hedgekeeper.pricing import _jit
from hedgekeeper.pricing.black import black_scholes, black76
rng = np.random.default_rng(9)
spot = rng.uniform(50, 150, 64); strike = rng.uniform(50, 150, 64)
t = rng.uniform(0, 2, 64); t[:4] = 0.0
g = black_scholes(spot, strike, t, 0.03, 0.4, np.where(spot > 100, "c", "p"), div_yield=0.01)
h = black76(spot, 100.0, 1.0, 0.0, [[0.0], [0.3]], "c")
error = ""
try:
    black76(100.0, 100.0, 1.0, 0.0, float("nan"), "c")
except ValueError as exc:
    error = str(exc)
print(json.dumps({"numba": _jit.NUMBA_AVAILABLE, "error": error,
                  "g": [getattr(g, n).tolist() for n in %(names)r],
                  "h": [getattr(h, n).tolist() for n in %(names)r]}))
"""


def test_public_api_without_numba_agrees() -> None:
    env = {**os.environ, "HEDGEKEEPER_DISABLE_NUMBA": "1"}
    code = _SUBPROCESS % {"names": GREEKS}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
        timeout=300,
    )
    result = json.loads(done.stdout)
    assert result["numba"] is False
    assert result["error"].startswith("vol must be a finite number >= 0")
    rng = np.random.default_rng(9)
    spot, strike = rng.uniform(50, 150, 64), rng.uniform(50, 150, 64)
    t = rng.uniform(0, 2, 64)
    t[:4] = 0.0
    g = black_scholes(spot, strike, t, 0.03, 0.4, np.where(spot > 100, "c", "p"), div_yield=0.01)
    h = black76(spot, 100.0, 1.0, 0.0, [[0.0], [0.3]], "c")
    for i, name in enumerate(GREEKS):
        np.testing.assert_allclose(result["g"][i], getattr(g, name), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(result["h"][i], getattr(h, name), rtol=1e-12, atol=1e-12)


def test_option_greeks_fields_are_the_eight_outputs() -> None:
    assert tuple(f.name for f in dataclasses.fields(OptionGreeks)) == GREEKS
