"""Peter Jäckel's "Let's Be Rational" implied-volatility algorithm as numba kernels.

References
----------
P. Jäckel, "Let's Be Rational", Wilmott Magazine, January 2015, pp. 40-53
(http://www.jaeckel.org/LetsBeRational.pdf). Reference code: www.jaeckel.org/LetsBeRational.7z.

W. J. Cody, "Rational Chebyshev approximations for the error function",
Math. Comp. 23 (1969), pp. 631-638 (``erfcx``/``erfc`` below).

M. J. Wichura, "Algorithm AS 241: The percentage points of the normal distribution",
Appl. Statist. 37 (1988), pp. 477-484 (inverse normal cdf below).

R. Delbourgo and J. A. Gregory, "Shape preserving piecewise rational interpolation",
SIAM J. Sci. Stat. Comput. 6 (1985) (rational cubic interpolation of the initial guess).

Provenance and licence
----------------------
Ported line by line from the pure-Python ``py_lets_be_rational`` 1.1.2 with its helper
packages ``cody_special`` and ``piecewise_rational`` (© 2017 Gammon Capital LLC, MIT licence),
which transcribe Jäckel's C++ reference code, released under this notice, preserved here
as it requires:

    Copyright © 2013-2014 Peter Jäckel.

    Permission to use, copy, modify, and distribute this software is freely granted,
    provided that this notice is preserved.

    WARRANTY DISCLAIMER
    The Software is provided "as is" without warranty of any kind, either express or implied,
    including without limitation any implied warranties of condition, uninterrupted use,
    merchantability, fitness for a particular purpose, or non-infringement.

Departures from ``py_lets_be_rational`` (each restores Jäckel's C++ or guards a float trap):

* the Householder loop of the upper segment is re-indented as in the C++ (the Python port
  reset ``ds`` and the reversal counter on every pass);
* ``d2f > -SQRT_DBL_MAX < SQRT_DBL_MAX`` (a Python chained comparison) is the intended
  ``-SQRT_DBL_MAX < d2f < SQRT_DBL_MAX``;
* the middle-segment loop bisects when the vega underflows instead of dividing by zero;
* after Jäckel's two Householder steps, further steps (at most 16 in all) are taken only while
  the last step exceeded 1e-6 of the volatility, which happens only for |x| > 500 and s > 20;
* where the normalised price is below 1e-270 the lowest segment's initial guess and iteration
  use ln(beta) and ln b(x, s) (never beta or b themselves), so subnormal normalised prices of
  ordinary option prices (deep OTM calls on large strikes) keep full accuracy;
* b(x, s) where h + t > 0 uses the complement b_max - e^{-(h^2+t^2)/2} [erfcx((h+t)/sqrt 2)
  + erfcx((t-h)/sqrt 2)] / 2 in place of Jäckel's norm_cdf form (region 3) and of erfcx at a
  negative argument (upper region 4): the same function with fewer exponentials, at least as
  accurate (checked against mpmath); b and its vega share one exponential; in-the-money
  normalised intrinsic values use expm1 and near-the-money log-moneyness log1p.
* ``log(0)``, ``exp`` overflow and divisions by zero, which raise in plain Python and under
  numba's Python error model, are guarded so the kernels never raise on a float input.

Normalised quantities (Jäckel's notation): ``x = ln(F/K)``, ``s = vol * sqrt(t)``,
``theta = +1`` for a call, ``-1`` for a put, and the normalised Black price
``b(x, s, theta) = theta * [exp(x/2) Phi(theta (x/s + s/2)) - exp(-x/2) Phi(theta (x/s - s/2))]``,
that is the undiscounted Black price divided by ``sqrt(F K)``.

The scalar kernels below compile with numba (``hedgekeeper.pricing._jit.njit``) and run as
plain Python when numba is absent or ``HEDGEKEEPER_DISABLE_NUMBA=1``. The batch loop used by
:func:`hedgekeeper.pricing.implied_vol` lives in this module too: numba's on-disk cache only
notices edits to the file of the function it compiled, so keeping every kernel in one file
keeps the cache honest.
"""

from __future__ import annotations

import math
import sys
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from hedgekeeper.pricing._inputs import as_float, as_kind, broadcast
from hedgekeeper.pricing._jit import njit

FloatArray = npt.NDArray[np.float64]
KindArray = npt.NDArray[np.int8]
StatusArray = npt.NDArray[np.int8]
ScalarT = TypeVar("ScalarT", bound=np.generic)

DBL_EPSILON = sys.float_info.epsilon
DBL_MIN = sys.float_info.min
DBL_MAX = sys.float_info.max
SQRT_DBL_EPSILON = math.sqrt(DBL_EPSILON)
FOURTH_ROOT_DBL_EPSILON = math.sqrt(SQRT_DBL_EPSILON)
EIGHTH_ROOT_DBL_EPSILON = math.sqrt(FOURTH_ROOT_DBL_EPSILON)
SIXTEENTH_ROOT_DBL_EPSILON = math.sqrt(EIGHTH_ROOT_DBL_EPSILON)
SQRT_DBL_MIN = math.sqrt(DBL_MIN)
SQRT_DBL_MAX = math.sqrt(DBL_MAX)
INF = math.inf
NAN = math.nan
# Largest argument for which math.exp does not overflow (plain Python raises OverflowError).
EXP_ARG_MAX = 709.782712893384

ONE_OVER_SQRT_TWO = 0.7071067811865475244008443621048490392848359376887
ONE_OVER_SQRT_TWO_PI = 0.3989422804014326779399460599343818684758586311649
SQRT_TWO = 1.4142135623730950488016887242096980785696718753769
SQRT_TWO_PI = 2.506628274631000502415765284811045253006986740610
TWO_PI = 6.283185307179586476925286766559005768394338798750
SQRT_PI_OVER_TWO = 1.253314137315500251207882642405522626503493370305
SQRT_THREE = 1.732050807568877293527446341505872366942805253810
SQRT_ONE_OVER_THREE = 0.577350269189625764509148780501957455647601751270
TWO_PI_OVER_SQRT_TWENTY_SEVEN = 1.209199576156145233729385505094770488189377498728
PI_OVER_SIX = 0.523598775598298873077107230546583814032861566563

IMPLIED_VOLATILITY_MAXIMUM_ITERATIONS = 2
# Safety net beyond Jäckel's two iterations: keep iterating (up to this many in all) while the
# last Householder step exceeded SLOW_CONVERGENCE_STEP * s, i.e. while fourth-order convergence
# has not yet set in. Only extreme inputs (|x| > 500 with s > 20) ever get there.
IMPLIED_VOLATILITY_SAFETY_ITERATIONS = 16
SLOW_CONVERGENCE_STEP = 1e-6
ASYMPTOTIC_EXPANSION_ACCURACY_THRESHOLD = -10.0
SMALL_T_EXPANSION_OF_NORMALIZED_BLACK_THRESHOLD = 2.0 * SIXTEENTH_ROOT_DBL_EPSILON

MINIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE = -(1.0 - SQRT_DBL_EPSILON)
MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE = 2.0 / (DBL_EPSILON * DBL_EPSILON)

NORM_CDF_ASYMPTOTIC_EXPANSION_FIRST_THRESHOLD = -10.0
NORM_CDF_ASYMPTOTIC_EXPANSION_SECOND_THRESHOLD = -1.0 / SQRT_DBL_EPSILON
LN_INVERSE_NORM_CDF_TAIL = math.log(0.075)  # AS 241 switches to its tail forms below u = 0.075

# Below this normalised price the lowest segment of the initial guess and its iteration work
# with ln(beta) (given by the caller from the unnormalised price) rather than beta, so that
# normalised prices in or below the subnormal range keep full accuracy.
LOG_DOMAIN_BETA = 1e-270

# Status codes of the batch kernel; hedgekeeper.pricing.implied.IVStatus mirrors them.
STATUS_OK = 0
STATUS_BELOW_INTRINSIC = 1
STATUS_ABOVE_MAXIMUM = 2
STATUS_NO_TIME_VALUE = 3
STATUS_INVALID_INPUT = 4
STATUS_ZERO_EXPIRY = 5
STATUS_NOT_CONVERGED = 6

