"""Unit tests of hedgekeeper.pricing.implied: statuses, validation, broadcasting, code paths."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hedgekeeper.pricing import lets_be_rational as lbr
from hedgekeeper.pricing._jit import NUMBA_AVAILABLE
from hedgekeeper.pricing.implied import IVStatus, implied_vol
from hedgekeeper.pricing.lets_be_rational import normalised_black

FloatArray = npt.NDArray[np.float64]


def black76_price(
    forward: float | FloatArray,
    strike: float | FloatArray,
    t: float | FloatArray,
    rate: float | FloatArray,
    vol: float | FloatArray,
    kind: object,
) -> FloatArray:
    """Discounted Black-76 price from the accurate normalised Black function."""
    x = np.log(np.asarray(forward) / np.asarray(strike))
    s = np.asarray(vol) * np.sqrt(t)
    scale = np.exp(-np.asarray(rate) * np.asarray(t)) * np.sqrt(forward) * np.sqrt(strike)
    return np.asarray(scale * normalised_black(x, s, kind), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Statuses, one case each.


def test_status_codes_are_stable() -> None:
    assert [(s.name, int(s)) for s in IVStatus] == [
        ("OK", 0),
        ("BELOW_INTRINSIC", 1),
        ("ABOVE_MAXIMUM", 2),
        ("NO_TIME_VALUE", 3),
        ("INVALID_INPUT", 4),
        ("ZERO_EXPIRY", 5),
        ("NOT_CONVERGED", 6),
    ]


def test_ok_recovers_vol_for_calls_and_puts() -> None:
    for kind in ("call", "put"):
        price = black76_price(100.0, 110.0, 0.5, 0.03, 0.4, kind)
        vol, status = implied_vol(price, 100.0, 110.0, 0.5, 0.03, kind, return_status=True)
        assert status == IVStatus.OK
        assert vol == pytest.approx(0.4, rel=1e-14)


def test_below_intrinsic() -> None:
    df = math.exp(-0.02 * 1.0)
    intrinsic = df * (120.0 - 100.0)
    vol, status = implied_vol(
        [intrinsic * 0.99, -1.0, -1e-300], 120.0, 100.0, 1.0, 0.02, "call", return_status=True
    )
    assert status.tolist() == [IVStatus.BELOW_INTRINSIC] * 3
    assert np.isnan(vol).all()


def test_at_or_above_upper_bound() -> None:
    df = math.exp(-0.05 * 2.0)
    vol, status = implied_vol(
        [df * 100.0, df * 100.0 * 1.5, df * 90.0, df * 95.0],
        100.0,
        90.0,
        2.0,
        0.05,
        ["call", "call", "put", "put"],
        return_status=True,
    )
    # A call is worth less than the discounted forward, a put less than the discounted strike.
    assert status.tolist() == [IVStatus.ABOVE_MAXIMUM] * 4
    assert np.isnan(vol).all()
    # Just below the bound a (very large) vol exists.
    vol_high, status_high = implied_vol(
        df * 100.0 * (1 - 1e-9), 100.0, 90.0, 2.0, 0.05, "call", return_status=True
    )
    assert status_high == IVStatus.OK
    assert vol_high > 5.0


def test_no_time_value() -> None:
    df = math.exp(-0.01 * 0.25)
    intrinsic = df * (150.0 - 100.0)
    vol, status = implied_vol(
        [0.0, intrinsic, intrinsic * (1 + 2e-16)],
        [100.0, 150.0, 150.0],
        [150.0, 100.0, 100.0],
        0.25,
        0.01,
        "call",
        return_status=True,
    )
    # Zero OTM price; ITM price equal to its intrinsic value; ITM time value below rounding.
    assert status.tolist() == [IVStatus.NO_TIME_VALUE] * 3
    assert np.isnan(vol).all()


def test_time_value_just_above_rounding_is_solved() -> None:
    # Deep ITM call, one day: the time value is 3e-9 of the price, far above its rounding, so
    # the vol comes back to about 1e-16 / 3e-9 / h^2 ~ 1e-9 relative.
    price = black76_price(100.0, 72.0, 1 / 365, 0.0, 1.2, "call")
    vol, status = implied_vol(price, 100.0, 72.0, 1 / 365, 0.0, "call", return_status=True)
    assert status == IVStatus.OK
    assert vol == pytest.approx(1.2, rel=1e-7)


@pytest.mark.parametrize(
    ("price", "underlying", "strike", "t", "rate"),
    [
        (np.nan, 100.0, 100.0, 1.0, 0.0),
        (5.0, np.inf, 100.0, 1.0, 0.0),
        (5.0, 100.0, np.nan, 1.0, 0.0),
        (5.0, 100.0, 100.0, np.inf, 0.0),
        (5.0, 100.0, 100.0, 1.0, np.nan),
        (np.inf, 100.0, 100.0, 1.0, 0.0),
        (5.0, 0.0, 100.0, 1.0, 0.0),
        (5.0, -100.0, 100.0, 1.0, 0.0),
        (5.0, 100.0, 0.0, 1.0, 0.0),
        (5.0, 100.0, -5.0, 1.0, 0.0),
        (5.0, 100.0, 100.0, -0.5, 0.0),
    ],
)
def test_invalid_elements(
    price: float, underlying: float, strike: float, t: float, rate: float
) -> None:
    vol, status = implied_vol(price, underlying, strike, t, rate, "put", return_status=True)
    assert status == IVStatus.INVALID_INPUT
    assert np.isnan(vol)


def test_invalid_dividend_yield_element() -> None:
    vol, status = implied_vol(
        5.0,
        100.0,
        100.0,
        1.0,
        0.0,
        "c",
        model="black_scholes",
        div_yield=np.nan,
        return_status=True,
    )
    assert status == IVStatus.INVALID_INPUT
    assert np.isnan(vol)


def test_zero_expiry() -> None:
    vol, status = implied_vol([0.0, 5.0, 20.0], 100.0, 90.0, 0.0, 0.0, "call", return_status=True)
    assert status.tolist() == [IVStatus.ZERO_EXPIRY] * 3
    assert np.isnan(vol).all()


def test_not_converged_only_at_the_edge_of_the_double_range() -> None:
    # Forward 1e-322 (subnormal) against strike 1e308: log-moneyness about -1450 and a
    # subnormal normalised price; the solver gives up and says so instead of answering wrongly.
    vol, status = implied_vol(4e-323, 1.1e-322, 1e308, 1.0, 0.0, "call", return_status=True)
    assert status == IVStatus.NOT_CONVERGED
    assert np.isnan(vol)


def test_status_ok_iff_finite_positive_vol_on_random_extremes() -> None:
    rng = np.random.default_rng(11)
    n = 4000

    def log_uniform(lo: float, hi: float) -> FloatArray:
        return np.exp(rng.uniform(math.log(lo), math.log(hi), n))

    price = log_uniform(1e-320, 1e300)
    vol, status = implied_vol(
        price,
        log_uniform(1e-300, 1e300),
        log_uniform(1e-300, 1e300),
        log_uniform(1e-12, 1e6),
        rng.uniform(-5.0, 5.0, n),
        rng.choice(np.array([1, -1], dtype=np.int8), n),
        model="black_scholes",
        div_yield=rng.uniform(-5.0, 5.0, n),
        return_status=True,
    )
    ok = status == IVStatus.OK
    assert set(np.unique(status).tolist()) <= {int(s) for s in IVStatus}
    assert np.all(np.isfinite(vol[ok]) & (vol[ok] > 0))
    assert np.all(np.isnan(vol[~ok]))


def test_default_return_is_vols_only() -> None:
    out = implied_vol(
        black76_price(100.0, 100.0, 1.0, 0.0, 0.2, "call"), 100.0, 100.0, 1.0, 0.0, "c"
    )
    assert isinstance(out, np.ndarray)
    assert out.shape == ()
    assert out.dtype == np.float64
    assert float(out) == pytest.approx(0.2, rel=1e-14)


# ---------------------------------------------------------------------------------------------
# Argument-level validation raises ValueError naming the argument.


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"model": "bs"}, "model"),
        ({"model": None}, "model"),
        ({"kind": "straddle"}, "kind"),
        ({"kind": 2}, "kind"),
        ({"kind": ["call", "cal"]}, "kind"),
        ({"price": "abc"}, "price"),
        ({"underlying": [1.0, "x"]}, "underlying"),
        ({"strike": object()}, "strike"),
        ({"t": "1y"}, "t"),
        ({"rate": {"r": 1}}, "rate"),
        ({"div_yield": 0.01}, "div_yield"),
        ({"model": "black_scholes", "div_yield": "q"}, "div_yield"),
    ],
)
def test_argument_errors_name_the_argument(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {
        "price": 5.0,
        "underlying": 100.0,
        "strike": 100.0,
        "t": 1.0,
        "rate": 0.0,
        "kind": "call",
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        implied_vol(**args)  # type: ignore[call-overload]


def test_shape_mismatch_names_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"price\(3,\).*strike\(2,\)"):
        implied_vol(np.ones(3), 100.0, np.array([90.0, 110.0]), 1.0, 0.0, "call")


# ---------------------------------------------------------------------------------------------
# Broadcasting and model conventions.


def test_broadcasting_matches_elementwise() -> None:
    strikes = np.array([[80.0], [100.0], [125.0]])  # (3, 1)
    t = np.array([0.1, 0.5, 1.0, 2.0])  # (4,)
    kind = np.array([[1], [-1], [1]], dtype=np.int8)  # (3, 1)
    vol_true = 0.35
    price = black76_price(100.0, strikes, t, 0.02, vol_true, kind)
    assert price.shape == (3, 4)
    vol, status = implied_vol(price, 100.0, strikes, t, 0.02, kind, return_status=True)
    assert vol.shape == status.shape == (3, 4)
    assert status.dtype == np.int8
    for i in range(3):
        for j in range(4):
            single = implied_vol(price[i, j], 100.0, strikes[i, 0], t[j], 0.02, int(kind[i, 0]))
            assert float(single) == float(vol[i, j])
    np.testing.assert_allclose(vol, vol_true, rtol=1e-13)


def test_empty_input() -> None:
    vol, status = implied_vol([], 100.0, 100.0, 1.0, 0.0, "call", return_status=True)
    assert vol.shape == status.shape == (0,)
    assert implied_vol(np.empty((0, 3)), 100.0, [90.0, 100.0, 110.0], 1.0, 0.0, "c").shape == (0, 3)


def test_kind_spellings_agree() -> None:
    price = black76_price(100.0, 90.0, 1.0, 0.0, 0.3, "put")
    base = implied_vol(price, 100.0, 90.0, 1.0, 0.0, "put")
    for spelling in ("p", "P", " Put ", -1, np.int8(-1)):
        assert float(implied_vol(price, 100.0, 90.0, 1.0, 0.0, spelling)) == float(base)
    # A large string array takes the vectorised path; results must not change.
    kinds = np.array(["call", "put"] * 100)
    strikes = np.linspace(80.0, 120.0, 200)
    prices = black76_price(100.0, strikes, 1.0, 0.0, 0.3, np.where(kinds == "call", 1, -1))
    by_word = implied_vol(prices, 100.0, strikes, 1.0, 0.0, kinds)
    by_int = implied_vol(prices, 100.0, strikes, 1.0, 0.0, np.where(kinds == "call", 1, -1))
    np.testing.assert_array_equal(by_word, by_int)


def test_black_scholes_equals_black76_on_the_forward() -> None:
    spot, strike, t, rate, q, vol_true = 100.0, 105.0, 0.75, 0.04, 0.015, 0.55
    forward = spot * math.exp((rate - q) * t)
    for kind in ("call", "put"):
        price = black76_price(forward, strike, t, rate, vol_true, kind)
        vol_bs = implied_vol(price, spot, strike, t, rate, kind, model="black_scholes", div_yield=q)
        vol_76 = implied_vol(price, forward, strike, t, rate, kind)
        assert float(vol_bs) == pytest.approx(vol_true, rel=1e-13)
        assert float(vol_76) == pytest.approx(vol_true, rel=1e-13)


def test_in_the_money_goes_through_put_call_parity() -> None:
    # An ITM call and the OTM put of the same strike must give the same vol.
    forward, strike, t, rate, vol_true = 100.0, 80.0, 0.3, 0.03, 0.25
    call = black76_price(forward, strike, t, rate, vol_true, "call")
    put = black76_price(forward, strike, t, rate, vol_true, "put")
    np.testing.assert_allclose(call - put, math.exp(-rate * t) * (forward - strike), rtol=1e-14)
    vol_call = float(implied_vol(call, forward, strike, t, rate, "call"))
    vol_put = float(implied_vol(put, forward, strike, t, rate, "put"))
    assert vol_call == pytest.approx(vol_true, rel=1e-12)
    assert vol_put == pytest.approx(vol_true, rel=1e-14)


def test_prices_down_to_1e_minus_300() -> None:
    # 30 standard deviations out of the money, one hour, strike far above the forward.
    t = 1.0 / (365 * 24)
    vol_true = 0.8
    strike = 100.0 * math.exp(30.0 * vol_true * math.sqrt(t))
    price = black76_price(100.0, strike, t, 0.0, vol_true, "call")
    assert 1e-300 < float(price) < 1e-190
    vol, status = implied_vol(price, 100.0, strike, t, 0.0, "call", return_status=True)
    assert status == IVStatus.OK
    assert float(vol) == pytest.approx(vol_true, rel=1e-12)


def test_subnormal_normalised_price_keeps_full_accuracy() -> None:
    # 37.5 standard deviations out of the money with s = 2.4 and a strike of 100 e^90: the
    # price (~1e-275) is an ordinary double but price / sqrt(F K) is subnormal (~1e-309).
    forward, t, vol_true = 100.0, 2.0, 2.4 / math.sqrt(2.0)
    strike = forward * math.exp(90.0)
    x = math.log(forward / strike)
    log_b = float(normalised_black(x, 2.4, "call", log=True))
    assert float(normalised_black(x, 2.4, "call")) < 2.3e-308
    price = math.exp(log_b + 0.5 * (math.log(forward) + math.log(strike)))
    assert 1e-290 < price < 1e-260
    vol, status = implied_vol(price, forward, strike, t, 0.0, "call", return_status=True)
    assert status == IVStatus.OK
    assert float(vol) == pytest.approx(vol_true, rel=1e-12)


def test_log_normalised_black_matches_log_where_representable() -> None:
    rng = np.random.default_rng(8)
    x = rng.uniform(-40.0, 40.0, 2000)
    s = np.exp(rng.uniform(math.log(1e-3), math.log(4.0), 2000))
    theta = rng.choice(np.array([1, -1], dtype=np.int8), 2000)
    b = normalised_black(x, s, theta)
    log_b = normalised_black(x, s, theta, log=True)
    normal = b > 1e-290
    np.testing.assert_allclose(log_b[normal], np.log(b[normal]), rtol=1e-14, atol=1e-14)
    assert np.all(np.isfinite(log_b))
    assert np.all(log_b[~normal] < math.log(1e-290))


# ---------------------------------------------------------------------------------------------
# Kernel agreement: against py_lets_be_rational, and numba against plain Python.


def test_normalised_black_matches_py_lets_be_rational() -> None:
    reference = pytest.importorskip("py_lets_be_rational")
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.uniform(-30.0, 30.0, n)
    s = np.exp(rng.uniform(math.log(1e-3), math.log(5.0), n))
    theta = rng.choice(np.array([1, -1], dtype=np.int8), n)
    ours = normalised_black(x, s, theta)
    theirs = np.array(
        [
            reference.normalised_black(float(a), float(b), float(c))
            for a, b, c in zip(x, s, theta, strict=True)
        ]
    )
    positive = theirs > 1e-300
    assert positive.sum() > n // 2
    np.testing.assert_allclose(ours[positive], theirs[positive], rtol=4e-15)
    np.testing.assert_array_equal(ours[theirs == 0.0] == 0.0, True)


def test_normalised_implied_vol_matches_py_lets_be_rational() -> None:
    pytest.importorskip("py_lets_be_rational")
    from py_lets_be_rational import lets_be_rational as reference

    rng = np.random.default_rng(4)
    n = 2000
    x = -np.exp(rng.uniform(math.log(1e-6), math.log(60.0), n))  # OTM calls
    s = np.exp(rng.uniform(math.log(1e-3), math.log(4.0), n))
    beta = normalised_black(x, s, 1)
    usable = beta > 1e-290
    compared = 0
    for xi, bi in zip(x[usable], beta[usable], strict=True):
        ln_beta = math.log(bi) if bi < lbr.LOG_DOMAIN_BETA else 0.0
        ours = lbr.normalised_implied_volatility_otm_call(
            float(bi),
            ln_beta,
            float(xi),
            math.exp(0.5 * xi),
            lbr.IMPLIED_VOLATILITY_MAXIMUM_ITERATIONS,
        )
        theirs = reference._unchecked_normalised_implied_volatility_from_a_transformed_rational_guess_with_limited_iterations(  # noqa: E501
            float(bi), float(xi), 1.0, 2
        )
        assert ours == pytest.approx(theirs, rel=1e-14)
        compared += 1
    assert compared > n // 2


_SUBPROCESS_SCRIPT = """
import json, sys
import numpy as np
from hedgekeeper.pricing._jit import NUMBA_AVAILABLE
from hedgekeeper.pricing.implied import implied_vol
from hedgekeeper.pricing.lets_be_rational import normalised_black
args = json.loads(sys.stdin.read())
vol, status = implied_vol(*args["iv"], model="black_scholes", div_yield=args["q"],
                          return_status=True)
