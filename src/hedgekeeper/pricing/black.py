"""Black-Scholes-Merton and Black-76 prices with first- and second-order Greeks.

Both models are one formula. With forward ``F``, discount factor ``D = exp(-r t)`` and
``s = vol * sqrt(t)``::

    d1 = ln(F / K) / s + s / 2,     d2 = d1 - s
    V  = D * w * (F * N(w d1) - K * N(w d2)),     w = +1 call, -1 put

Black (1976), "The pricing of commodity contracts", J. Financial Economics 3, 167-179;
Haug, *The Complete Guide to Option Pricing Formulas*, 2nd ed. (2007), ch. 1 (generalised
Black-Scholes-Merton with cost of carry ``b``: ``F = S exp(b t)``, ``b = r - q`` for a
continuous dividend/carry yield ``q`` (Merton 1973), ``b = 0`` for Black-76); Hull,
*Options, Futures, and Other Derivatives*, chapters "The Black-Scholes-Merton Model" and
"Futures Options and Black's Model".

Greeks (Haug 2007, ch. 2; Hull, chapter "The Greek Letters"), with ``phi`` the standard
normal density and ``n1 = phi(d1)``; Black-76 differentiates with the forward held fixed,
Black-Scholes-Merton with the spot held fixed (``e = exp(-q t) = D F / S``)::

                Black-76 (forward F)                 Black-Scholes-Merton (spot S)
    delta       D w N(w d1)                          e w N(w d1)
    gamma       D n1 / (F s)                         e n1 / (S s)
    vega        D F n1 sqrt(t)                       (same: S e n1 sqrt(t))
    vanna       -D n1 d2 / vol                       -e n1 d2 / vol
    volga       vega d1 d2 / vol                     (same)
    theta       r V - D F n1 vol / (2 sqrt(t))       r V - D F n1 vol / (2 sqrt(t)) - b S delta
    rho         -t V                                 t K D w N(w d2)  (= -t V + t S delta)

``theta`` is ``-dV/dt``: the value change per year of calendar time passing (QuantLib's
convention; negative for a long call when ``r = q = 0``). ``vega``, ``vanna`` and ``volga``
are per 1.00 of vol, ``rho`` per 1.00 of rate. Put-call parity: ``C - P = D (F - K)``.

Numerics
--------
* Only the out-of-the-money option (call if ``F <= K``, else put) is evaluated from the
  formula; the in-the-money one follows from put-call parity, so a deep in-the-money price
  keeps every digit. The normal CDF is never formed as ``1 - N(x)``: ``N`` comes from ``erf``
  for ``|x| <= 0.66`` and from the scaled ``erfcx`` beyond (Cody 1969), whose tail
  ``N(-z) = exp(-z^2/2) erfcx(z/sqrt 2) / 2`` shares one ``exp`` between both legs of the price.
  The difference ``F N(d1) - K N(d2)`` is formed without cancellation: by a Hermite series for
  ``N(d1) - N(d2)`` when ``s`` is small, by erf terms near the money, and in the tails by
  differencing ``erfcx`` (its leading ``1/(sqrt(pi) y)`` terms exactly). ``ln(F/K)`` comes from
  ``log1p((F - K)/K)`` near the money so it keeps its relative precision there.
* Accuracy of the price against mpmath (tests/reference/test_black_reference.py): relative
  error below 1.5e-14 near the money for every ``s`` down to 1e-14, below ~1e-13 where
  ``|d2| <= 8`` and below 4e-13 for every price down to 1e-300 (the last bit of ``ln(F/K)``
  costs about ``d2^2 * 2e-16`` there). No ``NaN`` and no overflow at any moneyness.
* ``t == 0``, ``vol == 0`` (or ``vol * sqrt(t) < 1e-300``), ``forward == 0`` or
  ``strike == 0``: the price is the discounted intrinsic value of the forward,
  ``D max(w (F - K), 0)``; delta is the step ``D w H(w (F - K))`` (times ``F/S`` for
  Black-Scholes-Merton) with ``H(0) = 1/2``; gamma, vega, vanna and volga are 0 (their limits
  away from the money; at the money they are singular or one-sided); theta and rho are the
  derivatives of that discounted intrinsic value.
* Invalid input raises ``ValueError`` naming the argument: ``NaN`` or infinite values
  anywhere, negative spot/forward, strike, ``t`` or ``vol``, unknown ``kind``, shapes that do
  not broadcast. For Black-Scholes-Merton a forward ``S exp((r - q) t)`` that overflows gives
  ``inf``/``NaN``; a gamma whose true value exceeds the double range (``F s`` below ~1e-308)
  is ``inf``.

Speed: one fused numba kernel walks the broadcast inputs once and writes all eight outputs;
it also checks the inputs, so validation costs no extra pass. Its loop body has no branch
(selects only) and calls no libm function (``exp``/``log`` are written out), so LLVM
vectorises it with SIMD: on one core of an AMD EPYC (Zen 4, AVX-512) a 1,000,000-option call
takes 30-40 ms for all eight outputs, 5-7x less than pyvolr's Rust kernels or fast-vollib's
numba backend take for price, delta, gamma and vega (bench/pricing.py). ``_black_numpy`` is
the vectorised numpy/scipy reference beside it, used when numba is unavailable or disabled
with ``HEDGEKEEPER_DISABLE_NUMBA=1``; the tests check that the two agree.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import special

from hedgekeeper.pricing._inputs import (
    ArrayLike,
    FloatArray,
    KindArray,
    KindLike,
    as_float,
    as_kind,
    broadcast,
    require,
)
from hedgekeeper.pricing._jit import NUMBA_AVAILABLE, njit_vectorize

__all__ = ["OptionGreeks", "black76", "black_scholes"]

_G = TypeVar("_G", bound=np.generic)

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_N_OUTPUTS = 8
# vol sqrt(t) below this counts as 0 (its reciprocal must not overflow); the at-the-money time
# value it drops, about 0.4 F s, is below 1e-300 F.
_MIN_STD_DEV = 1e-300
_BLOCK = 1024  # options per block in the kernel; scalar inputs are spread over one block

# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
# (1969) 631-638, as in netlib SPECFUN CALERF (coefficients as transcribed in Jaeckel's
# LetsBeRational, package ``cody_special``): erf(y) for |y| <= 0.46875, and the scaled
# erfcx(y) = exp(y^2) erfc(y) for 0.46875 < y <= 4 and y > 4. Relative error below 7e-16
# (tests/unit/pricing/test_black.py measures it against mpmath). erfcx carries no exp, so a tail
# N(-z) = exp(-z^2/2) erfcx(z/sqrt 2) / 2 reuses the exp the normal density needs anyway.
_CODY_THRESHOLD = 0.46875
_CA0, _CA1, _CA2, _CA3, _CA4 = (
    3.1611237438705656,
    113.864154151050156,
    377.485237685302021,
    3209.37758913846947,
    0.185777706184603153,
)
_CB0, _CB1, _CB2, _CB3 = (
    23.6012909523441209,
    244.024637934444173,
    1282.61652607737228,
    2844.23683343917062,
)
_CC0, _CC1, _CC2, _CC3, _CC4, _CC5, _CC6, _CC7, _CC8 = (
    0.564188496988670089,
    8.88314979438837594,
    66.1191906371416295,
    298.635138197400131,
    881.95222124176909,
    1712.04761263407058,
    2051.07837782607147,
    1230.33935479799725,
    2.15311535474403846e-8,
)
_CD0, _CD1, _CD2, _CD3, _CD4, _CD5, _CD6, _CD7 = (
    15.7449261107098347,
    117.693950891312499,
    537.181101862009858,
    1621.38957456669019,
    3290.79923573345963,
    4362.61909014324716,
    3439.36767414372164,
    1230.33935480374942,
)
_CP0, _CP1, _CP2, _CP3, _CP4, _CP5 = (
    0.305326634961232344,
    0.360344899949804439,
    0.125781726111229246,
    0.0160837851487422766,
    6.58749161529837803e-4,
    0.0163153871373020978,
)
_CQ0, _CQ1, _CQ2, _CQ3, _CQ4 = (
    2.56852019228982242,
    1.87295284992346047,
    0.527905102951428412,
    0.0605183413124413191,
    0.00233520497626869185,
)

# exp and log written out so LLVM can vectorise the kernel (SIMD): libm calls cannot be.
# exp: Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, Taylor polynomial of degree 13
# (truncation < 5e-18), 2^k applied in two halves so subnormal results round once.
# log: fdlibm e_log.c (Sun Microsystems, 1993): m = 2^k (1 + f), sqrt(1/2) <= 1 + f < sqrt(2),
# s = f / (2 + f), log(1 + f) = f - s (f - R(s^2)) with fdlibm's minimax Lg1..Lg7.
# Both measured against libm/mpmath in the tests: within 2 ulp.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52: (x + magic) - magic rounds x to an integer
_LG1, _LG2, _LG3, _LG4, _LG5, _LG6, _LG7 = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # bit pattern of sqrt(1/2)
_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO = math.sqrt(2.0)
_MIN_NORMAL = 2.2250738585072014e-308
_TWO_54 = 18014398509481984.0


@dataclass(frozen=True, slots=True)
class OptionGreeks:
    """Price and Greeks of a batch of European options; every field has the broadcast shape.

    All fields are read-only float64 arrays (0-d for scalar inputs). Units: price in the
    currency of the strike; ``delta`` per unit of the underlying (the forward for Black-76,
    the spot for Black-Scholes-Merton); ``gamma`` per unit squared; ``vega``, ``vanna``
    (d delta / d vol) and ``volga`` (d vega / d vol) per 1.00 of vol; ``theta`` per year of
    calendar time passing (``-dV/dt``); ``rho`` per 1.00 of rate.
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray
    vanna: FloatArray
    volga: FloatArray

    def __post_init__(self) -> None:
        for field in fields(self):
            value = np.asarray(getattr(self, field.name), dtype=np.float64)
            view = value.view()
            view.flags.writeable = False
            object.__setattr__(self, field.name, view)