# Time value (in units of the normalised price) at or below which an in-the-money price is
# treated as equal to its intrinsic value, and distance below the upper bound within which a
# price counts as at the bound: the price, the bound and the normalisation each carry about
# one rounding, so anything closer is noise.
ROUNDING_ULPS = 4.0

MODEL_BLACK76 = 0
MODEL_BLACK_SCHOLES = 1


@njit
def _exp(a: float) -> float:
    # exp that returns inf instead of raising OverflowError in plain Python.
    if a > EXP_ARG_MAX:
        return INF
    return math.exp(a)


@njit
def _div(a: float, b: float) -> float:
    # a / b with IEEE semantics at b == 0 (plain Python and numba's Python error model raise).
    if b != 0.0:
        return a / b
    if a == 0.0 or a != a:
        return NAN
    return INF if a > 0.0 else -INF


@njit
def _log(a: float) -> float:
    # log that returns -inf at 0 and nan below, instead of raising ValueError in plain Python.
    if a > 0.0:
        return math.log(a)
    if a == 0.0:
        return -INF
    return NAN


# --------------------------------------------------------------------------------------------
# Cody's erfc / erfcx (Cody 1969; netlib specfun CALERF, as transcribed in cody_special).
# --------------------------------------------------------------------------------------------


@njit
def _d_int(x: float) -> float:
    return math.floor(x) if x > 0.0 else -math.floor(-x)


@njit
def _erfc_small(y: float) -> float:
    # 1 - erf(y) for |y| <= 0.46875 (Cody's first rational approximation to erf).
    ysq = y * y if y > 1.11e-16 else 0.0
    xnum = 0.185777706184603153 * ysq
    xden = ysq
    xnum = (xnum + 3.1611237438705656) * ysq
    xden = (xden + 23.6012909523441209) * ysq
    xnum = (xnum + 113.864154151050156) * ysq
    xden = (xden + 244.024637934444173) * ysq
    xnum = (xnum + 377.485237685302021) * ysq
    xden = (xden + 1282.61652607737228) * ysq
    return y * (xnum + 3209.37758913846947) / (xden + 2844.23683343917062)


@njit
def _erfcx_mid(y: float) -> float:
    # exp(y^2) erfc(y) for 0.46875 < y <= 4 (Cody's second approximation).
    xnum = 2.15311535474403846e-8 * y
    xden = y
    xnum = (xnum + 0.564188496988670089) * y
    xden = (xden + 15.7449261107098347) * y
    xnum = (xnum + 8.88314979438837594) * y
    xden = (xden + 117.693950891312499) * y
    xnum = (xnum + 66.1191906371416295) * y
    xden = (xden + 537.181101862009858) * y
    xnum = (xnum + 298.635138197400131) * y
    xden = (xden + 1621.38957456669019) * y
    xnum = (xnum + 881.95222124176909) * y
    xden = (xden + 3290.79923573345963) * y
    xnum = (xnum + 1712.04761263407058) * y
    xden = (xden + 4362.61909014324716) * y
    xnum = (xnum + 2051.07837782607147) * y
    xden = (xden + 3439.36767414372164) * y
    return (xnum + 1230.33935479799725) / (xden + 1230.33935480374942)


@njit
def _erfcx_large(y: float) -> float:
    # exp(y^2) erfc(y) for 4 < y < 6.71e7 (Cody's third approximation).
    ysq = 1.0 / (y * y)
    xnum = 0.0163153871373020978 * ysq
    xden = ysq
    xnum = (xnum + 0.305326634961232344) * ysq
    xden = (xden + 2.56852019228982242) * ysq
    xnum = (xnum + 0.360344899949804439) * ysq
    xden = (xden + 1.87295284992346047) * ysq
    xnum = (xnum + 0.125781726111229246) * ysq
    xden = (xden + 0.527905102951428412) * ysq
    xnum = (xnum + 0.0160837851487422766) * ysq
    xden = (xden + 0.0605183413124413191) * ysq
    result = ysq * (xnum + 6.58749161529837803e-4) / (xden + 0.00233520497626869185)
    return (0.56418958354775628695 - result) / y


@njit
def _exp_minus_square(y: float) -> float:
    # exp(-y^2) with Cody's split of y into a 1/16-grid part and a remainder for accuracy.
    ysq = _d_int(y * 16.0) / 16.0
    delta = (y - ysq) * (y + ysq)
    return math.exp(-ysq * ysq) * math.exp(-delta)


@njit
def erfcx_cody(x: float) -> float:
    """Scaled complementary error function ``exp(x^2) erfc(x)`` (Cody 1969)."""
    y = abs(x)
    if y <= 0.46875:
        ysq = y * y if y > 1.11e-16 else 0.0
        result = (1.0 - _erfc_small(y) * (1.0 if x >= 0.0 else -1.0)) * math.exp(ysq)
        return result
    if y <= 4.0:
        result = _erfcx_mid(y)
    elif y >= 2.53e307:
        result = 0.0
    elif y >= 6.71e7:
        result = 0.56418958354775628695 / y
    else:
        result = _erfcx_large(y)
    if x < 0.0:
        if x < -26.628:
            return 1.79e308
        ysq = _d_int(x * 16.0) / 16.0
        delta = (x - ysq) * (x + ysq)
        e = math.exp(ysq * ysq) * math.exp(delta)
        result = e + e - result
    return result


@njit
def erfc_cody(x: float) -> float:
    """Complementary error function ``erfc(x)`` (Cody 1969)."""
    y = abs(x)
    if y <= 0.46875:
        return 1.0 - _erfc_small(y) * (1.0 if x >= 0.0 else -1.0)
    if y <= 4.0:
        result = _erfcx_mid(y) * _exp_minus_square(y)
    elif y >= 26.543:
        result = 0.0
    else:
        result = _erfcx_large(y) * _exp_minus_square(y)
    if x < 0.0:
        result = 2.0 - result
    return result


# --------------------------------------------------------------------------------------------
# Normal distribution (cody_special.normaldistribution).
# --------------------------------------------------------------------------------------------


@njit
def norm_pdf(x: float) -> float:
    """Standard normal density."""
    return ONE_OVER_SQRT_TWO_PI * math.exp(-0.5 * x * x)


@njit
def norm_cdf(z: float) -> float:
    """Standard normal cdf; asymptotic series (Abramowitz & Stegun 26.2.12) below ``z = -10``."""
    if z <= NORM_CDF_ASYMPTOTIC_EXPANSION_FIRST_THRESHOLD:
        total = 1.0
        if z >= NORM_CDF_ASYMPTOTIC_EXPANSION_SECOND_THRESHOLD:
            zsqr = z * z
            i = 1.0
            g = 1.0
            a = DBL_MAX
            lasta = a
            x = (4.0 * i - 3.0) / zsqr
            y = x * ((4.0 * i - 1.0) / zsqr)
            a = g * (x - y)
            total -= a
            g *= y
            i += 1.0
            a = abs(a)
            while lasta > a >= abs(total * DBL_EPSILON):
                lasta = a
                x = (4.0 * i - 3.0) / zsqr
                y = x * ((4.0 * i - 1.0) / zsqr)
                a = g * (x - y)
                total -= a
                g *= y
                i += 1.0
                a = abs(a)
        return -norm_pdf(z) * total / z
    return 0.5 * erfc_cody(-z * ONE_OVER_SQRT_TWO)


@njit
def inverse_norm_cdf(u: float) -> float:
    """Inverse standard normal cdf (Wichura's AS 241, about 16 digits)."""
    if u <= 0.0:
        return -INF if u == 0.0 else NAN
    if u >= 1.0:
        return INF if u == 1.0 else NAN
    q = u - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = 2.5090809287301226727e3 * r + 3.3430575583588128105e4
        num = (((num * r + 6.7265770927008700853e4) * r + 4.5921953931549871457e4) * r
               + 1.3731693765509461125e4)
        num = ((num * r + 1.9715909503065514427e3) * r + 1.3314166789178437745e2) * r
        num += 3.3871328727963666080e0
        den = 5.2264952788528545610e3 * r + 2.8729085735721942674e4
        den = (((den * r + 3.9307895800092710610e4) * r + 2.1213794301586595867e4) * r
               + 5.3941960214247511077e3)
        den = ((den * r + 6.8718700749205790830e2) * r + 4.2313330701600911252e1) * r + 1.0
        return q * num / den
    r = u if q < 0.0 else 1.0 - u
    ret = _inverse_norm_cdf_tail(math.sqrt(-math.log(r)))
    return -ret if q < 0.0 else ret