black = normalised_black(*args["black"])
print(json.dumps({"numba": NUMBA_AVAILABLE, "vol": [repr(float(v)) for v in vol],
                  "status": status.tolist(), "black": [repr(float(b)) for b in black]}))
"""


def _case_inputs() -> dict[str, object]:
    rng = np.random.default_rng(5)
    n = 60
    spot = np.full(n, 100.0)
    strike = np.exp(rng.uniform(math.log(20.0), math.log(500.0), n))
    t = np.exp(rng.uniform(math.log(1e-4), math.log(5.0), n))
    rate = rng.uniform(-0.01, 0.08, n)
    q = rng.uniform(0.0, 0.03, n)
    kind = rng.choice([1, -1], n)
    vol = rng.uniform(0.05, 2.0, n)
    forward = spot * np.exp((rate - q) * t)
    price = black76_price(forward, strike, t, rate, vol, kind)
    # Append one of each status, and a deep OTM call whose normalised price is subnormal (the
    # log-domain segment of the solver).
    price = np.concatenate([price, [-1.0, 1e9, 0.0, np.nan, 5.0, 1e-310, 5e-288]])
    extra = 7
    spot = np.concatenate([spot, np.full(extra, 100.0)])
    strike = np.concatenate([strike, [90.0, 90.0, 200.0, 90.0, 90.0, 1e300, 100.0 * math.exp(90)]])
    t = np.concatenate([t, [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 2.0]])
    rate = np.concatenate([rate, np.zeros(extra)])
    q = np.concatenate([q, np.zeros(extra)])
    kind = np.concatenate([kind, np.ones(extra, dtype=int)])
    x = rng.uniform(-40.0, 40.0, 40)
    s = np.exp(rng.uniform(math.log(1e-3), math.log(4.0), 40))
    theta = rng.choice([1, -1], 40)
    return {
        "iv": [a.tolist() for a in (price, spot, strike, t, rate, kind)],
        "q": q.tolist(),
        "black": [x.tolist(), s.tolist(), theta.tolist()],
    }


def _run_subprocess(disable_numba: bool, inputs: dict[str, object]) -> dict[str, object]:
    env = dict(os.environ)
    if disable_numba:
        env["HEDGEKEEPER_DISABLE_NUMBA"] = "1"
    else:
        env.pop("HEDGEKEEPER_DISABLE_NUMBA", None)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _SUBPROCESS_SCRIPT],
        input=json.dumps(inputs),
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_plain_python_path_agrees_with_numba() -> None:
    inputs = _case_inputs()
    plain = _run_subprocess(True, inputs)
    assert plain["numba"] is False
    args = inputs["iv"]
    assert isinstance(args, list)
    price, spot, strike, t, rate, kind = args
    vol, status = implied_vol(
        price, spot, strike, t, rate, kind, "black_scholes", inputs["q"], return_status=True
    )
    black_args = inputs["black"]
    assert isinstance(black_args, list)
    black = normalised_black(*black_args)
    assert plain["status"] == status.tolist()
    assert set(status.tolist()) >= {0, 1, 2, 3, 4, 5}
    assert status[-1] == IVStatus.OK
    assert 1.6 < vol[-1] < 1.8  # b(-90, s) = 1.4e-309 at s = 2.4, vol = 2.4 / sqrt(2)
    plain_vol = np.array([float(v) for v in plain["vol"]])  # type: ignore[attr-defined]
    plain_black = np.array([float(b) for b in plain["black"]])  # type: ignore[attr-defined]
    np.testing.assert_allclose(plain_vol, vol, rtol=1e-15, equal_nan=True)
    np.testing.assert_allclose(plain_black, black, rtol=1e-15, equal_nan=True)
    if NUMBA_AVAILABLE:
        compiled = _run_subprocess(False, inputs)
        assert compiled["numba"] is True
        assert compiled["status"] == plain["status"]