def _py_bits_to_float(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<q", bits))[0])


def _py_float_to_bits(value: float) -> int:
    return int(struct.unpack("<q", struct.pack("<d", value))[0])


_bits_to_float: Callable[[int], float] = _py_bits_to_float
_float_to_bits: Callable[[float], int] = _py_float_to_bits
if NUMBA_AVAILABLE:
    from numba import types as _nb_types
    from numba.extending import intrinsic as _nb_intrinsic

    def _bitcast_typer(source: Any, target: Any) -> Any:
        def typer(typingctx: Any, value: Any) -> Any:
            def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
                return builder.bitcast(args[0], context.get_value_type(target))

            return target(source), codegen

        return typer

    _bits_to_float = _nb_intrinsic(_bitcast_typer(_nb_types.int64, _nb_types.float64))
    _float_to_bits = _nb_intrinsic(_bitcast_typer(_nb_types.float64, _nb_types.int64))


@njit_vectorize
def _exp(x: float) -> float:
    """exp(x) within 2 ulp; 0 below -746, inf above 710 (see the note above)."""
    xc = min(max(x, -746.0), 710.0)
    kf = (xc * _LOG2E + _ROUND_MAGIC) - _ROUND_MAGIC
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = 1.0 + r * (1.0 + r * p)
    k = int(kf)
    half = k >> 1
    return (p * _bits_to_float((half + 1023) << 52)) * _bits_to_float((k - half + 1023) << 52)


@njit_vectorize
def _log1p_reduced(f: float) -> float:
    """log(1 + f) for sqrt(1/2) - 1 <= f < sqrt(2) - 1 (fdlibm e_log.c kernel)."""
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    big_r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    return f - s * (f - big_r)


@njit_vectorize
def _log(x: float) -> float:
    """log(x) for x >= 0 within 2 ulp; -inf at 0, inf at inf (see the note above)."""
    subnormal = x < _MIN_NORMAL
    xs = x * _TWO_54 if subnormal else x
    bits = _float_to_bits(xs)
    k = (bits - _SQRT_HALF_BITS) >> 52
    f = _bits_to_float(bits - (k << 52)) - 1.0
    dk = float(k) - (54.0 if subnormal else 0.0)
    # dk ln2_hi is exact; fdlibm adds the small terms first.
    result = dk * _LN2_HI + (_log1p_reduced(f) + dk * _LN2_LO)
    if x == 0.0:
        return -math.inf
    if x == math.inf:
        return math.inf
    return result


@njit_vectorize
def _erf_small(y: float) -> float:
    """erf(y) for |y| <= 0.46875 (Cody 1969)."""
    ysq = y * y
    num = (((_CA4 * ysq + _CA0) * ysq + _CA1) * ysq + _CA2) * ysq + _CA3
    den = (((ysq + _CB0) * ysq + _CB1) * ysq + _CB2) * ysq + _CB3
    return y * num / den


@njit_vectorize
def _erfcx_mid(y: float) -> float:
    """exp(y^2) erfc(y) for 0.46875 <= y <= 4 (Cody 1969)."""
    num = (
        ((((((_CC8 * y + _CC0) * y + _CC1) * y + _CC2) * y + _CC3) * y + _CC4) * y + _CC5) * y
        + _CC6
    ) * y + _CC7
    den = (
        ((((((y + _CD0) * y + _CD1) * y + _CD2) * y + _CD3) * y + _CD4) * y + _CD5) * y + _CD6
    ) * y + _CD7
    return num / den


@njit_vectorize
def _erfcx_large_correction(y: float) -> float:
    """1 / (sqrt(pi) y) - exp(y^2) erfc(y) for y >= 4 (Cody 1969); 0 at y = inf."""
    z = 1.0 / (y * y)
    num = ((((_CP5 * z + _CP0) * z + _CP1) * z + _CP2) * z + _CP3) * z + _CP4
    den = ((((z + _CQ0) * z + _CQ1) * z + _CQ2) * z + _CQ3) * z + _CQ4
    return z * num / den / y


@njit_vectorize
def _black_kernel(
    underlying: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div_yield: FloatArray,
    vol: FloatArray,
    kind: KindArray,
    spot_model: bool,
    out: FloatArray,
) -> int:
    """Fill ``out[0:8, i]`` for every option ``i``; return a bit mask of invalid arguments.

    Every input is 1-d, of length ``out.shape[1]`` or 1 (one value shared by all options).
    Mask bits: 1 underlying, 2 strike, 4 t, 8 rate, 16 div_yield, 32 vol (0: all valid).
    The loop body has no branch a SIMD lane cannot take (selects only), so LLVM vectorises it.
    See the module docstring for the formulas; ``lo, hi = min(F, K), max(F, K)`` turn the
    out-of-the-money option into a call on forward ``lo`` struck at ``hi`` (a put on F struck
    at K is a call on K struck at F), whose d1 and d2 are ``a1 = -|ln(F/K)|/s + s/2`` and
    ``a2 = a1 - s``.
    """
    n = out.shape[1]
    if n == 0:
        return 0
    block = min(_BLOCK, n)
    fill_u = np.full(block, underlying[0])
    fill_k = np.full(block, strike[0])
    fill_t = np.full(block, t[0])
    fill_r = np.full(block, rate[0])
    fill_q = np.full(block, div_yield[0])
    fill_v = np.full(block, vol[0])
    fill_w = np.full(block, kind[0])
    carry_on = 1.0 if spot_model else 0.0
    bad = 0
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        m = stop - start
        u_b = underlying[start:stop] if underlying.shape[0] > 1 else fill_u[:m]
        k_b = strike[start:stop] if strike.shape[0] > 1 else fill_k[:m]
        t_b = t[start:stop] if t.shape[0] > 1 else fill_t[:m]
        r_b = rate[start:stop] if rate.shape[0] > 1 else fill_r[:m]
        q_b = div_yield[start:stop] if div_yield.shape[0] > 1 else fill_q[:m]
        v_b = vol[start:stop] if vol.shape[0] > 1 else fill_v[:m]
        w_b = kind[start:stop] if kind.shape[0] > 1 else fill_w[:m]
        price_b = out[0, start:stop]
        delta_b = out[1, start:stop]
        gamma_b = out[2, start:stop]
        vega_b = out[3, start:stop]
        theta_b = out[4, start:stop]
        rho_b = out[5, start:stop]
        vanna_b = out[6, start:stop]
        volga_b = out[7, start:stop]
        for j in range(m):
            und = u_b[j]
            k = k_b[j]
            tt = t_b[j]
            r = r_b[j]
            q = q_b[j]
            sig = v_b[j]
            w = float(w_b[j])
            # NaN fails every comparison, so these flag NaN too.
            bad |= (
                (0 if (und >= 0.0) & (und < math.inf) else 1)
                | (0 if (k >= 0.0) & (k < math.inf) else 2)
                | (0 if (tt >= 0.0) & (tt < math.inf) else 4)
                | (0 if abs(r) < math.inf else 8)
                | (0 if abs(q) < math.inf else 16)
                | (0 if (sig >= 0.0) & (sig < math.inf) else 32)
            )

            disc = _exp(-r * tt)
            carry = carry_on * (r - q)
            growth = _exp(carry * tt)  # F / S; exactly 1 for Black-76
            f = und * growth
            sqrt_t = math.sqrt(tt)
            s = sig * sqrt_t
            smooth = (s >= _MIN_STD_DEV) & (f > 0.0) & (k > 0.0) & (f < math.inf)
            # Lanes that take the intrinsic-value branch compute on harmless stand-ins.
            s_ = s if smooth else 1.0
            f_ = f if smooth else 1.0
            k_ = k if smooth else 1.0

            # ln(F/K): from the exact difference F - K when F/K is near 1, so x keeps its
            # relative precision at the money (F/K itself would round it away).
            gap = (f_ - k_) / k_
            near = (gap >= _SQRT_HALF - 1.0) & (gap < _SQRT_TWO - 1.0)
            x = _log1p_reduced(gap) if near else _log(f_ / k_)
            call_otm = x <= 0.0
            lo = min(f_, k_)
            hi = max(f_, k_)
            ratio = lo / hi
            inv_s = 1.0 / s_
            h = -abs(x) * inv_s
            a1 = h + 0.5 * s_
            a2 = h - 0.5 * s_  # < 0
            # exp(-a1^2/2); exp(-a2^2/2) = exp(-a1^2/2) lo / hi since a1^2 - a2^2 = 2 |x|.
            gauss_1 = _exp(-0.5 * a1 * a1)
            gauss_2 = gauss_1 * ratio

            y1 = abs(a1) * _SQRT1_2
            g1 = _erf_small(max(min(a1 * _SQRT1_2, _CODY_THRESHOLD), -_CODY_THRESHOLD))
            corr_1 = _erfcx_large_correction(max(y1, 4.0))
            cx1 = (
                _erfcx_mid(min(max(y1, _CODY_THRESHOLD), 4.0))
                if y1 <= 4.0
                else _INV_SQRT_PI / y1 - corr_1
            )
            tail_1 = 0.5 * gauss_1 * cx1  # N(-|a1|)
            erf_1 = y1 <= _CODY_THRESHOLD
            n1 = 0.5 + 0.5 * g1 if erf_1 else (tail_1 if a1 < 0.0 else 1.0 - tail_1)  # N(a1)
            m1 = 0.5 - 0.5 * g1 if erf_1 else (1.0 - tail_1 if a1 < 0.0 else tail_1)  # N(-a1)

            y2 = -a2 * _SQRT1_2
            g2 = _erf_small(max(a2 * _SQRT1_2, -_CODY_THRESHOLD))
            corr_2 = _erfcx_large_correction(max(y2, 4.0))
            cx2 = (
                _erfcx_mid(min(max(y2, _CODY_THRESHOLD), 4.0))
                if y2 <= 4.0
                else _INV_SQRT_PI / y2 - corr_2
            )
            tail_2 = 0.5 * gauss_2 * cx2  # N(a2)
            erf_2 = y2 <= _CODY_THRESHOLD
            n2 = 0.5 + 0.5 * g2 if erf_2 else tail_2
            m2 = 0.5 - 0.5 * g2 if erf_2 else 1.0 - tail_2

            # The out-of-the-money price lo N(a1) - hi N(a2) without cancellation:
            # * for small s (s <= 0.1, |h| s <= 0.12, |h| <= 6): lo (N(a1) - N(a2)) - (hi - lo)
            #   N(a2), where N(h + s/2) - N(h - s/2) = s phi(h) sum_k He_2k(h) (s/2)^2k / (2k+1)!
            #   (Taylor series of phi about h, He_n the Hermite polynomials; the terms after
            #   k = 4 are below 1e-19 there) and the two terms cancel by at most ~h^2;
            # * near the money otherwise: the erf terms (they cancel by at most ~1/s < 10);
            # * both legs in the lower tail: hi N(a2) = lo exp(-a1^2/2) erfcx(y2) / 2, so the
            #   price is lo exp(-a1^2/2) (erfcx(y1) - erfcx(y2)) / 2; beyond y = 4 the leading
            #   1/(sqrt(pi) y) terms are differenced exactly: 1/y1 - 1/y2 = (s/sqrt 2)/(y1 y2).
            h2 = h * h
            z = 0.25 * s_ * s_
            he2 = h2 - 1.0
            he4 = (h2 - 6.0) * h2 + 3.0
            he6 = ((h2 - 15.0) * h2 + 45.0) * h2 - 15.0
            he8 = (((h2 - 28.0) * h2 + 210.0) * h2 - 420.0) * h2 + 105.0
            series = 1.0 + z * (
                he2 / 6.0 + z * (he4 / 120.0 + z * (he6 / 5040.0 + z * he8 / 362880.0))
            )
            gap_n = s_ * _INV_SQRT_2PI * _exp(-0.5 * h2) * series  # N(a1) - N(a2)
            if y1 > 4.0:
                cx_gap = (_INV_SQRT_PI * (s_ * _SQRT1_2) / (y1 * y2)) - (corr_1 - corr_2)
            else:
                cx_gap = cx1 - cx2
            if (s_ <= 0.1) & (h * s_ >= -0.12) & (h >= -6.0):
                otm = lo * gap_n - (hi - lo) * n2
            elif erf_1 & erf_2:
                otm = 0.5 * ((lo - hi) + (lo * g1 - hi * g2))
            elif (a1 < 0.0) & (y1 > _CODY_THRESHOLD):
                otm = 0.5 * lo * gauss_1 * cx_gap
            else:
                otm = lo * n1 - hi * n2
            otm = max(otm, 0.0)
            is_call = w > 0.0
            itm = is_call != call_otm
            value_s = otm + w * (f_ - k_) if itm else otm
            if call_otm:  # d1 = a1, d2 = a2
                delta_s = n1 if is_call else -m1
                d2 = a2
                pdf_d1 = _INV_SQRT_2PI * gauss_1
            else:  # the put is out of the money: d1 = -a2, d2 = -a1
                delta_s = m2 if is_call else -n2
                d2 = -a1
                pdf_d1 = _INV_SQRT_2PI * gauss_2
            live = smooth & (pdf_d1 > 0.0)
            inv_sig = sqrt_t * inv_s
            density = f_ * pdf_d1  # F phi(d1) = K phi(d2)
            gamma_u = pdf_d1 * inv_s / f_ if live else 0.0
            vega_u = density * sqrt_t if live else 0.0
            vanna_u = -pdf_d1 * d2 * inv_sig if live else 0.0
            volga_u = density * sqrt_t * (a1 * a2) * inv_sig if live else 0.0  # d1 d2 = a1 a2
            decay_u = 0.5 * density * sig * sig * inv_s if live else 0.0  # dB/d(expiry)

            intrinsic = w * (f - k)
            value_u = value_s if smooth else max(intrinsic, 0.0)
            step = w if intrinsic > 0.0 else (0.5 * w if intrinsic == 0.0 else 0.0)
            delta_u = delta_s if smooth else step

            price = disc * value_u
            delta_f = disc * delta_u
            price_b[j] = price
            delta_b[j] = delta_f * growth
            gamma_b[j] = disc * gamma_u * growth * growth
            vega_b[j] = disc * vega_u
            theta_b[j] = r * price - disc * decay_u - carry * f * delta_f
            rho_b[j] = tt * (carry_on * f * delta_f - price)
            vanna_b[j] = disc * vanna_u * growth
            volga_b[j] = disc * volga_u
    return bad


def _black_numpy(
    underlying: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div_yield: FloatArray,
    vol: FloatArray,
    kind: KindArray,
    spot_model: bool,
) -> tuple[FloatArray, ...]:
    """Vectorised numpy/scipy reference of ``_black_kernel`` on broadcast, validated inputs.

    Same branches, with numpy's exp/log and scipy's erf/erfcx (not Cody's) for the special
    functions. Returns price, delta, gamma, vega, theta, rho, vanna, volga.
    """
    w = kind.astype(np.float64)
    with np.errstate(all="ignore"):
        disc = np.exp(-rate * t)
        carry = rate - div_yield if spot_model else np.zeros_like(rate)
        growth = np.exp(carry * t)
        f = underlying * growth
        sqrt_t = np.sqrt(t)
        s = vol * sqrt_t
        smooth = (s >= _MIN_STD_DEV) & (f > 0.0) & (strike > 0.0) & (f < np.inf)
        s_ = np.where(smooth, s, 1.0)
        f_ = np.where(smooth, f, 1.0)
        k_ = np.where(smooth, strike, 1.0)

        gap = (f_ - k_) / k_
        near = (gap >= _SQRT_HALF - 1.0) & (gap < _SQRT_TWO - 1.0)
        x = np.where(near, np.log1p(gap), np.log(f_ / k_))
        call_otm = x <= 0.0
        lo = np.minimum(f_, k_)
        hi = np.maximum(f_, k_)
        h = -np.abs(x) / s_
        a1 = h + 0.5 * s_
        a2 = h - 0.5 * s_
        gauss_1 = np.exp(-0.5 * a1 * a1)
        gauss_2 = gauss_1 * (lo / hi)
        y1 = np.abs(a1) * _SQRT1_2
        y2 = -a2 * _SQRT1_2
        g1 = special.erf(a1 * _SQRT1_2)
        g2 = special.erf(a2 * _SQRT1_2)
        cx1 = special.erfcx(y1)
        cx2 = special.erfcx(y2)
        tail_1 = 0.5 * gauss_1 * cx1
        tail_2 = 0.5 * gauss_2 * cx2
        erf_1 = y1 <= _CODY_THRESHOLD
        erf_2 = y2 <= _CODY_THRESHOLD
        n1 = np.where(erf_1, 0.5 + 0.5 * g1, np.where(a1 < 0.0, tail_1, 1.0 - tail_1))
        m1 = np.where(erf_1, 0.5 - 0.5 * g1, np.where(a1 < 0.0, 1.0 - tail_1, tail_1))
        n2 = np.where(erf_2, 0.5 + 0.5 * g2, tail_2)
        m2 = np.where(erf_2, 0.5 - 0.5 * g2, 1.0 - tail_2)
        h2 = h * h
        z = 0.25 * s_ * s_
        hermite = [
            np.ones_like(h),
            h2 - 1.0,
            (h2 - 6.0) * h2 + 3.0,
            ((h2 - 15.0) * h2 + 45.0) * h2 - 15.0,
            (((h2 - 28.0) * h2 + 210.0) * h2 - 420.0) * h2 + 105.0,
        ]
        series = sum(he * z**k / math.factorial(2 * k + 1) for k, he in enumerate(hermite))
        gap_n = s_ * _INV_SQRT_2PI * np.exp(-0.5 * h2) * series
        otm = np.where(
            erf_1 & erf_2,
            0.5 * ((lo - hi) + (lo * g1 - hi * g2)),
            np.where((a1 < 0.0) & ~erf_1, 0.5 * lo * gauss_1 * (cx1 - cx2), lo * n1 - hi * n2),
        )
        use_series = (s_ <= 0.1) & (h * s_ >= -0.12) & (h >= -6.0)
        otm = np.where(use_series, lo * gap_n - (hi - lo) * n2, otm)
        otm = np.maximum(otm, 0.0)

        is_call = w > 0.0
        itm = is_call != call_otm
        value_s = np.where(itm, otm + w * (f_ - k_), otm)
        delta_s = np.where(call_otm, np.where(is_call, n1, -m1), np.where(is_call, m2, -n2))
        d2 = np.where(call_otm, a2, -a1)
        pdf_d1 = _INV_SQRT_2PI * np.where(call_otm, gauss_1, gauss_2)
        live = smooth & (pdf_d1 > 0.0)
        density = f_ * pdf_d1
        gamma_u = np.where(live, pdf_d1 / (f_ * s_), 0.0)
        vega_u = np.where(live, density * sqrt_t, 0.0)
        vanna_u = np.where(live, -pdf_d1 * d2 * sqrt_t / s_, 0.0)
        volga_u = np.where(live, density * sqrt_t * (a1 * a2) * sqrt_t / s_, 0.0)
        decay_u = np.where(live, 0.5 * density * vol * vol / s_, 0.0)

        intrinsic = w * (f - strike)
        value_u = np.where(smooth, value_s, np.maximum(intrinsic, 0.0))
        step = np.where(intrinsic > 0.0, w, np.where(intrinsic == 0.0, 0.5 * w, 0.0))
        delta_u = np.where(smooth, delta_s, step)

        price = disc * value_u
        delta_f = disc * delta_u
        outputs = (
            price,
            delta_f * growth,
            disc * gamma_u * growth * growth,
            disc * vega_u,
            rate * price - disc * decay_u - carry * f * delta_f,
            t * ((f * delta_f if spot_model else 0.0) - price),
            disc * vanna_u * growth,
            disc * volga_u,
        )
    return tuple(np.asarray(o, dtype=np.float64) for o in outputs)


def _flat(value: npt.NDArray[_G], shape: tuple[int, ...]) -> npt.NDArray[_G]:
    """1-d writeable C-contiguous view or copy: one element if shared, else one per option."""
    if value.size == 1:
        flat = value.reshape(1)
    elif value.shape == shape:
        flat = value.reshape(-1)
    else:
        flat = np.ascontiguousarray(np.broadcast_to(value, shape)).reshape(-1)
    # The kernel is compiled (and cached) for writeable contiguous arrays only.
    if not (flat.flags.writeable and flat.flags.c_contiguous):
        flat = flat.copy()
    return flat


def _validate(named: dict[str, FloatArray]) -> None:
    """Raise ``ValueError`` naming the first argument with a NaN, inf or negative value."""
    for name, value in named.items():
        if name in ("rate", "div_yield"):
            require(name, np.isfinite(value), "a finite number", value)
        else:
            require(name, np.isfinite(value) & (value >= 0.0), "a finite number >= 0", value)


def _price(
    underlying_name: str,
    underlying: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    kind: KindLike,
    div_yield: ArrayLike,
    spot_model: bool,
) -> OptionGreeks:
    u_in = as_float(underlying_name, underlying)
    k_in = as_float("strike", strike)
    t_in = as_float("t", t)
    r_in = as_float("rate", rate)
    q_in = as_float("div_yield", div_yield)
    v_in = as_float("vol", vol)
    w_in = as_kind(kind)
    named = {underlying_name: u_in, "strike": k_in, "t": t_in, "rate": r_in, "vol": v_in}
    if spot_model:
        named["div_yield"] = q_in
    shape = broadcast({**named, "kind": w_in})[0].shape

    if not NUMBA_AVAILABLE:
        _validate(named)
        u, k, tt, r, q, v = (
            np.broadcast_to(a, shape) for a in (u_in, k_in, t_in, r_in, q_in, v_in)
        )
        outputs = _black_numpy(u, k, tt, r, q, v, np.broadcast_to(w_in, shape), spot_model)
        return OptionGreeks(*outputs)

    out = np.empty((_N_OUTPUTS, math.prod(shape)), dtype=np.float64)
    bad = _black_kernel(
        _flat(u_in, shape),
        _flat(k_in, shape),
        _flat(t_in, shape),
        _flat(r_in, shape),
        _flat(q_in, shape),
        _flat(v_in, shape),
        _flat(w_in, shape),
        spot_model,
        out,
    )
    if bad:
        _validate(named)
        raise AssertionError(f"pricing kernel flagged inputs (mask {bad}) that validation accepts")
    return OptionGreeks(*(row.reshape(shape) for row in out))


def black_scholes(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    kind: KindLike,
    div_yield: ArrayLike = 0.0,
) -> OptionGreeks:
    """Black-Scholes-Merton price and Greeks of European options on a spot with yield ``q``.

    Parameters
    ----------
    spot : array_like
        Spot price ``S >= 0`` (currency units).
    strike : array_like
        Strike ``K >= 0``, same currency.
    t : array_like
        Time to expiry in years (ACT/365), ``>= 0``.
    rate : array_like
        Risk-free rate, continuously compounded, as a fraction (may be negative).
    vol : array_like
        Volatility as a fraction per sqrt(year), ``>= 0``.
    kind : str or array_like
        ``"call"``/``"put"``, ``"c"``/``"p"``, or integers +1 (call) / -1 (put).
    div_yield : array_like, default 0.0
        Continuous dividend (or carry, or foreign-rate) yield ``q``, as a fraction.

    Returns
    -------
    OptionGreeks
        Fields of the broadcast shape of the inputs. ``delta``, ``gamma`` and ``vanna`` are
        with respect to the spot; ``theta`` (per year of calendar time passing) and ``rho``
        hold the spot fixed. Formulas: Haug (2007), ch. 1-2, generalised BSM with ``b = r - q``.

    Raises
    ------
    ValueError
        Naming the argument: NaN or infinite values, negative ``spot``, ``strike``, ``t`` or
        ``vol``, an unknown ``kind``, or shapes that do not broadcast.

    Examples
    --------
    Hull, Example 15.6: ``S = 42, K = 40, r = 0.1, vol = 0.2, t = 0.5``.

    >>> g = black_scholes(42.0, 40.0, 0.5, 0.1, 0.2, ["call", "put"])
    >>> g.price.round(2).tolist()
    [4.76, 0.81]
    """
    return _price("spot", spot, strike, t, rate, vol, kind, div_yield, spot_model=True)


def black76(
    forward: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    kind: KindLike,
) -> OptionGreeks:
    """Black-76 price and Greeks of European options on a forward or futures price.

    Parameters
    ----------
    forward : array_like
        Forward (or futures) price ``F >= 0`` for the option's expiry (currency units).
    strike : array_like
        Strike ``K >= 0``, same currency.
    t : array_like
        Time to expiry in years (ACT/365), ``>= 0``.
    rate : array_like
        Discount rate, continuously compounded, as a fraction (may be negative).
    vol : array_like
        Volatility as a fraction per sqrt(year), ``>= 0``.
    kind : str or array_like
        ``"call"``/``"put"``, ``"c"``/``"p"``, or integers +1 (call) / -1 (put).

    Returns
    -------
    OptionGreeks
        Fields of the broadcast shape of the inputs. ``delta``, ``gamma`` and ``vanna`` are
        with respect to the forward; ``theta`` and ``rho`` hold the forward fixed, so
        ``rho = -t * price`` (Haug 2007, ch. 2, Black-76 rho).

    Raises
    ------
    ValueError
        Naming the argument: NaN or infinite values, negative ``forward``, ``strike``, ``t`` or
        ``vol``, an unknown ``kind``, or shapes that do not broadcast.

    Examples
    --------
    Hull, "Futures Options and Black's Model": a futures put with ``F = K = 20``,
    ``t = 4/12``, ``r = 0.09``, ``vol = 0.25`` is worth 1.12.

    >>> round(float(black76(20.0, 20.0, 4 / 12, 0.09, 0.25, "put").price), 2)
    1.12
    """
    return _price("forward", forward, strike, t, rate, vol, kind, 0.0, spot_model=False)