@njit
def _inverse_norm_cdf_tail(r: float) -> float:
    # |Phi^-1(p)| for p = min(u, 1-u) < 0.075, given r = sqrt(-ln p) (AS 241, second and third
    # approximations).
    if r < 5.0:
        r -= 1.6
        num = 7.74545014278341407640e-4 * r + 2.27238449892691845833e-2
        num = (((num * r + 2.41780725177450611770e-1) * r + 1.27045825245236838258e0) * r
               + 3.64784832476320460504e0)
        num = ((num * r + 5.76949722146069140550e0) * r + 4.63033784615654529590e0) * r
        num += 1.42343711074968357734e0
        den = 1.05075007164441684324e-9 * r + 5.47593808499534494600e-4
        den = (((den * r + 1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r
               + 6.89767334985100004550e-1)
        den = ((den * r + 1.67638483018380384940e0) * r + 2.05319162663775882187e0) * r + 1.0
    else:
        r -= 5.0
        num = 2.01033439929228813265e-7 * r + 2.71155556874348757815e-5
        num = (((num * r + 1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r
               + 2.96560571828504891230e-1)
        num = ((num * r + 1.78482653991729133580e0) * r + 5.46378491116411436990e0) * r
        num += 6.65790464350110377720e0
        den = 2.04426310338993978564e-15 * r + 1.42151175831644588870e-7
        den = (((den * r + 1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r
               + 1.48753612908506148525e-2)
        den = ((den * r + 1.36929880922735805310e-1) * r + 5.99832206555887937690e-1) * r + 1.0
    return num / den


@njit
def _inverse_norm_cdf_from_log(ln_u: float) -> float:
    # Phi^-1(u) from ln(u), for u as small as the logarithm allows (no underflow of u itself).
    if ln_u > LN_INVERSE_NORM_CDF_TAIL:
        return inverse_norm_cdf(math.exp(ln_u))
    return -_inverse_norm_cdf_tail(math.sqrt(-ln_u))


# --------------------------------------------------------------------------------------------
# Shape-preserving rational cubic interpolation (Delbourgo & Gregory 1985; piecewise_rational).
# --------------------------------------------------------------------------------------------


@njit
def _is_zero(x: float) -> bool:
    return abs(x) < DBL_MIN


@njit
def _rational_cubic_interpolation(
    x: float, x_l: float, x_r: float, y_l: float, y_r: float, d_l: float, d_r: float, r: float
) -> float:
    h = x_r - x_l
    if abs(h) <= 0.0:
        return 0.5 * (y_l + y_r)
    # r should be greater than -1; NaN is let through on purpose.
    t = (x - x_l) / h
    if not (r >= MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE):
        omt = 1.0 - t
        t2 = t * t
        omt2 = omt * omt
        # Delbourgo & Gregory (2.4) divided by (2.5).
        return _div(
            y_r * t2 * t
            + (r * y_r - h * d_r) * t2 * omt
            + (r * y_l + h * d_l) * t * omt2
            + y_l * omt2 * omt,
            1.0 + (r - 3.0) * t * omt,
        )
    return y_r * t + y_l * (1.0 - t)


@njit
def _control_parameter_fit_left(
    x_l: float, x_r: float, y_l: float, y_r: float, d_l: float, d_r: float, d2_l: float
) -> float:
    h = x_r - x_l
    numerator = 0.5 * h * d2_l + (d_r - d_l)
    if _is_zero(numerator):
        return 0.0
    denominator = _div(y_r - y_l, h) - d_l
    if _is_zero(denominator):
        if numerator > 0.0:
            return MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
        return MINIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
    return numerator / denominator


@njit
def _control_parameter_fit_right(
    x_l: float, x_r: float, y_l: float, y_r: float, d_l: float, d_r: float, d2_r: float
) -> float:
    h = x_r - x_l
    numerator = 0.5 * h * d2_r + (d_r - d_l)
    if _is_zero(numerator):
        return 0.0
    denominator = d_r - _div(y_r - y_l, h)
    if _is_zero(denominator):
        if numerator > 0.0:
            return MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
        return MINIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
    return numerator / denominator


@njit
def _minimum_rational_cubic_control_parameter(
    d_l: float, d_r: float, s: float, prefer_shape_preservation_over_smoothness: bool
) -> float:
    monotonic = d_l * s >= 0.0 and d_r * s >= 0.0
    convex = d_l <= s <= d_r
    concave = d_l >= s >= d_r
    if not monotonic and not convex and not concave:
        return MINIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
    d_r_m_d_l = d_r - d_l
    d_r_m_s = d_r - s
    s_m_d_l = s - d_l
    r1 = -DBL_MAX
    r2 = r1
    # Monotonicity condition (3.8), avoiding division by zero.
    if monotonic:
        if not _is_zero(s):
            r1 = (d_r + d_l) / s
        elif prefer_shape_preservation_over_smoothness:
            r1 = MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
    # Convexity condition (3.18), avoiding division by zero.
    if convex or concave:
        if not (_is_zero(s_m_d_l) or _is_zero(d_r_m_s)):
            r2 = max(abs(d_r_m_d_l / d_r_m_s), abs(d_r_m_d_l / s_m_d_l))
        elif prefer_shape_preservation_over_smoothness:
            r2 = MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
    elif monotonic and prefer_shape_preservation_over_smoothness:
        r2 = MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE
    return max(MINIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE, max(r1, r2))


@njit
def _convex_control_parameter_fit_left(
    x_l: float,
    x_r: float,
    y_l: float,
    y_r: float,
    d_l: float,
    d_r: float,
    second_derivative_l: float,
    prefer_shape_preservation_over_smoothness: bool,
) -> float:
    r = _control_parameter_fit_left(
        x_l, x_r, y_l, y_r, d_l, d_r, second_derivative_l
    )
    r_min = _minimum_rational_cubic_control_parameter(
        d_l, d_r, _div(y_r - y_l, x_r - x_l), prefer_shape_preservation_over_smoothness
    )
    return max(r, r_min)


@njit
def _convex_control_parameter_fit_right(
    x_l: float,
    x_r: float,
    y_l: float,
    y_r: float,
    d_l: float,
    d_r: float,
    second_derivative_r: float,
    prefer_shape_preservation_over_smoothness: bool,
) -> float:
    r = _control_parameter_fit_right(
        x_l, x_r, y_l, y_r, d_l, d_r, second_derivative_r
    )
    r_min = _minimum_rational_cubic_control_parameter(
        d_l, d_r, _div(y_r - y_l, x_r - x_l), prefer_shape_preservation_over_smoothness
    )
    return max(r, r_min)


# --------------------------------------------------------------------------------------------
# The normalised Black function b(x, s), its vega and intrinsic value (Jäckel 2015, section 2-3).
# --------------------------------------------------------------------------------------------


@njit
def _intrinsic_in_the_money(y: float) -> float:
    # exp(y/2) - exp(-y/2) for y > 0, as expm1(y/2) - expm1(-y/2): two terms of opposite sign,
    # so no cancellation (about 1.5 ulp). The Taylor series below 98 eps^(1/4) is Jäckel's; its
    # factor 98 comes from the last coefficient, (92897280)^(1/4) = 98.17.
    y2 = y * y
    if y2 < 98.0 * FOURTH_ROOT_DBL_EPSILON:
        return y * (
            1.0
            + y2
            * (
                (1.0 / 24.0)
                + y2 * ((1.0 / 1920.0) + y2 * ((1.0 / 322560.0) + (1.0 / 92897280.0) * y2))
            )
        )
    half_y = 0.5 * y
    if half_y > EXP_ARG_MAX:
        return INF
    return math.expm1(half_y) - math.expm1(-half_y)


@njit
def normalised_intrinsic(x: float, theta: float) -> float:
    """Normalised intrinsic value ``max(theta (exp(x/2) - exp(-x/2)), 0)``, accurate near x = 0."""
    y = theta * x
    if y <= 0.0:
        return 0.0
    return _intrinsic_in_the_money(y)


@njit
def _asymptotic_expansion_of_normalised_black_call(h: float, t: float) -> float:
    # b / exp(-(h^2+t^2)/2) = (t/r) A(h,t) / sqrt(2 pi), r = (h+t)(h-t), for h < -10:
    # 17th order expansion of A in q = (h/r)^2 with e = (t/h)^2 (Jäckel 2015, eq. (2.13)-(2.17)).
    e = (t / h) * (t / h)
    r = (h + t) * (h - t)
    q = (h / r) * (h / r)
    # Coefficient polynomials p_k(e) = (-1)^k 2 sum_j C(2k+1, 2j+1) e^j, nested as in Jäckel's code.
    p1 = -6.0 - 2.0 * e
    p2 = 10.0 + e * (20.0 + 2.0 * e)
    p3 = -14.0 + e * (-70.0 + e * (-42.0 - 2.0 * e))
    p4 = 18.0 + e * (168.0 + e * (252.0 + e * (72.0 + 2.0 * e)))
    p5 = -22.0 + e * (-330.0 + e * (-924.0 + e * (-660.0 + e * (-110.0 - 2.0 * e))))
    p6 = 26.0 + e * (572.0 + e * (2574.0 + e * (3432.0 + e * (1430.0 + e * (156.0 + 2.0 * e)))))
    p7 = (
        -30.0 + e * (-910.0 + e * (-6006.0 + e * (-12870.0 + e * (-10010.0 + e * (-2730.0 + e *
        (-210.0 - 2.0 * e))))))
    )
    p8 = (
        34.0 + e * (1360.0 + e * (12376.0 + e * (38896.0 + e * (48620.0 + e * (24752.0 + e * (4760.0
        + e * (272.0 + 2.0 * e)))))))
    )
    p9 = (
        -38.0 + e * (-1938.0 + e * (-23256.0 + e * (-100776.0 + e * (-184756.0 + e * (-151164.0 + e
        * (-54264.0 + e * (-7752.0 + e * (-342.0 - 2.0 * e))))))))
    )
    p10 = (
        42.0 + e * (2660.0 + e * (40698.0 + e * (232560.0 + e * (587860.0 + e * (705432.0 + e *
        (406980.0 + e * (108528.0 + e * (11970.0 + e * (420.0 + 2.0 * e)))))))))
    )
    p11 = (
        -46.0 + e * (-3542.0 + e * (-67298.0 + e * (-490314.0 + e * (-1634380.0 + e * (-2704156.0 +
        e * (-2288132.0 + e * (-980628.0 + e * (-201894.0 + e * (-17710.0 + e * (-506.0 - 2.0 *
        e))))))))))
    )
    p12 = (
        50.0 + e * (4600.0 + e * (106260.0 + e * (961400.0 + e * (4085950.0 + e * (8914800.0 + e *
        (10400600.0 + e * (6537520.0 + e * (2163150.0 + e * (354200.0 + e * (25300.0 + e * (600.0 +
        2.0 * e)))))))))))
    )
    p13 = (
        -54.0 + e * (-5850.0 + e * (-161460.0 + e * (-1776060.0 + e * (-9373650.0 + e * (-26075790.0
        + e * (-40116600.0 + e * (-34767720.0 + e * (-16872570.0 + e * (-4440150.0 + e * (-592020.0
        + e * (-35100.0 + e * (-702.0 - 2.0 * e))))))))))))
    )
    p14 = (
        58.0 + e * (7308.0 + e * (237510.0 + e * (3121560.0 + e * (20030010.0 + e * (69194580.0 + e
        * (135727830.0 + e * (155117520.0 + e * (103791870.0 + e * (40060020.0 + e * (8584290.0 + e
        * (950040.0 + e * (47502.0 + e * (812.0 + 2.0 * e)))))))))))))
    )
    p15 = (
        -62.0 + e * (-8990.0 + e * (-339822.0 + e * (-5259150.0 + e * (-40320150.0 + e *
        (-169344630.0 + e * (-412506150.0 + e * (-601080390.0 + e * (-530365050.0 + e *
        (-282241050.0 + e * (-88704330.0 + e * (-15777450.0 + e * (-1472562.0 + e * (-62930.0 + e *
        (-930.0 - 2.0 * e))))))))))))))
    )
    p16 = (
        66.0 + e * (10912.0 + e * (474672.0 + e * (8544096.0 + e * (77134200.0 + e * (387073440.0 +
        e * (1146332880.0 + e * (2074316640.0 + e * (2333606220.0 + e * (1637618400.0 + e *
        (709634640.0 + e * (185122080.0 + e * (27768312.0 + e * (2215136.0 + e * (81840.0 + e *
        (1056.0 + 2.0 * e)))))))))))))))
    )
    p17 = (
        -70.0 + e * (-13090.0 + e * (-649264.0 + e * (-13449040.0 + e * (-141214920.0 + e *
        (-834451800.0 + e * (-2952675600.0 + e * (-6495886320.0 + e * (-9075135300.0 + e *
        (-8119857900.0 + e * (-4639918800.0 + e * (-1668903600.0 + e * (-367158792.0 + e *
        (-47071640.0 + e * (-3246320.0 + e * (-104720.0 + e * (-1190.0 - 2.0 * e))))))))))))))))
    )
    asymptotic_expansion_sum = 2.0 + q * (p1 + 3.0 * q * (p2 + 5.0 * q * (p3 + 7.0 * q * (
        p4 + 9.0 * q * (p5 + 11.0 * q * (p6 + 13.0 * q * (p7 + 15.0 * q * (p8 + 17.0 * q * (
            p9 + 19.0 * q * (p10 + 21.0 * q * (p11 + 23.0 * q * (p12 + 25.0 * q * (
                p13 + 27.0 * q * (p14 + 29.0 * q * (p15 + 31.0 * q * (p16 + 33.0 * p17 * q)))
            ))))
        )))))
    ))))
    return abs(max(ONE_OVER_SQRT_TWO_PI * (t / r) * asymptotic_expansion_sum, 0.0))


@njit
def _small_t_expansion_of_normalised_black_call(h: float, t: float) -> float:
    # b / exp(-(h^2+t^2)/2) = [Y(h+t) - Y(h-t)] / sqrt(2 pi), Y(z) = Phi(z)/phi(z), expanded to
    # twelfth order in t for t < 2 eps^(1/16) (Jäckel 2015, eq. (2.21)-(2.22)).
    # a := 1 + h Y(h) with Y(h) = sqrt(pi/2) erfcx(-h/sqrt 2).
    a = 1.0 + h * (0.5 * SQRT_TWO_PI) * erfcx_cody(-ONE_OVER_SQRT_TWO * h)
    w = t * t
    h2 = h * h
    c1 = (-1.0 + 3.0 * a + a * h2) / 6.0
    c2 = (-7.0 + 15.0 * a + h2 * (-1.0 + 10.0 * a + a * h2)) / 120.0
    c3 = (-57.0 + 105.0 * a + h2 * (-18.0 + 105.0 * a + h2 * (-1.0 + 21.0 * a + a * h2))) / 5040.0
    c4 = (
        -561.0
        + 945.0 * a
        + h2 * (-285.0 + 1260.0 * a + h2 * (-33.0 + 378.0 * a + h2 * (-1.0 + 36.0 * a + a * h2)))
    ) / 362880.0
    c5 = (
        -6555.0
        + 10395.0 * a
        + h2 * (-4680.0 + 17325.0 * a + h2 * (
            -840.0 + 6930.0 * a + h2 * (-52.0 + 990.0 * a + h2 * (-1.0 + 55.0 * a + a * h2))
        ))
    ) / 39916800.0
    c6 = (
        -89055.0
        + 135135.0 * a
        + h2 * (-82845.0 + 270270.0 * a + h2 * (-20370.0 + 135135.0 * a + h2 * (
            -1926.0 + 25740.0 * a + h2 * (-75.0 + 2145.0 * a + h2 * (-1.0 + 78.0 * a + a * h2))
        )))
    ) * w / 6227020800.0
    expansion = 2.0 * t * (a + w * (c1 + w * (c2 + w * (c3 + w * (c4 + w * (c5 + c6))))))
    return abs(max(ONE_OVER_SQRT_TWO_PI * expansion, 0.0))


@njit
def _normalised_black_call_using_erfcx_complement(
    h: float, t: float, e_ht: float, b_max: float
) -> float:
    # For h + t > 0: b = b_max - exp(-(h^2+t^2)/2)/2 [erfcx((h+t)/sqrt 2) + erfcx((t-h)/sqrt 2)],
    # from Phi(z) = 1 - erfcx(z/sqrt 2) exp(-z^2/2)/2 and b_max = exp(h t). Both erfcx arguments
    # are positive, so no further exponential is needed; the subtracted term is below b_max/2.
    correction = (
        0.5
        * e_ht
        * (erfcx_cody(ONE_OVER_SQRT_TWO * (h + t)) + erfcx_cody(ONE_OVER_SQRT_TWO * (t - h)))
    )
    return abs(max(b_max - correction, 0.0))


@njit
def _normalised_black_call_using_erfcx(h: float, t: float) -> float:
    # b / exp(-(h^2+t^2)/2) = [erfcx(-(h+t)/sqrt 2) - erfcx(-(h-t)/sqrt 2)] / 2: one exponential
    # instead of three (Jäckel 2015, eq. (2.9); Marsaglia on the accuracy of exp(-z^2/2)).
    b_over_e = 0.5 * (
        erfcx_cody(-ONE_OVER_SQRT_TWO * (h + t)) - erfcx_cody(-ONE_OVER_SQRT_TWO * (h - t))
    )
    return abs(max(b_over_e, 0.0))


@njit
def _normalised_black_call_otm_parts(
    x: float, s: float, b_max: float
) -> tuple[float, float, float, float]:
    # b(x, s) for x <= 0 (out of or at the money), given b_max = exp(x/2), as
    # (e_ht, log_e_ht, b_over_e, direct) with e_ht = exp(-(h^2 + t^2)/2), h = x/s, t = s/2:
    # b = e_ht * b_over_e, or b = direct where direct >= 0; the vega db/ds is e_ht/sqrt(2 pi).
    # Keeping log(e_ht) and b/e_ht apart lets the deep-OTM iteration work with ln b where b
    # itself underflows. Regions of b as in Jäckel (2015, fig. 2), except that where h + t > 0
    # (his region 3 and the upper part of region 4) the complement form above replaces
    # Phi(h+t) b_max - Phi(h-t)/b_max and the erfcx of a negative argument: the same function
    # with two to four fewer exponentials.
    if s <= 0.0:
        if x == 0.0:
            return 1.0, 0.0, 0.0, 0.0
        return 0.0, -INF, 0.0, 0.0
    h = x / s
    t = 0.5 * s
    log_e_ht = -0.5 * (h * h + t * t)
    e_ht = math.exp(log_e_ht)
    # Region 1 when h < eta and t < tau + |h| - |eta|, tested without dividing.
    if x < s * ASYMPTOTIC_EXPANSION_ACCURACY_THRESHOLD and 0.5 * s * s + x < s * (
        SMALL_T_EXPANSION_OF_NORMALIZED_BLACK_THRESHOLD + ASYMPTOTIC_EXPANSION_ACCURACY_THRESHOLD
    ):
        return e_ht, log_e_ht, _asymptotic_expansion_of_normalised_black_call(h, t), -1.0
    if t < SMALL_T_EXPANSION_OF_NORMALIZED_BLACK_THRESHOLD:
        return e_ht, log_e_ht, _small_t_expansion_of_normalised_black_call(h, t), -1.0
    if h + t > 0.0:
        direct = _normalised_black_call_using_erfcx_complement(h, t, e_ht, b_max)
        return e_ht, log_e_ht, 0.0, direct
    return e_ht, log_e_ht, _normalised_black_call_using_erfcx(h, t), -1.0


@njit
def _normalised_black_call_otm_and_vega(x: float, s: float, b_max: float) -> tuple[float, float]:
    # b(x, s) and db/ds for x <= 0, given b_max = exp(x/2).
    e_ht, log_e_ht, b_over_e, direct = _normalised_black_call_otm_parts(x, s, b_max)
    if direct >= 0.0:
        return direct, ONE_OVER_SQRT_TWO_PI * e_ht
    b = e_ht * b_over_e
    if b < DBL_MIN and b_over_e > 0.0:
        # Subnormal result: one rounding from the logarithm instead of a subnormal product.
        b = _exp(log_e_ht + math.log(b_over_e))
    return b, ONE_OVER_SQRT_TWO_PI * e_ht


@njit
def _log_normalised_black_call_otm(x: float, s: float, b_max: float) -> tuple[float, float]:
    # ln b(x, s) and (db/ds)/b for x <= 0, finite where b underflows (deep out of the money).
    e_ht, log_e_ht, b_over_e, direct = _normalised_black_call_otm_parts(x, s, b_max)
    if direct >= 0.0:
        vega = ONE_OVER_SQRT_TWO_PI * e_ht
        return _log(direct), (vega / direct if direct > 0.0 else 0.0)
    if b_over_e > 0.0:
        return log_e_ht + math.log(b_over_e), ONE_OVER_SQRT_TWO_PI / b_over_e
    return -INF, 0.0


@njit
def normalised_black_call(x: float, s: float) -> float:
    """Normalised Black call price ``b(x, s)``; in the money: intrinsic plus the OTM value."""
    if x > 0.0:
        otm = _normalised_black_call_otm_and_vega(-x, s, _exp(-0.5 * x))[0]
        return normalised_intrinsic(x, 1.0) + otm
    return _normalised_black_call_otm_and_vega(x, s, _exp(0.5 * x))[0]


@njit
def normalised_black_scalar(x: float, s: float, theta: float) -> float:
    """Normalised Black price of a call (``theta=+1``) or put (``theta=-1``), scalar."""
    # Reciprocal-strike call-put equivalence: b(x, s, -1) = b(-x, s, +1).
    return normalised_black_call(-x if theta < 0.0 else x, s)


@njit
def log_normalised_black_scalar(x: float, s: float, theta: float) -> float:
    """``ln b(x, s, theta)``, finite where ``b`` itself underflows (deep out of the money)."""
    x_call = -x if theta < 0.0 else x
    if x_call > 0.0:
        return _log(normalised_black_call(x_call, s))
    return _log_normalised_black_call_otm(x_call, s, _exp(0.5 * x_call))[0]


# --------------------------------------------------------------------------------------------
# Initial guess maps (Jäckel 2015, section 4) and the Householder(3) iteration (section 5).
# --------------------------------------------------------------------------------------------


@njit
def _householder_factor(newton: float, halley: float, hh3: float) -> float:
    denominator = 1.0 + newton * (halley + hh3 * newton * (1.0 / 6.0))
    if denominator == 0.0:
        return 1.0
    return (1.0 + 0.5 * halley * newton) / denominator


@njit
def _f_lower_map_and_derivatives(x: float, s: float) -> tuple[float, float, float]:
    ax = abs(x)
    z = SQRT_ONE_OVER_THREE * ax / s
    y = z * z
    s2 = s * s
    Phi = norm_cdf(-z)
    phi = norm_pdf(z)
    ratio = Phi / phi if phi > 0.0 else 0.0
    fpp = (
        PI_OVER_SIX
        * _div(y, s2 * s)
        * Phi
        * (8.0 * SQRT_THREE * s * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * ratio)
        * _exp(2.0 * y + 0.25 * s2)
    )
    Phi2 = Phi * Phi
    fp = TWO_PI * y * Phi2 * _exp(y + 0.125 * s * s)
    f = TWO_PI_OVER_SQRT_TWENTY_SEVEN * ax * (Phi2 * Phi)
    return f, fp, fpp


@njit
def _f_upper_map_and_derivatives(x: float, s: float) -> tuple[float, float, float]:
    f = norm_cdf(-0.5 * s)
    w = (x / s) * (x / s)
    fp = -0.5 * _exp(0.5 * w)
    fpp = SQRT_PI_OVER_TWO * _exp(w + 0.125 * s * s) * w / s
    return f, fp, fpp


@njit
def _inverse_f_lower_map(x: float, f: float) -> float:
    if f <= 0.0 or x == 0.0:
        return 0.0
    u = inverse_norm_cdf((f / (TWO_PI_OVER_SQRT_TWENTY_SEVEN * abs(x))) ** (1.0 / 3.0))
    if u == 0.0:
        return 0.0
    return abs(x / (SQRT_THREE * u))


@njit
def _inverse_f_lower_map_from_log(x: float, ln_f: float) -> float:
    ln_u = (ln_f - math.log(TWO_PI_OVER_SQRT_TWENTY_SEVEN * abs(x))) / 3.0
    u = _inverse_norm_cdf_from_log(ln_u)
    if u == 0.0 or x == 0.0:
        return 0.0
    return abs(x / (SQRT_THREE * u))


@njit
def _inverse_f_upper_map(f: float) -> float:
    return -2.0 * inverse_norm_cdf(f)


@njit
def _keep_iterating(iterations: int, n_iterations: int, ds: float, s: float) -> bool:
    if iterations < n_iterations:
        return abs(ds) > DBL_EPSILON * s
    return iterations < IMPLIED_VOLATILITY_SAFETY_ITERATIONS and abs(ds) > SLOW_CONVERGENCE_STEP * s


@njit
def _lower_map_over_beta(ln_beta: float, b_l: float, f_l: float, fp_l: float, r: float) -> float:
    # f(beta)/beta for the rational cubic through f(0)=0, f'(0)=1, f(b_l)=f_l, f'(b_l)=fp_l
    # (Delbourgo & Gregory (2.4)/(2.5) divided by beta = tau b_l), and for its linear and
    # quadratic fall-backs: finite however small beta is.
    tau = _exp(ln_beta - math.log(b_l))
    if r >= MAXIMUM_RATIONAL_CUBIC_CONTROL_PARAMETER_VALUE:
        ratio = f_l / b_l
    else:
        omt = 1.0 - tau
        numerator = f_l * tau * tau + (r * f_l - b_l * fp_l) * tau * omt + b_l * omt * omt
        ratio = _div(numerator, b_l * (1.0 + (r - 3.0) * tau * omt))
    if not (ratio > 0.0):
        ratio = (f_l * tau + b_l * (1.0 - tau)) / b_l
    return ratio


@njit
def _lower_segment_householder(
    ln_beta: float,
    x: float,
    b_max: float,
    s: float,
    s_left: float,
    s_right: float,
    n_iterations: int,
) -> float:
    # Objective g(s) = 1/ln(b(s)) - 1/ln(beta), so that
    #   newton = -g/g'   = (ln(beta) - ln(b)) ln(b) / ln(beta) * b/b'
    #   halley = g''/g'  = b''/b' - b'/b (1 + 2/ln(b))
    #   hh3    = g'''/g' = b'''/b' + 2 (b'/b)^2 (1 + 3/ln(b) (1 + 1/ln(b)))
    #                      - 3 (b''/b')(b'/b)(1 + 2/ln(b)).
    iterations = 0
    direction_reversal_count = 0
    ds = -DBL_MAX
    ds_previous = 0.0
    # Everything in terms of ln b and b'/b, which stay finite where b underflows.
    inv_ln_beta = 1.0 / ln_beta if ln_beta != 0.0 else 0.0
    while _keep_iterating(iterations, n_iterations, ds, s):
        if ds * ds_previous < 0.0:
            direction_reversal_count += 1
        if iterations > 0 and (direction_reversal_count == 3 or not (s_left < s < s_right)):
            # Looping inefficiently or stepping outside the bracket: bisect (only for |x| > ~500).
            s = 0.5 * (s_left + s_right)
            if s_right - s_left <= DBL_EPSILON * s:
                break
            direction_reversal_count = 0
            ds = 0.0
        ds_previous = ds
        ln_b, bpob = _log_normalised_black_call_otm(x, s, b_max)
        if ln_b > ln_beta and s < s_right:
            s_right = s
        elif ln_b < ln_beta and s > s_left:
            s_left = s
        if not (-DBL_MAX < ln_b < 0.0 and bpob > 0.0):
            # Underflow even of ln b (or ln b >= 0): bisect for this step.
            ds = 0.5 * (s_left + s_right) - s
        else:
            inv_ln_b = 1.0 / ln_b
            inv_s = 1.0 / s
            h = x * inv_s
            h_over_s = h * inv_s
            b_halley = h * h_over_s - 0.25 * s
            newton = (ln_beta - ln_b) * ln_b * inv_ln_beta / bpob
            halley = b_halley - bpob * (1.0 + 2.0 * inv_ln_b)
            b_hh3 = b_halley * b_halley - 3.0 * h_over_s * h_over_s - 0.25
            hh3 = (
                b_hh3
                + 2.0 * bpob * bpob * (1.0 + 3.0 * inv_ln_b * (1.0 + inv_ln_b))
                - 3.0 * b_halley * bpob * (1.0 + 2.0 * inv_ln_b)
            )
            ds = newton * _householder_factor(newton, halley, hh3)
        ds = max(-0.5 * s, ds)
        s += ds
        iterations += 1
    return s


@njit
def _upper_segment_householder(
    beta: float, x: float, b_max: float, s: float, s_left: float, s_right: float, n_iterations: int
) -> float:
    # Objective g(s) = ln(b_max - beta) - ln(b_max - b(s)), so that
    #   newton = -g/g'   = ln((b_max - b)/(b_max - beta)) (b_max - b)/b'
    #   halley = g''/g'  = b''/b' + b'/(b_max - b)
    #   hh3    = g'''/g' = b'''/b' + g' (2 g' + 3 b''/b').
    iterations = 0
    direction_reversal_count = 0
    ds = -DBL_MAX
    ds_previous = 0.0
    while _keep_iterating(iterations, n_iterations, ds, s):
        if ds * ds_previous < 0.0:
            direction_reversal_count += 1
        if iterations > 0 and (direction_reversal_count == 3 or not (s_left < s < s_right)):
            s = 0.5 * (s_left + s_right)
            if s_right - s_left <= DBL_EPSILON * s:
                break
            direction_reversal_count = 0
            ds = 0.0
        ds_previous = ds
        b, bp = _normalised_black_call_otm_and_vega(x, s, b_max)
        if b > beta and s < s_right:
            s_right = s
        elif b < beta and s > s_left:
            s_left = s
        if b >= b_max or bp <= DBL_MIN:
            ds = 0.5 * (s_left + s_right) - s
        else:
            b_max_minus_b = b_max - b
            g = math.log((b_max - beta) / b_max_minus_b)
            gp = bp / b_max_minus_b
            inv_s = 1.0 / s
            h = x * inv_s
            h_over_s = h * inv_s
            b_halley = h * h_over_s - 0.25 * s
            b_hh3 = b_halley * b_halley - 3.0 * h_over_s * h_over_s - 0.25
            newton = -g / gp
            halley = b_halley + gp
            hh3 = b_hh3 + gp * (2.0 * gp + 3.0 * b_halley)
            ds = newton * _householder_factor(newton, halley, hh3)
        ds = max(-0.5 * s, ds)
        s += ds
        iterations += 1
    return s


@njit
def _middle_segment_householder(
    beta: float, x: float, b_max: float, s: float, s_left: float, s_right: float, n_iterations: int
) -> float:
    # Objective g(s) = b(s) - beta, so that newton = -(b - beta)/b', halley = b''/b' = x^2/s^3 - s/4
    # and hh3 = b'''/b' = halley^2 - 3 (x/s^2)^2 - 1/4.
    iterations = 0
    direction_reversal_count = 0
    ds = -DBL_MAX
    ds_previous = 0.0
    while _keep_iterating(iterations, n_iterations, ds, s):
        if ds * ds_previous < 0.0:
            direction_reversal_count += 1
        if iterations > 0 and (direction_reversal_count == 3 or not (s_left < s < s_right)):
            s = 0.5 * (s_left + s_right)
            if s_right - s_left <= DBL_EPSILON * s:
                break
            direction_reversal_count = 0
            ds = 0.0
        ds_previous = ds
        b, bp = _normalised_black_call_otm_and_vega(x, s, b_max)
        if b > beta and s < s_right:
            s_right = s
        elif b < beta and s > s_left:
            s_left = s
        if bp <= 0.0 or s <= 0.0:
            ds = 0.5 * (s_left + s_right) - s
        else:
            newton = (beta - b) / bp
            inv_s = 1.0 / s
            h = x * inv_s
            h_over_s = h * inv_s
            halley = h * h_over_s - 0.25 * s
            hh3 = halley * halley - 3.0 * h_over_s * h_over_s - 0.25
            ds = newton * _householder_factor(newton, halley, hh3)
        ds = max(-0.5 * s, ds)
        s += ds
        iterations += 1
    return s


@njit
def normalised_implied_volatility_otm_call(
    beta: float, ln_beta: float, x: float, b_max: float, n_iterations: int
) -> float:
    """Normalised implied volatility ``s`` of an out-of-the-money call: ``b(x, s) = beta``.

    Requires ``x <= 0``, ``b_max = exp(x/2)`` and ``0 < beta < b_max``; the caller maps puts
    and in-the-money options onto this case and screens the bounds (Jäckel 2015, sections 3-5).
    ``ln_beta`` is ``ln(beta)`` computed without forming ``beta`` where ``beta`` is below
    ``LOG_DOMAIN_BETA`` (it may then be subnormal or even 0.0), and 0.0 otherwise.
    """
    s_c = math.sqrt(abs(2.0 * x))
    t_c = 0.5 * s_c
    if t_c >= SMALL_T_EXPANSION_OF_NORMALIZED_BLACK_THRESHOLD:
        # At s_c = sqrt(2|x|): h = -t, so exp(-(h^2+t^2)/2) = b_max and b is region 4 at
        # h + t = 0: b_c = b_max (1 - erfcx(sqrt|x|)) / 2, v_c = b_max / sqrt(2 pi).
        b_c = 0.5 * b_max * (1.0 - erfcx_cody(SQRT_TWO * t_c))
        v_c = ONE_OVER_SQRT_TWO_PI * b_max
    else:
        b_c, v_c = _normalised_black_call_otm_and_vega(x, s_c, b_max)
    if not (v_c > 0.0 and b_max > 0.0):
        return NAN
    # Four segments of the initial guess (Jäckel 2015, fig. 4).
    if beta < b_c:
        s_l = s_c - b_c / v_c
        b_l, v_l = _normalised_black_call_otm_and_vega(x, s_l, b_max)
        if beta < b_l:
            f_l, fp_l, fpp_l = _f_lower_map_and_derivatives(x, s_l)
            r_ll = _convex_control_parameter_fit_right(
                0.0, b_l, 0.0, f_l, 1.0, fp_l, fpp_l, True
            )
            if beta >= LOG_DOMAIN_BETA:
                ln_beta = math.log(beta)
                f = _rational_cubic_interpolation(beta, 0.0, b_l, 0.0, f_l, 1.0, fp_l, r_ll)
                if not (f > 0.0):
                    # Round-off for extreme |x| > 500: quadratic through f(0)=0, f(b_l), f'(0)=1.
                    t = beta / b_l
                    f = (f_l * t + b_l * (1.0 - t)) * t
                s = _inverse_f_lower_map(x, f)
            else:
                s = _inverse_f_lower_map_from_log(
                    x, ln_beta + math.log(_lower_map_over_beta(ln_beta, b_l, f_l, fp_l, r_ll))
                )
            return _lower_segment_householder(ln_beta, x, b_max, s, DBL_MIN, s_l, n_iterations)
        r_lm = _convex_control_parameter_fit_right(
            b_l, b_c, s_l, s_c, _div(1.0, v_l), 1.0 / v_c, 0.0, False
        )
        s = _rational_cubic_interpolation(beta, b_l, b_c, s_l, s_c, _div(1.0, v_l), 1.0 / v_c, r_lm)
        return _middle_segment_householder(beta, x, b_max, s, s_l, s_c, n_iterations)
    s_h = s_c + (b_max - b_c) / v_c if v_c > DBL_MIN else s_c
    b_h, v_h = _normalised_black_call_otm_and_vega(x, s_h, b_max)
    if beta <= b_h:
        r_hm = _convex_control_parameter_fit_left(
            b_c, b_h, s_c, s_h, 1.0 / v_c, _div(1.0, v_h), 0.0, False
        )
        s = _rational_cubic_interpolation(beta, b_c, b_h, s_c, s_h, 1.0 / v_c, _div(1.0, v_h), r_hm)
        return _middle_segment_householder(beta, x, b_max, s, s_c, s_h, n_iterations)
    f_h, fp_h, fpp_h = _f_upper_map_and_derivatives(x, s_h)
    f = -DBL_MAX
    if -SQRT_DBL_MAX < fpp_h < SQRT_DBL_MAX:
        r_hh = _convex_control_parameter_fit_left(
            b_h, b_max, f_h, 0.0, fp_h, -0.5, fpp_h, True
        )
        f = _rational_cubic_interpolation(
            beta, b_h, b_max, f_h, 0.0, fp_h, -0.5, r_hh
        )
    if f <= 0.0:
        # Quadratic through f(b_h), f(b_max)=0 and f'(b_max)=-1/2.
        h = b_max - b_h
        t = (beta - b_h) / h
        f = (f_h * (1.0 - t) + 0.5 * h * t) * (1.0 - t)
    s = _inverse_f_upper_map(f)
    if beta > 0.5 * b_max:
        return _upper_segment_householder(beta, x, b_max, s, s_h, DBL_MAX, n_iterations)
    # Otherwise the objective g(s) = b(s) - beta serves (the "drop through" in Jäckel's code).
    return _middle_segment_householder(beta, x, b_max, s, s_h, DBL_MAX, n_iterations)


# --------------------------------------------------------------------------------------------
# Batch kernels.
# --------------------------------------------------------------------------------------------


@njit
def _normalised_black_kernel(
    x: FloatArray,
    s: FloatArray,
    theta: KindArray,
    out: FloatArray,
    x_step: int,
    s_step: int,
    theta_step: int,
    take_log: bool,
) -> None:
    for i in range(out.shape[0]):
        # float(): plain Python floats without numba (IEEE overflow to inf, no numpy warnings).
        xi = float(x[i * x_step])
        si = float(s[i * s_step])
        if not (math.isfinite(xi) and si >= 0.0 and math.isfinite(si)):
            out[i] = NAN
        elif take_log:
            out[i] = log_normalised_black_scalar(xi, si, float(theta[i * theta_step]))
        else:
            out[i] = normalised_black_scalar(xi, si, float(theta[i * theta_step]))


@njit
def forward_log_moneyness(
    underlying: float, strike: float, t: float, rate: float, div_yield: float, model: int
) -> float:
    """``x = ln(F/K)`` as :func:`hedgekeeper.pricing.implied_vol` computes it (scalar).

    ``F`` is ``underlying`` for ``model=MODEL_BLACK76`` and ``underlying e^{(rate-div_yield) t}``
    for ``MODEL_BLACK_SCHOLES``. Near the money ``ln(F/K) = log1p((F - K)/K)`` with ``F - K``
    exact (Sterbenz), so that ``x`` and the intrinsic value keep full relative accuracy;
    ``log(F/K)`` would carry an absolute error of eps, tens of ulps of a short-dated
    near-the-money price.
    """
    ratio = underlying / strike
    if 0.5 <= ratio <= 2.0:
        x = math.log1p((underlying - strike) / strike)
    elif DBL_MIN <= ratio <= DBL_MAX:
        x = math.log(ratio)
    else:
        x = math.log(underlying) - math.log(strike)
    if model == MODEL_BLACK_SCHOLES:
        x += (rate - div_yield) * t
    return x


@njit
def _log_scale(
    underlying: float, strike: float, t: float, rate: float, div_yield: float, model: int
) -> float:
    # ln(beta / price) = ln(e^{rt} / sqrt(F K)), F = S e^{(r-q)t} for Black-Scholes.
    half_log_fk = 0.5 * (math.log(underlying) + math.log(strike))
    if model == MODEL_BLACK_SCHOLES:
        return 0.5 * (rate + div_yield) * t - half_log_fk
    return rate * t - half_log_fk


@njit
def _implied_vol_one(
    price: float,
    underlying: float,
    strike: float,
    t: float,
    rate: float,
    div_yield: float,
    theta: float,
    model: int,
) -> tuple[float, int]:
    if not (
        math.isfinite(price)
        and math.isfinite(underlying)
        and math.isfinite(strike)
        and math.isfinite(t)
        and math.isfinite(rate)
        and math.isfinite(div_yield)
    ):
        return NAN, STATUS_INVALID_INPUT
    if underlying <= 0.0 or strike <= 0.0 or t < 0.0:
        return NAN, STATUS_INVALID_INPUT
    if t == 0.0:
        return NAN, STATUS_ZERO_EXPIRY
    if price < 0.0:
        return NAN, STATUS_BELOW_INTRINSIC
    # Normalised price beta = e^{rt} price / sqrt(F K); for Black-Scholes F = S e^{(r-q)t},
    # folded into the exponents rather than formed explicitly.
    x = forward_log_moneyness(underlying, strike, t, rate, div_yield, model)
    if model == MODEL_BLACK_SCHOLES:
        scale = _exp(0.5 * (rate + div_yield) * t) / (math.sqrt(underlying) * math.sqrt(strike))
    else:
        scale = _exp(rate * t) / (math.sqrt(underlying) * math.sqrt(strike))
    beta = price * scale
    if not (math.isfinite(x) and math.isfinite(beta)):
        return NAN, STATUS_INVALID_INPUT
    ln_beta = 0.0
    if beta < LOG_DOMAIN_BETA and price > 0.0:
        # Deep out of the money the normalised price may be subnormal or 0.0 while the price is
        # not: keep its logarithm exactly.
        ln_beta = math.log(price) + _log_scale(underlying, strike, t, rate, div_yield, model)
    # y = theta x > 0 in the money; exp(y/2) is the normalised upper bound (an undiscounted call
    # is worth less than F, a put less than K) and exp(-y/2) that of the OTM option.
    y = theta * x
    exp_half_y = _exp(0.5 * y)
    if beta >= exp_half_y * (1.0 - ROUNDING_ULPS * DBL_EPSILON):
        return NAN, STATUS_ABOVE_MAXIMUM
    if y > 0.0:
        # In the money: subtract the intrinsic value (put-call parity), solve for the OTM option.
        time_value = beta - _intrinsic_in_the_money(y)
        if abs(time_value) <= ROUNDING_ULPS * DBL_EPSILON * beta:
            return NAN, STATUS_NO_TIME_VALUE
        if time_value < 0.0:
            return NAN, STATUS_BELOW_INTRINSIC
        b_max = _exp(-0.5 * y)
        if time_value >= b_max:
            return NAN, STATUS_ABOVE_MAXIMUM
        beta = time_value
        ln_beta = 0.0 if beta >= LOG_DOMAIN_BETA else math.log(beta)
    else:
        b_max = exp_half_y
    if beta <= 0.0 and ln_beta == 0.0:
        return NAN, STATUS_NO_TIME_VALUE
    # The OTM option as a call (b(x, s, -1) = b(-x, s, +1)): log-moneyness -|x| <= 0.
    s = normalised_implied_volatility_otm_call(
        beta, ln_beta, -abs(x), b_max, IMPLIED_VOLATILITY_MAXIMUM_ITERATIONS
    )
    vol = s / math.sqrt(t)
    if not (vol > 0.0 and math.isfinite(vol)):
        return NAN, STATUS_NOT_CONVERGED
    return vol, STATUS_OK


@njit
def implied_vol_kernel(
    price: FloatArray,
    underlying: FloatArray,
    strike: FloatArray,
    t: FloatArray,
    rate: FloatArray,
    div_yield: FloatArray,
    theta: KindArray,
    steps: npt.NDArray[np.int64],
    model: int,
    vol_out: FloatArray,
    status_out: StatusArray,
) -> None:
    # Inputs are flat; an input of one element has step 0 (broadcast), a full one step 1.
    # float(): plain Python floats without numba (IEEE overflow to inf, no numpy warnings).
    for i in range(vol_out.shape[0]):
        vol, status = _implied_vol_one(
            float(price[i * steps[0]]),
            float(underlying[i * steps[1]]),
            float(strike[i * steps[2]]),
            float(t[i * steps[3]]),
            float(rate[i * steps[4]]),
            float(div_yield[i * steps[5]]),
            float(theta[i * steps[6]]),
            model,
        )
        vol_out[i] = vol
        status_out[i] = status


def flat_for_kernel(
    array: npt.NDArray[ScalarT], shape: tuple[int, ...]
) -> tuple[npt.NDArray[ScalarT], int]:
    """Return a flat contiguous view of ``array`` for the batch kernels and its index step.

    One-element inputs are passed as length-1 arrays with step 0 (no copy); inputs of the full
    broadcast shape are raveled (no copy when contiguous); partial broadcasts are materialised.
    """
    if array.size == 1:
        return np.ascontiguousarray(array).reshape(1), 0
    if array.shape == shape:
        return np.ascontiguousarray(array).reshape(-1), 1
    return np.ascontiguousarray(np.broadcast_to(array, shape)).reshape(-1), 1


def normalised_black(x: object, s: object, theta: object, log: bool = False) -> FloatArray:
    """Normalised Black price ``b(x, s, theta)``, accurate to a few ulps in every region.

    ``b = theta [exp(x/2) Phi(theta (x/s + s/2)) - exp(-x/2) Phi(theta (x/s - s/2))]`` is the
    undiscounted Black-76 price divided by ``sqrt(F K)`` (Jäckel 2015). Deep out-of-the-money
    values use the asymptotic expansion, small ``s`` the Taylor expansion and the rest Cody's
    ``erfcx``, so prices down to the underflow threshold keep full relative accuracy (and
    subnormal results are correctly rounded from the logarithm).

    Parameters
    ----------
    x : array_like of float
        Log-moneyness ``ln(F/K)``.
    s : array_like of float
        Total volatility ``vol * sqrt(t)`` (dimensionless), ``s >= 0``.
    theta : "call"/"put", "c"/"p" or +1/-1, array_like
        Option kind.
    log : bool, default False
        Return ``ln b`` instead, computed without forming ``b``: finite (and accurate) far
        beyond the point where ``b`` underflows, e.g. 40 standard deviations out of the money.

    Returns
    -------
    numpy.ndarray of float64, broadcast shape of the inputs (0-d for scalars)
        The normalised price (or its logarithm); NaN where ``x`` or ``s`` is not finite or
        ``s < 0``.
    """
    x_arr = as_float("x", x)
    s_arr = as_float("s", s)
    theta_arr = as_kind(theta, "theta")
    x_b, _, _ = broadcast({"x": x_arr, "s": s_arr, "theta": theta_arr})
    shape = x_b.shape
    x_flat, x_step = flat_for_kernel(x_arr, shape)
    s_flat, s_step = flat_for_kernel(s_arr, shape)
    theta_flat, theta_step = flat_for_kernel(theta_arr, shape)
    out = np.empty(int(np.prod(shape)), dtype=np.float64)
    _normalised_black_kernel(x_flat, s_flat, theta_flat, out, x_step, s_step, theta_step, log)
    return out.reshape(shape)
