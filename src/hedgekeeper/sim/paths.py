"""Seeded, vectorised price path generators for Monte Carlo hedging and backtests.

Every model is a frozen dataclass holding its parameters (validated on construction, errors
name the parameter) with one method,
``simulate(s0, dt, n_steps, n_paths, rng) -> Paths``; :func:`historical_replay` wraps a real
price series in the same :class:`Paths` type. Prices come back as an array of shape
``(n_paths, n_steps + 1)`` whose column 0 is ``s0``.

Units (ARCHITECTURE.md): time in years (ACT/365), so one hour is ``1 / 8760``; vols as
fractions per sqrt(year); drifts continuously compounded per year, defined so that
``E[S_t] = s0 * exp(drift * t)`` for GBM, Merton and Heston. GARCH parameters are per step, as
they are estimated on returns sampled at that step.

Randomness is never global: ``rng`` is a :class:`numpy.random.Generator` or an integer seed,
and the same seed gives the same paths. The recursions that carry state along a path (GARCH
variance, Heston QE) are numba kernels with a numpy reference (vectorised over paths, looping
over steps) beside them; the numpy one runs when numba is unavailable or disabled with
``HEDGEKEEPER_DISABLE_NUMBA=1``, and the tests check that both agree.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from hedgekeeper.pricing._jit import NUMBA_AVAILABLE, njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Seed = np.random.Generator | int
ScalarT = TypeVar("ScalarT", bound=np.generic)

HOURS_PER_YEAR = 365.0 * 24.0
HOUR = 1.0 / HOURS_PER_YEAR
"""One hour in years (ACT/365): the ``dt`` of hourly data."""

# Andersen (2008), section 3.2.3: switch from the quadratic to the exponential branch above this.
_QE_PSI_CRITICAL = 1.5


def _readonly_view(array: npt.NDArray[ScalarT]) -> npt.NDArray[ScalarT]:
    # A read-only view: the caller's own array stays writeable, no copy is made.
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class Paths:
    """Simulated (or replayed) price paths on a uniform time grid.

    Attributes
    ----------
    prices : ndarray, shape (n_paths, n_steps + 1)
        Prices at times ``0, dt, ..., n_steps * dt``; column 0 is the start price. Read-only.
    dt : float
        Time step in years.
    variance : ndarray, shape (n_paths, n_steps + 1), or None
        Instantaneous variance per year (fraction**2 / year) in force at each time, governing
        the step that starts there (Heston ``v_t``; GARCH conditional variance of the next
        return divided by ``dt``; the last column is the one-step-ahead value). ``None`` for
        models without a variance state. Read-only.
    jumps : ndarray of int64, shape (n_paths, n_steps), or None
        Number of jumps in each step (Merton), ``None`` otherwise. Read-only.
    """

    prices: FloatArray
    dt: float
    variance: FloatArray | None = None
    jumps: IntArray | None = None

    def __post_init__(self) -> None:
        prices = np.asarray(self.prices, dtype=np.float64)
        if prices.ndim != 2 or prices.shape[1] < 2:
            raise ValueError(
                "prices must have shape (n_paths, n_steps + 1) with n_steps >= 1, "
                f"got {prices.shape}"
            )
        object.__setattr__(self, "prices", _readonly_view(prices))
        object.__setattr__(self, "dt", _positive("dt", self.dt))
        if self.variance is not None:
            variance = np.asarray(self.variance, dtype=np.float64)
            if variance.shape != prices.shape:
                raise ValueError(
                    f"variance must have the shape of prices {prices.shape}, got {variance.shape}"
                )
            object.__setattr__(self, "variance", _readonly_view(variance))
        if self.jumps is not None:
            jumps = np.asarray(self.jumps, dtype=np.int64)
            if jumps.shape != (prices.shape[0], prices.shape[1] - 1):
                raise ValueError(
                    f"jumps must have shape (n_paths, n_steps) = "
                    f"{(prices.shape[0], prices.shape[1] - 1)}, got {jumps.shape}"
                )
            object.__setattr__(self, "jumps", _readonly_view(jumps))

    @property
    def n_paths(self) -> int:
        """Number of paths (rows)."""
        return int(self.prices.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of time steps (columns of ``prices`` minus one)."""
        return int(self.prices.shape[1] - 1)

    @property
    def times(self) -> FloatArray:
        """Times of the price columns in years from the start, shape (n_steps + 1,)."""
        return self.dt * np.arange(self.n_steps + 1, dtype=np.float64)

    @property
    def log_returns(self) -> FloatArray:
        """Per-step log returns ``ln(S_{i+1} / S_i)``, shape (n_paths, n_steps)."""
        return np.diff(np.log(self.prices), axis=1)


class PathModel(Protocol):
    """A price process that can be sampled on a uniform grid."""

    def simulate(self, s0: float, dt: float, n_steps: int, n_paths: int, rng: Seed) -> Paths:
        """Sample ``n_paths`` paths of ``n_steps`` steps of ``dt`` years starting at ``s0``."""
        ...


# ----------------------------------------------------------------------------- validation


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number!r}")
    return number


def _positive(name: str, value: object) -> float:
    number = _number(name, value)
    if number <= 0.0:
        raise ValueError(f"{name} must be > 0, got {number!r}")
    return number


def _non_negative(name: str, value: object) -> float:
    number = _number(name, value)
    if number < 0.0:
        raise ValueError(f"{name} must be >= 0, got {number!r}")
    return number


def _count(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    try:
        count = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if count < 1:
        raise ValueError(f"{name} must be a positive integer, got {count}")
    return count


def as_generator(rng: Seed) -> np.random.Generator:
    """Return ``rng`` if it is a :class:`numpy.random.Generator`, else seed a new one from it.

    Raises
    ------
    ValueError
        If ``rng`` is neither a Generator nor a non-negative integer seed.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer) or rng < 0:
        raise ValueError(
            f"rng must be a numpy.random.Generator or a non-negative integer seed, got {rng!r}"
        )
    return np.random.default_rng(int(rng))


def _grid(s0: float, dt: float, n_steps: int, n_paths: int) -> tuple[float, float, int, int]:
    return (
        _positive("s0", s0),
        _positive("dt", dt),
        _count("n_steps", n_steps),
        _count("n_paths", n_paths),
    )


def _prices_from_log_returns(s0: float, log_returns: FloatArray) -> FloatArray:
    n_paths, n_steps = log_returns.shape
    log_paths = np.empty((n_paths, n_steps + 1), dtype=np.float64)
    log_paths[:, 0] = 0.0
    np.cumsum(log_returns, axis=1, out=log_paths[:, 1:])
    return s0 * np.exp(log_paths)


# ----------------------------------------------------------------------------- GBM


@dataclass(frozen=True)
class GeometricBrownianMotion:
    """Geometric Brownian motion ``dS = drift * S dt + vol * S dW``, stepped exactly.

    ``ln S_{t+dt} = ln S_t + (drift - vol**2 / 2) dt + vol sqrt(dt) Z`` with ``Z ~ N(0, 1)``,
    so log returns over ``T`` are normal with mean ``(drift - vol**2/2) T`` and variance
    ``vol**2 T``, and ``E[S_T] = s0 exp(drift T)`` whatever the step.

    Parameters
    ----------
    drift : float
        Expected growth rate ``mu``, continuously compounded per year (the risk-free rate
        minus any yield for risk-neutral paths).
    vol : float
        Volatility ``sigma`` as a fraction per sqrt(year), ``>= 0``.
    """

    drift: float
    vol: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "drift", _number("drift", self.drift))
        object.__setattr__(self, "vol", _non_negative("vol", self.vol))

    def simulate(self, s0: float, dt: float, n_steps: int, n_paths: int, rng: Seed) -> Paths:
        """Sample paths; see :class:`PathModel`.

        Parameters
        ----------
        s0 : float
            Start price (> 0, currency units).
        dt : float
            Step in years (> 0).
        n_steps, n_paths : int
            Grid size (>= 1 each).
        rng : numpy.random.Generator or int
            Random source or seed; draws ``n_paths * n_steps`` standard normals.

        Returns
        -------
        Paths
            ``prices`` of shape (n_paths, n_steps + 1); no variance or jumps.
        """
        s0, dt, n_steps, n_paths = _grid(s0, dt, n_steps, n_paths)
        normals = as_generator(rng).standard_normal((n_paths, n_steps))
        log_returns = (self.drift - 0.5 * self.vol**2) * dt + self.vol * math.sqrt(dt) * normals
        return Paths(_prices_from_log_returns(s0, log_returns), dt)


# ----------------------------------------------------------------------------- Merton


@dataclass(frozen=True)
class MertonJumpDiffusion:
    """Merton (1976) jump-diffusion: GBM plus compound-Poisson log-normal jumps.

    ``dS / S- = (drift - lambda k) dt + vol dW + (e^Y - 1) dN`` with ``N`` Poisson of intensity
    ``lambda`` = ``jump_intensity`` per year, log jump sizes ``Y ~ N(jump_mean, jump_vol**2)``
    and ``k = E[e^Y] - 1 = exp(jump_mean + jump_vol**2 / 2) - 1``. The ``- lambda k`` compensator
    makes ``E[S_T] = s0 exp(drift T)``, so ``drift`` means the same as in GBM.

    Each step draws the jump count ``n ~ Poisson(lambda dt)`` and the summed log jump
    ``n jump_mean + jump_vol sqrt(n) Z'`` exactly, so there is no time-step bias. Over a horizon
    ``T`` the log return has variance ``vol**2 T + lambda T (jump_mean**2 + jump_vol**2)`` and
    excess kurtosis ``lambda T (m**4 + 6 m**2 s**2 + 3 s**4) / variance**2``
    (``m`` = jump_mean, ``s`` = jump_vol; the cumulants of a compound Poisson sum).

    Parameters
    ----------
    drift : float
        Expected growth rate, continuously compounded per year.
    vol : float
        Diffusion volatility, fraction per sqrt(year), ``>= 0``.
    jump_intensity : float
        Expected number of jumps per year, ``>= 0``.
    jump_mean : float
        Mean of the log jump size ``Y`` (e.g. -0.05 for an average 4.9 % drop).
    jump_vol : float
        Standard deviation of the log jump size, ``>= 0``.
    """

    drift: float
    vol: float
    jump_intensity: float
    jump_mean: float
    jump_vol: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "drift", _number("drift", self.drift))
        object.__setattr__(self, "vol", _non_negative("vol", self.vol))
        object.__setattr__(
            self, "jump_intensity", _non_negative("jump_intensity", self.jump_intensity)
        )
        object.__setattr__(self, "jump_mean", _number("jump_mean", self.jump_mean))
        object.__setattr__(self, "jump_vol", _non_negative("jump_vol", self.jump_vol))

    @property
    def jump_compensator(self) -> float:
        """``k = E[e^Y] - 1``, the mean relative jump size."""
        return math.expm1(self.jump_mean + 0.5 * self.jump_vol**2)

    def log_return_variance(self, horizon: float) -> float:
        """Variance of the log return over ``horizon`` years."""
        jump_second = self.jump_mean**2 + self.jump_vol**2
        return (self.vol**2 + self.jump_intensity * jump_second) * horizon

    def log_return_excess_kurtosis(self, horizon: float) -> float:
        """Excess kurtosis of the log return over ``horizon`` years (0 without jumps)."""
        m, s = self.jump_mean, self.jump_vol
        fourth_cumulant = self.jump_intensity * horizon * (m**4 + 6 * m**2 * s**2 + 3 * s**4)
        variance = self.log_return_variance(horizon)
        return fourth_cumulant / variance**2 if variance > 0.0 else 0.0

    def simulate(self, s0: float, dt: float, n_steps: int, n_paths: int, rng: Seed) -> Paths:
        """Sample paths; see :class:`PathModel`.

        Returns
        -------
        Paths
            ``prices`` of shape (n_paths, n_steps + 1) and ``jumps``, the jump count of each
            step, shape (n_paths, n_steps).
        """
        s0, dt, n_steps, n_paths = _grid(s0, dt, n_steps, n_paths)
        generator = as_generator(rng)
        shape = (n_paths, n_steps)
        diffusion = generator.standard_normal(shape)
        jumps = generator.poisson(self.jump_intensity * dt, shape).astype(np.int64)
        jump_normals = generator.standard_normal(shape)
        drift = self.drift - 0.5 * self.vol**2 - self.jump_intensity * self.jump_compensator
        log_returns = (
            drift * dt
            + self.vol * math.sqrt(dt) * diffusion
            + self.jump_mean * jumps
            + self.jump_vol * np.sqrt(jumps) * jump_normals
        )
        return Paths(_prices_from_log_returns(s0, log_returns), dt, jumps=jumps)


# ----------------------------------------------------------------------------- GARCH(1,1)


@njit
def _garch_kernel(
    omega: float,
    alpha: float,
    beta: float,
    mean: float,
    initial_variance: float,
    innovations: FloatArray,
    log_returns: FloatArray,
    variance: FloatArray,
) -> None:
    n_paths, n_steps = innovations.shape
    for path in range(n_paths):
        h = initial_variance
        variance[path, 0] = h
        for step in range(n_steps):
            shock = math.sqrt(h) * innovations[path, step]
            log_returns[path, step] = mean + shock
            h = omega + alpha * shock * shock + beta * h
            variance[path, step + 1] = h


def _garch_numpy(
    omega: float,
    alpha: float,
    beta: float,
    mean: float,
    initial_variance: float,
    innovations: FloatArray,
    log_returns: FloatArray,
    variance: FloatArray,
) -> None:
    variance[:, 0] = initial_variance
    for step in range(innovations.shape[1]):
        h = variance[:, step]
        shock = np.sqrt(h) * innovations[:, step]
        log_returns[:, step] = mean + shock
        variance[:, step + 1] = omega + alpha * shock * shock + beta * h


@dataclass(frozen=True)
class Garch11:
    """GARCH(1,1) log returns (Bollerslev 1986), parameters per step.

    ``r_t = mean_log_return + e_t``, ``e_t = sqrt(h_t) z_t``,
    ``h_{t+1} = omega + alpha e_t**2 + beta h_t``, with ``z_t`` i.i.d. standard normal or
    standardised Student-t (unit variance). ``S_{t+1} = S_t exp(r_t)``. The parameters are per
    step (e.g. per hour when fitted to hourly returns); ``dt`` only labels the grid and scales
    :attr:`Paths.variance` to per year.

    Parameters
    ----------
    omega : float
        Variance intercept per step, ``> 0`` (fraction**2 per step).
    alpha : float
        ARCH coefficient, ``>= 0``.
    beta : float
        GARCH coefficient, ``>= 0``; ``alpha + beta < 1`` (covariance stationarity).
    mean_log_return : float, default 0.0
        Mean log return per step.
    student_t_dof : float or None, default None
        Degrees of freedom ``nu > 2`` of Student-t innovations, rescaled by
        ``sqrt((nu - 2) / nu)`` to unit variance; ``None`` for normal innovations.
    initial_variance : float or None, default None
        ``h_0`` per step, ``> 0``; ``None`` starts at the unconditional variance
        ``omega / (1 - alpha - beta)``, so ``E[e_t**2]`` equals it at every step.
    """

    omega: float
    alpha: float
    beta: float
    mean_log_return: float = 0.0
    student_t_dof: float | None = None
    initial_variance: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "omega", _positive("omega", self.omega))
        object.__setattr__(self, "alpha", _non_negative("alpha", self.alpha))
        object.__setattr__(self, "beta", _non_negative("beta", self.beta))
        if self.alpha + self.beta >= 1.0:
            raise ValueError(
                "alpha + beta must be < 1 for a covariance-stationary GARCH(1,1), got "
                f"alpha={self.alpha!r} + beta={self.beta!r} = {self.alpha + self.beta!r}"
            )
        object.__setattr__(
            self, "mean_log_return", _number("mean_log_return", self.mean_log_return)
        )
        if self.student_t_dof is not None:
            dof = _number("student_t_dof", self.student_t_dof)
            if dof <= 2.0:
                raise ValueError(f"student_t_dof must be > 2 (finite variance), got {dof!r}")
            object.__setattr__(self, "student_t_dof", dof)
        if self.initial_variance is not None:
            object.__setattr__(
                self, "initial_variance", _positive("initial_variance", self.initial_variance)
            )

    @property
    def unconditional_variance(self) -> float:
        """``omega / (1 - alpha - beta)``, variance of a return per step."""
        return self.omega / (1.0 - self.alpha - self.beta)

    @property
    def innovation_kurtosis(self) -> float:
        """Kurtosis of ``z``: 3 (normal) or ``3 + 6 / (nu - 4)`` (inf when ``nu <= 4``)."""
        if self.student_t_dof is None:
            return 3.0
        return 3.0 + 6.0 / (self.student_t_dof - 4.0) if self.student_t_dof > 4.0 else math.inf

    @property
    def excess_kurtosis(self) -> float:
        """Unconditional excess kurtosis of one-step returns (inf when the 4th moment is not).

        ``K = kz (1 - p**2) / (1 - p**2 - (kz - 1) alpha**2)`` with ``p = alpha + beta`` and
        ``kz`` the innovation kurtosis (Bollerslev 1986 for ``kz = 3``; the same recursion for
        ``E[h**2]`` gives the general case).
        """
        kz = self.innovation_kurtosis
        persistence = self.alpha + self.beta
        denominator = 1.0 - persistence**2 - (kz - 1.0) * self.alpha**2
        if not math.isfinite(kz) or denominator <= 0.0:
            return math.inf
        return kz * (1.0 - persistence**2) / denominator - 3.0

    def _innovations(self, generator: np.random.Generator, shape: tuple[int, int]) -> FloatArray:
        if self.student_t_dof is None:
            return generator.standard_normal(shape)
        dof = self.student_t_dof
        return generator.standard_t(dof, shape) * math.sqrt((dof - 2.0) / dof)

    def simulate(self, s0: float, dt: float, n_steps: int, n_paths: int, rng: Seed) -> Paths:
        """Sample paths; see :class:`PathModel`.

        Returns
        -------
        Paths
            ``prices`` of shape (n_paths, n_steps + 1) and ``variance = h / dt`` (per year),
            ``variance[:, i]`` being that of the return from step ``i`` to ``i + 1``.
        """
        s0, dt, n_steps, n_paths = _grid(s0, dt, n_steps, n_paths)
        innovations = self._innovations(as_generator(rng), (n_paths, n_steps))
        h0 = self.unconditional_variance if self.initial_variance is None else self.initial_variance
        log_returns = np.empty((n_paths, n_steps), dtype=np.float64)
        variance = np.empty((n_paths, n_steps + 1), dtype=np.float64)
        recursion = _garch_kernel if NUMBA_AVAILABLE else _garch_numpy
        recursion(
            self.omega,
            self.alpha,
            self.beta,
            self.mean_log_return,
            h0,
            innovations,
            log_returns,
            variance,
        )
        return Paths(_prices_from_log_returns(s0, log_returns), dt, variance=variance / dt)


# ----------------------------------------------------------------------------- Heston (QE)


@njit
def _heston_qe_kernel(
    drift: float,
    dt: float,
    initial_variance: float,
    kappa: float,
    theta: float,
    xi: float,
    rho: float,
    variance_normals: FloatArray,
    variance_uniforms: FloatArray,
    spot_normals: FloatArray,
    log_prices: FloatArray,
    variance: FloatArray,
) -> None:
    n_paths, n_steps = spot_normals.shape
    decay = math.exp(-kappa * dt)
    c1 = xi * xi * decay * (1.0 - decay) / kappa
    c2 = theta * xi * xi * (1.0 - decay) ** 2 / (2.0 * kappa)
    k0 = -rho * kappa * theta * dt / xi
    k1 = 0.5 * dt * (kappa * rho / xi - 0.5) - rho / xi
    k2 = 0.5 * dt * (kappa * rho / xi - 0.5) + rho / xi
    k3 = 0.5 * dt * (1.0 - rho * rho)
    k4 = k3
    a_mg = k2 + 0.5 * k4
    for path in range(n_paths):
        v = initial_variance
        x = 0.0
        variance[path, 0] = v
        log_prices[path, 0] = 0.0
        for step in range(n_steps):
            m = theta + (v - theta) * decay
            psi = (v * c1 + c2) / (m * m)
            corrected = False
            log_mgf = 0.0
            if psi <= _QE_PSI_CRITICAL:
                two_over_psi = 2.0 / psi
                b2 = two_over_psi - 1.0 + math.sqrt(two_over_psi) * math.sqrt(two_over_psi - 1.0)
                a = m / (1.0 + b2)
                root = math.sqrt(b2) + variance_normals[path, step]
                v_next = a * root * root
                if a_mg * a < 0.5:
                    corrected = True
                    log_mgf = a_mg * b2 * a / (1.0 - 2.0 * a_mg * a) - 0.5 * math.log(
                        1.0 - 2.0 * a_mg * a
                    )
            else:
                p = (psi - 1.0) / (psi + 1.0)
                rate = (1.0 - p) / m
                u = variance_uniforms[path, step]
                v_next = 0.0 if u <= p else math.log((1.0 - p) / (1.0 - u)) / rate
                if a_mg < rate:
                    corrected = True
                    log_mgf = math.log(p + rate * (1.0 - p) / (rate - a_mg))
            shift = -log_mgf - (k1 + 0.5 * k3) * v if corrected else k0
            x += (
                drift * dt
                + shift
                + k1 * v
                + k2 * v_next
                + math.sqrt(k3 * v + k4 * v_next) * spot_normals[path, step]
            )
            v = v_next
            variance[path, step + 1] = v
            log_prices[path, step + 1] = x


def _heston_qe_numpy(
    drift: float,
    dt: float,
    initial_variance: float,
    kappa: float,
    theta: float,
    xi: float,
    rho: float,
    variance_normals: FloatArray,
    variance_uniforms: FloatArray,
    spot_normals: FloatArray,
    log_prices: FloatArray,
    variance: FloatArray,
) -> None:
    decay = math.exp(-kappa * dt)
    c1 = xi * xi * decay * (1.0 - decay) / kappa
    c2 = theta * xi * xi * (1.0 - decay) ** 2 / (2.0 * kappa)
    k0 = -rho * kappa * theta * dt / xi
    k1 = 0.5 * dt * (kappa * rho / xi - 0.5) - rho / xi
    k2 = 0.5 * dt * (kappa * rho / xi - 0.5) + rho / xi
    k3 = 0.5 * dt * (1.0 - rho * rho)
    k4 = k3
    a_mg = k2 + 0.5 * k4
    variance[:, 0] = initial_variance
    log_prices[:, 0] = 0.0
    for step in range(spot_normals.shape[1]):
        v = variance[:, step]
        m = theta + (v - theta) * decay
        psi = (v * c1 + c2) / (m * m)
        quadratic = psi <= _QE_PSI_CRITICAL
        v_next = np.empty_like(v)
        corrected = np.zeros(v.shape, dtype=np.bool_)
        log_mgf = np.zeros_like(v)

        q_psi, q_m = psi[quadratic], m[quadratic]
        two_over_psi = 2.0 / q_psi
        b2 = two_over_psi - 1.0 + np.sqrt(two_over_psi) * np.sqrt(two_over_psi - 1.0)
        a = q_m / (1.0 + b2)
        root = np.sqrt(b2) + variance_normals[quadratic, step]
        v_next[quadratic] = a * root * root
        ok = a_mg * a < 0.5
        safe = np.where(ok, 1.0 - 2.0 * a_mg * a, 1.0)
        log_mgf[quadratic] = np.where(ok, a_mg * b2 * a / safe - 0.5 * np.log(safe), 0.0)
        corrected[quadratic] = ok

        exponential = ~quadratic
        e_psi, e_m = psi[exponential], m[exponential]
        p = (e_psi - 1.0) / (e_psi + 1.0)
        rate = (1.0 - p) / e_m
        u = variance_uniforms[exponential, step]
        jumped = u > p
        v_next[exponential] = np.where(
            jumped, np.log((1.0 - p) / (1.0 - np.where(jumped, u, 0.0))) / rate, 0.0
        )
        ok = a_mg < rate
        safe_rate = np.where(ok, rate - a_mg, 1.0)
        log_mgf[exponential] = np.where(ok, np.log(p + rate * (1.0 - p) / safe_rate), 0.0)
        corrected[exponential] = ok

        shift = np.where(corrected, -log_mgf - (k1 + 0.5 * k3) * v, k0)
        log_prices[:, step + 1] = log_prices[:, step] + (
            drift * dt
            + shift
            + k1 * v
            + k2 * v_next
            + np.sqrt(k3 * v + k4 * v_next) * spot_normals[:, step]
        )
        variance[:, step + 1] = v_next


@dataclass(frozen=True)
class Heston:
    """Heston (1993) stochastic volatility, stepped with Andersen's QE scheme.

    ``dS = drift S dt + sqrt(v) S dW_S``,
    ``dv = mean_reversion (long_run_variance - v) dt + vol_of_vol sqrt(v) dW_v``,
    ``d<W_S, W_v> = correlation dt`` (symbols ``kappa, theta, xi, rho`` below).

    Scheme: L. Andersen, "Simple and efficient simulation of the Heston stochastic volatility
    model", J. Comput. Finance 11(3), 2008. The variance uses the quadratic-exponential (QE)
    step (section 3.2.4, ``psi_c = 1.5``), which matches the exact conditional mean and
    variance of ``v_{t+dt}`` and never goes negative, so ``E[v_T] = theta + (v0 - theta)
    exp(-kappa T)`` holds at any step size. Log prices use the central discretisation
    (``gamma1 = gamma2 = 1/2``, section 4.2) with the martingale correction of section 4.3.4,
    so ``E[S_{t+dt} | S_t, v_t] = S_t exp(drift dt)`` exactly; where the correction's moment
    condition fails (``A >= 1 / (2a)`` or ``A >= beta``, rare, large ``rho / xi``) that step
    falls back to the uncorrected ``K0``. The variance normal and uniform are drawn
    independently (the paper inverts one uniform), which leaves the distribution unchanged.

    The Feller condition ``2 kappa theta >= xi**2`` is not required (QE handles ``v`` at 0);
    :attr:`feller_satisfied` reports it.

    Parameters
    ----------
    drift : float
        Expected growth rate of ``S``, continuously compounded per year.
    initial_variance : float
        ``v0`` per year (fraction**2; 0.04 is 20 % vol), ``>= 0``.
    mean_reversion : float
        ``kappa`` per year, ``> 0``.
    long_run_variance : float
        ``theta`` per year, ``> 0``.
    vol_of_vol : float
        ``xi``, fraction per sqrt(year), ``> 0``.
    correlation : float
        ``rho`` between the price and variance shocks, in ``[-1, 1]``.
    """

    drift: float
    initial_variance: float
    mean_reversion: float
    long_run_variance: float
    vol_of_vol: float
    correlation: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "drift", _number("drift", self.drift))
        object.__setattr__(
            self, "initial_variance", _non_negative("initial_variance", self.initial_variance)
        )
        object.__setattr__(self, "mean_reversion", _positive("mean_reversion", self.mean_reversion))
        object.__setattr__(
            self, "long_run_variance", _positive("long_run_variance", self.long_run_variance)
        )
        object.__setattr__(self, "vol_of_vol", _positive("vol_of_vol", self.vol_of_vol))
        rho = _number("correlation", self.correlation)
        if not -1.0 <= rho <= 1.0:
            raise ValueError(f"correlation must be in [-1, 1], got {rho!r}")
        object.__setattr__(self, "correlation", rho)

    @property
    def feller_ratio(self) -> float:
        """``2 kappa theta / xi**2``; ``>= 1`` means ``v`` never reaches 0 in continuous time."""
        return 2.0 * self.mean_reversion * self.long_run_variance / self.vol_of_vol**2

    @property
    def feller_satisfied(self) -> bool:
        """Whether the Feller condition ``2 kappa theta >= xi**2`` holds."""
        return self.feller_ratio >= 1.0

    def expected_variance(self, horizon: float) -> float:
        """``E[v_T] = theta + (v0 - theta) exp(-kappa T)`` at ``T = horizon`` years."""
        theta = self.long_run_variance
        return theta + (self.initial_variance - theta) * math.exp(-self.mean_reversion * horizon)

    def simulate(self, s0: float, dt: float, n_steps: int, n_paths: int, rng: Seed) -> Paths:
        """Sample paths; see :class:`PathModel`.

        Draws three ``(n_paths, n_steps)`` arrays (variance normal, variance uniform, price
        normal), about ``24 * n_paths * n_steps`` bytes besides the outputs.

        Returns
        -------
        Paths
            ``prices`` and ``variance`` (``v_t`` per year), each (n_paths, n_steps + 1).
        """
        s0, dt, n_steps, n_paths = _grid(s0, dt, n_steps, n_paths)
        generator = as_generator(rng)
        shape = (n_paths, n_steps)
        variance_normals = generator.standard_normal(shape)
        variance_uniforms = generator.random(shape)
        spot_normals = generator.standard_normal(shape)
        log_prices = np.empty((n_paths, n_steps + 1), dtype=np.float64)
        variance = np.empty((n_paths, n_steps + 1), dtype=np.float64)
        recursion = _heston_qe_kernel if NUMBA_AVAILABLE else _heston_qe_numpy
        recursion(
            self.drift,
            dt,
            self.initial_variance,
            self.mean_reversion,
            self.long_run_variance,
            self.vol_of_vol,
            self.correlation,
            variance_normals,
            variance_uniforms,
            spot_normals,
            log_prices,
            variance,
        )
        return Paths(s0 * np.exp(log_prices), dt, variance=variance)


# ----------------------------------------------------------------------------- bootstrap


def _log_returns_of(prices: object, name: str) -> FloatArray:
    array = np.asarray(prices, dtype=np.float64) if _is_numeric(prices) else None
    if array is None or array.ndim != 1 or array.size < 2:
        raise ValueError(f"{name} must be a 1-D array of at least 2 prices")
    if not np.all(np.isfinite(array) & (array > 0.0)):
        bad = int(np.flatnonzero(~(np.isfinite(array) & (array > 0.0)))[0])
        raise ValueError(f"{name} must be finite and > 0, got {array[bad]!r} at index {bad}")
    return np.diff(np.log(array))


def _is_numeric(value: object) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True, eq=False)
class BlockBootstrap:
    """Resample paths from observed log returns in blocks that keep their short-range dependence.

    ``method="stationary"`` is the stationary bootstrap of Politis and Romano (JASA 89, 1994):
    each step starts a new block at a uniformly drawn index with probability
    ``1 / block_length``, otherwise it takes the next observed return, so block lengths are
    geometric with mean ``block_length``. ``method="fixed"`` is the circular block bootstrap:
    blocks of exactly ``block_length`` consecutive returns (an integer) from uniform starts.
    Both wrap around the end of the sample, so every observed return is equally likely at every
    step and the bootstrapped returns keep the sample's mean and variance in expectation.

    Parameters
    ----------
    log_returns : array_like, shape (n_returns,)
        Observed log returns, finite, ``n_returns >= 2``; copied and made read-only.
    dt : float
        Sampling interval of the returns in years (:data:`HOUR` for hourly data); ``simulate``
        only accepts this step.
    block_length : float
        Mean block length (stationary) or exact block length (fixed, an integer), in steps,
        between 1 and ``n_returns``.
    method : {"stationary", "fixed"}, default "stationary"
    """

    log_returns: FloatArray
    dt: float
    block_length: float
    method: Literal["stationary", "fixed"] = "stationary"
    _n_returns: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not _is_numeric(self.log_returns):
            raise ValueError("log_returns must be a 1-D array of numbers")
        returns = np.array(self.log_returns, dtype=np.float64)
        if returns.ndim != 1 or returns.size < 2:
            raise ValueError(
                f"log_returns must be a 1-D array of at least 2 returns, got shape {returns.shape}"
            )
        if not np.all(np.isfinite(returns)):
            bad = int(np.flatnonzero(~np.isfinite(returns))[0])
            raise ValueError(f"log_returns must be finite, got {returns[bad]!r} at index {bad}")
        object.__setattr__(self, "log_returns", _readonly_view(returns))
        object.__setattr__(self, "_n_returns", int(returns.size))
        object.__setattr__(self, "dt", _positive("dt", self.dt))
        if self.method not in ("stationary", "fixed"):
            raise ValueError(f"method must be 'stationary' or 'fixed', got {self.method!r}")
        length = _number("block_length", self.block_length)
        if not 1.0 <= length <= returns.size:
            raise ValueError(
                f"block_length must be between 1 and the number of returns ({returns.size}), "
                f"got {length!r}"
            )
        if self.method == "fixed" and length != round(length):
            raise ValueError(f"block_length must be an integer for method='fixed', got {length!r}")
        object.__setattr__(self, "block_length", length)

    @classmethod
    def from_prices(
        cls,
        prices: npt.ArrayLike,
        dt: float,
        block_length: float,
        method: Literal["stationary", "fixed"] = "stationary",
    ) -> BlockBootstrap:
        """Build from a price series (1-D, finite, > 0) sampled every ``dt`` years."""
        return cls(_log_returns_of(prices, "prices"), dt, block_length, method)

    def sample_indices(self, n_steps: int, n_paths: int, rng: Seed) -> IntArray:
        """Indices into :attr:`log_returns` of each bootstrapped step, shape (n_paths, n_steps).

        Useful to resample other series observed at the same times (funding, implied vol)
        jointly with the returns.
        """
        n_steps = _count("n_steps", n_steps)
        n_paths = _count("n_paths", n_paths)
        generator = as_generator(rng)
        n = self._n_returns
        steps = np.arange(n_steps, dtype=np.int64)
        if self.method == "fixed":
            length = int(self.block_length)
            n_blocks = -(-n_steps // length)
            starts = generator.integers(0, n, (n_paths, n_blocks), dtype=np.int64)
            indices = starts[:, steps // length] + steps % length
        else:
            starts = generator.integers(0, n, (n_paths, n_steps), dtype=np.int64)
            new_block = generator.random((n_paths, n_steps)) < 1.0 / self.block_length
            new_block[:, 0] = True
            block_start = np.maximum.accumulate(np.where(new_block, steps, 0), axis=1)
            indices = np.take_along_axis(starts, block_start, axis=1) + (steps - block_start)
        result: IntArray = indices % n
        return result

    def simulate(self, s0: float, dt: float, n_steps: int, n_paths: int, rng: Seed) -> Paths:
        """Sample paths; see :class:`PathModel`. ``dt`` must equal the returns' :attr:`dt`.

        Returns
        -------
        Paths
            ``prices`` of shape (n_paths, n_steps + 1) built from bootstrapped log returns.
        """
        s0, dt, n_steps, n_paths = _grid(s0, dt, n_steps, n_paths)
        if not math.isclose(dt, self.dt, rel_tol=1e-9):
            raise ValueError(
                f"dt must equal the sampling interval of the bootstrapped returns ({self.dt!r} "
                f"years), got {dt!r}"
            )
        indices = self.sample_indices(n_steps, n_paths, rng)
        return Paths(_prices_from_log_returns(s0, self.log_returns[indices]), self.dt)


# ----------------------------------------------------------------------------- replay


def historical_replay(prices: npt.ArrayLike, dt: float) -> Paths:
    """Wrap an observed price series as one path.

    Parameters
    ----------
    prices : array_like, shape (n,)
        Prices at a uniform step, finite and ``> 0``, ``n >= 2``.
    dt : float
        Step between observations in years (:data:`HOUR` for hourly closes).

    Returns
    -------
    Paths
        ``prices`` of shape (1, n) (a copy), no variance or jumps.
    """
    _log_returns_of(prices, "prices")
    return Paths(np.array(prices, dtype=np.float64).reshape(1, -1), _positive("dt", dt))
