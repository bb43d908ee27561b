"""Exposure of a book: per-contract Greeks and book totals in a USD or coin numeraire.

Everything is vectorised over the positions: the book is flattened once into
:class:`PositionArrays` (one element per position) and every option is priced in one Black-76
call.

Conventions
-----------
Value of one contract, ``U`` (USD), as a function of its underlying price ``F``:

* **Option** (linear or inverse): ``U = contract_size * C(F)`` where ``C`` is the Black-76 USD
  price on the expiry's forward ``F`` (Deribit: ``rate = 0``).
* **Inverse (coin-settled) option**, Deribit style: its price in coin is ``C(F) / F`` — this is
  how Deribit marks its options (``mark_price`` in BTC). Its Black forward delta ``dC/dF`` is
  what Deribit reports in its ``delta`` column; its *premium-adjusted* delta
  ``F d(C/F)/dF = delta - C/F`` is the coin-margined hedge delta (see below). Its coin price
  and coin Greeks come from :func:`hedgekeeper.pricing.inverse.inverse_option`.
* **Linear option** (USD-settled): price in USD ``C(F)``; in coin ``C(F) / S``.
* **Inverse perpetual / future** (Deribit BTC-PERPETUAL: ``contract_size`` = 10 USD face value
  ``N``): a long contract entered at ``F0`` makes ``N (1/F0 - 1/F)`` coin, worth
  ``N (F/F0 - 1)`` USD at ``F``. Positions are marked to market: ``F0`` is the current price, so
  the value is 0 and only its changes count. Per contract: USD delta ``N`` (its face value),
  coin delta ``N / F``. Funding is ignored (theta 0).
* **Linear perpetual / future**: ``U = contract_size (F - F0)``; one unit (one coin) has delta 1.
* **Spot**: ``U = contract_size * S``; delta 1 coin per unit.
* A coin amount converts to USD at the instrument's *own* underlying price (the expiry's forward
  for inverse options and futures, the perpetual's price for perpetuals); USD amounts of linear
  instruments convert to coin at the index ``S``.

Book Greeks in a numeraire. The book is revalued with the spot ``S`` and every forward moving
together, ``F_i = k_i S`` with ``k_i = F_i / S`` fixed (the spot axis of the scenario grid does
the same). ``V`` is the book's value in the numeraire (USD, or coin):

* ``delta_coin`` (coin): USD numeraire ``dV/dS``; coin numeraire ``S dV/dS``. In both,
  ``delta_usd = S * delta_coin`` (USD). In the coin numeraire an inverse option contributes its
  premium-adjusted delta ``(delta - C/F) F / F``, spot coins contribute nothing (a coin is worth
  one coin) and an inverse perpetual contributes ``N / F`` per contract: shorting
  ``delta_coin * F / N`` inverse-perpetual contracts makes the book's *coin* P&L flat, shorting
  ``delta_coin`` coins of spot makes its *USD* P&L flat in the USD numeraire.
* ``gamma_coin_per_usd`` (coin per USD): ``d delta_coin / dS``. ``cash_gamma_coin_per_1pct`` is
  the change of ``delta_coin`` for a +1 % spot move, ``0.01 S gamma`` (coin), and
  ``cash_gamma_usd_per_1pct = 0.01 S^2 gamma`` (USD) the same in dollars.
* ``vega_per_vol_point``: value change when every implied vol rises by one vol point (0.01),
  in the numeraire; grouped per expiry bucket.
* ``theta_per_day``: value change over one calendar day, forwards and vols held, in the
  numeraire (Black-76 theta / 365).

Per-contract Greeks (:class:`ContractGreeks`) follow Deribit's own columns: Black forward
``delta`` per coin of underlying (1 for perpetuals, futures and spot), ``gamma`` (coin per USD),
``vega`` (USD per vol point) and ``theta`` (USD per day) of the USD price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from hedgekeeper.domain.book import Book, Position
from hedgekeeper.domain.chain import OptionChain
from hedgekeeper.domain.instruments import Future, Margining, Option, Perpetual, Spot
from hedgekeeper.domain.market import ForwardQuote, ForwardSource, MarketSnapshot, from_datetime64
from hedgekeeper.pricing._inputs import FloatArray
from hedgekeeper.pricing.black import black76
from hedgekeeper.pricing.forward import chain_forwards
from hedgekeeper.pricing.inverse import inverse_option

Numeraire = Literal["usd", "coin"]
NUMERAIRES: tuple[Numeraire, ...] = ("usd", "coin")

BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]

PRODUCT_SPOT = 0
"""``PositionArrays.product`` code of a spot holding."""
PRODUCT_FUTURE = 1
"""``PositionArrays.product`` code of a perpetual or dated future."""
PRODUCT_OPTION = 2
"""``PositionArrays.product`` code of a European option."""

BUCKET_SPOT = "spot"
BUCKET_PERPETUAL = "perpetual"

DAYS_PER_YEAR = 365.0
VOL_POINT = 0.01


def _readonly(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def check_numeraire(numeraire: str) -> Numeraire:
    """Return ``numeraire`` as ``"usd"`` or ``"coin"`` (any case); ``ValueError`` otherwise."""
    word = str(numeraire).strip().lower()
    if word == "usd":
        return "usd"
    if word == "coin":
        return "coin"
    raise ValueError(f"numeraire must be 'usd' or 'coin', got {numeraire!r}")


@dataclass(frozen=True, eq=False)
class PositionArrays:
    """A book flattened into arrays, one element per position, with its market inputs.

    All arrays have shape ``(n,)`` and are stored read-only as float64 (or int8/bool).

    Attributes
    ----------
    instrument_name, underlying, bucket : tuple of str
        Instrument name; underlying coin (``"BTC"``); expiry bucket label (``"2026-03-27"`` for
        options and dated futures, ``"perpetual"``, ``"spot"``).
    product : int8
        ``PRODUCT_SPOT`` (0), ``PRODUCT_FUTURE`` (1: perpetual or dated future),
        ``PRODUCT_OPTION`` (2).
    inverse : bool
        Coin-margined / coin-settled (Deribit inverse); spot is never inverse.
    option_kind : int8
        +1 call, -1 put; 0 for non-options.
    strike : float64
        USD per coin (NaN for non-options).
    expiry_years : float64
        Years to expiry, ACT/365; positive for options, NaN for perpetuals and spot.
    forward : float64
        USD per coin: the option's or future's forward, the perpetual's price, the spot price.
    vol : float64
        Black implied volatility, fraction (NaN for non-options).
    rate : float64
        Continuously compounded discount rate of the option's premium (Deribit: 0).
    quantity : float64
        Signed number of contracts.
    contract_size : float64
        Coins per contract (options, linear futures, spot) or USD face value per contract
        (inverse futures and perpetuals).
    spot : float64
        Index price of the position's underlying, USD per coin.
    """

    instrument_name: tuple[str, ...]
    underlying: tuple[str, ...]
    bucket: tuple[str, ...]
    product: Int8Array
    inverse: BoolArray
    option_kind: Int8Array
    strike: FloatArray
    expiry_years: FloatArray
    forward: FloatArray
    vol: FloatArray
    rate: FloatArray
    quantity: FloatArray
    contract_size: FloatArray
    spot: FloatArray

    def __post_init__(self) -> None:
        n = len(self.instrument_name)
        for name in ("underlying", "bucket"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"{name} must have one entry per position ({n}), got {len(getattr(self, name))}"
                )
            object.__setattr__(self, name, tuple(str(v) for v in getattr(self, name)))
        object.__setattr__(self, "instrument_name", tuple(str(v) for v in self.instrument_name))
        dtypes: dict[str, type[np.generic]] = {
            "product": np.int8,
            "inverse": np.bool_,
            "option_kind": np.int8,
        }
        for name in (
            "product",
            "inverse",
            "option_kind",
            "strike",
            "expiry_years",
            "forward",
            "vol",
            "rate",
            "quantity",
            "contract_size",
            "spot",
        ):
            try:
                array = np.asarray(getattr(self, name), dtype=dtypes.get(name, np.float64))
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{name} must be an array of numbers, got {getattr(self, name)!r}"
                ) from exc
            if array.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
            object.__setattr__(self, name, _readonly(array))
        self._validate()

    def _validate(self) -> None:
        def first_bad(name: str, ok: BoolArray, expected: str) -> None:
            if not np.all(ok):
                index = int(np.flatnonzero(~ok)[0])
                value = getattr(self, name)[index]
                raise ValueError(
                    f"{name} of {self.instrument_name[index]!r} must be {expected}, got {value!r}"
                )

        first_bad(
            "product",
            np.isin(self.product, (PRODUCT_SPOT, PRODUCT_FUTURE, PRODUCT_OPTION)),
            f"{PRODUCT_SPOT} (spot), {PRODUCT_FUTURE} (future) or {PRODUCT_OPTION} (option)",
        )
        option = self.product == PRODUCT_OPTION
        first_bad(
            "inverse",
            ~(self.inverse & (self.product == PRODUCT_SPOT)),
            "False for spot (spot is linear)",
        )
        positive = "a positive finite number"
        for name in ("forward", "spot", "contract_size"):
            values = getattr(self, name)
            first_bad(name, np.isfinite(values) & (values > 0.0), positive)
        first_bad("quantity", np.isfinite(self.quantity), "a finite number of contracts")
        first_bad("rate", np.isfinite(self.rate), "a finite rate")
        first_bad("option_kind", ~option | (np.abs(self.option_kind) == 1), "+1 (call) or -1 (put)")
        for name in ("strike", "expiry_years", "vol"):
            values = getattr(self, name)
            first_bad(name, ~option | (np.isfinite(values) & (values > 0.0)), positive)

    def __len__(self) -> int:
        return len(self.instrument_name)

    @property
    def is_option(self) -> BoolArray:
        """True for option positions, shape ``(n,)``."""
        return np.asarray(self.product == PRODUCT_OPTION)

    @property
    def conversion(self) -> FloatArray:
        """USD per coin used to turn each contract's USD value into coin, shape ``(n,)``.

        The instrument's own underlying price for inverse instruments (Deribit: option coin
        price = USD price / forward), the index for linear ones and spot.
        """
        return np.where(self.inverse, self.forward, self.spot)

    def replace_market(
        self,
        *,
        forward: FloatArray | None = None,
        spot: FloatArray | None = None,
        vol: FloatArray | None = None,
        expiry_years: FloatArray | None = None,
    ) -> PositionArrays:
        """The same positions under other market inputs (arrays of shape ``(n,)``)."""
        return PositionArrays(
            instrument_name=self.instrument_name,
            underlying=self.underlying,
            bucket=self.bucket,
            product=self.product,
            inverse=self.inverse,
            option_kind=self.option_kind,
            strike=self.strike,
            expiry_years=self.expiry_years if expiry_years is None else expiry_years,
            forward=self.forward if forward is None else forward,
            vol=self.vol if vol is None else vol,
            rate=self.rate,
            quantity=self.quantity,
            contract_size=self.contract_size,
            spot=self.spot if spot is None else spot,
        )


@dataclass(frozen=True, eq=False)
class _Sensitivities:
    """Per-contract value of each position and its derivatives, in USD and in coin.

    USD: ``U`` and its derivatives w.r.t. the underlying price ``F``. Coin: ``W = U / X`` (``X``
    the conversion price, see :attr:`PositionArrays.conversion`) with ``F / S`` held fixed.
    """

    value: FloatArray  # U, USD per contract (0 for futures: marked to market)
    d_forward: FloatArray  # dU/dF, coin per contract
    d2_forward: FloatArray  # d2U/dF2, coin per USD per contract
    d_vol: FloatArray  # dU/dvol, USD per 1.00 vol per contract
    theta: FloatArray  # -dU/dt, USD per year of calendar time per contract
    black_delta: FloatArray  # dC/dF per coin of underlying (1 for futures and spot)
    coin_value: FloatArray  # W, coin per contract
    coin_delta: FloatArray  # F dW/dF = S dW/dS, coin per contract
    coin_gamma: FloatArray  # d(coin_delta)/dF, coin per USD per contract
    coin_d_vol: FloatArray  # dW/dvol, coin per 1.00 vol per contract
    coin_theta: FloatArray  # -dW/dt, coin per year per contract


def _sensitivities(positions: PositionArrays) -> _Sensitivities:
    n = len(positions)
    size = positions.contract_size
    forward = positions.forward
    option = positions.is_option
    inverse_option_rows = np.flatnonzero(option & positions.inverse)
    linear_option_rows = np.flatnonzero(option & ~positions.inverse)
    price = np.zeros(n)
    black_delta = np.ones(n)
    gamma = np.zeros(n)
    vega = np.zeros(n)
    theta = np.zeros(n)
    coin_greeks = None
    if inverse_option_rows.size:
        rows = inverse_option_rows
        coin_greeks = inverse_option(
            forward[rows],
            positions.strike[rows],
            positions.expiry_years[rows],
            positions.vol[rows],
            positions.option_kind[rows],
            positions.rate[rows],
        )
        usd = coin_greeks.usd
        price[rows], black_delta[rows], gamma[rows] = usd.price, usd.delta, usd.gamma
        vega[rows], theta[rows] = usd.vega, usd.theta
    if linear_option_rows.size:
        rows = linear_option_rows
        usd = black76(
            forward[rows],
            positions.strike[rows],
            positions.expiry_years[rows],
            positions.rate[rows],
            positions.vol[rows],
            positions.option_kind[rows],
        )
        price[rows], black_delta[rows], gamma[rows] = usd.price, usd.delta, usd.gamma
        vega[rows], theta[rows] = usd.vega, usd.theta
    future = positions.product == PRODUCT_FUTURE
    spot = positions.product == PRODUCT_SPOT
    value = np.where(spot, size * positions.spot, size * price)
    # Inverse future: U = N (F/F0 - 1), so dU/dF = N / F0 at F = F0.
    d_forward = np.where(future & positions.inverse, size / forward, size * black_delta)
    d2_forward, d_vol, theta_usd = size * gamma, size * vega, size * theta
    # W = U / X with X proportional to F (and S):
    #   F dW/dF = (F U_F - U) / X,   d(F dW/dF)/dF = F U_FF / X - (F dW/dF) / F.
    conversion = positions.conversion
    coin_value = value / conversion
    coin_delta = (forward * d_forward - value) / conversion
    coin_gamma = forward * d2_forward / conversion - coin_delta / forward
    coin_d_vol = d_vol / conversion
    coin_theta = theta_usd / conversion
    if coin_greeks is not None:
        # Inverse options: the coin price and coin Greeks of hedgekeeper.pricing.inverse
        # (X = F: price C/F, premium-adjusted delta, gamma_pa, vega/F, theta/F).
        rows, scale = inverse_option_rows, size[inverse_option_rows]
        coin_value[rows] = scale * coin_greeks.price
        coin_delta[rows] = scale * coin_greeks.delta_pa
        coin_gamma[rows] = scale * coin_greeks.gamma_pa
        coin_d_vol[rows] = scale * coin_greeks.vega
        coin_theta[rows] = scale * coin_greeks.theta
    return _Sensitivities(
        value=value,
        d_forward=d_forward,
        d2_forward=d2_forward,
        d_vol=d_vol,
        theta=theta_usd,
        black_delta=black_delta,
        coin_value=coin_value,
        coin_delta=coin_delta,
        coin_gamma=coin_gamma,
        coin_d_vol=coin_d_vol,
        coin_theta=coin_theta,
    )


@dataclass(frozen=True, eq=False)
class ContractGreeks:
    """Greeks of one contract of each position, in Deribit's units; arrays of shape ``(n,)``.

    Attributes
    ----------
    price_usd : float64
        Options: USD premium per contract (Black-76). Futures and perpetuals: their price,
        USD per coin. Spot: the index, USD per coin.
    price_coin : float64
        Options: premium per contract in coin (inverse: ``C/F``, Deribit's ``mark_price``;
        linear: ``C/S``). Spot: 1 per coin. Futures and perpetuals: NaN (no premium).
    iv : float64
        Implied volatility used, fraction (NaN for non-options).
    delta : float64
        Black forward delta ``dC/dF`` per coin of underlying, what Deribit reports (one option
        contract is ``contract_size`` = 1 coin on Deribit); 1 for perpetuals, futures and spot.
    delta_premium_adjusted : float64
        Coin-numeraire delta per coin of underlying, ``F d(value in coin)/dF``: for an inverse
        option ``delta - C/F``, the coin-margined hedge delta; for a linear option
        ``(F delta - C)/S``; 1 for inverse futures; ``F/S`` for linear futures; 0 for spot.
    delta_coin : float64
        Spot delta of one contract in the USD numeraire, coin (``dU/dS`` with forwards moving
        with spot): ``delta * F/S`` for an option, ``N/F * F/S`` for an inverse perpetual.
    delta_usd : float64
        ``S * delta_coin``, USD per contract (inverse perpetual: its face value ``N``).
    gamma : float64
        Black ``d2C/dF2`` per contract, coin per USD (0 for delta-one instruments).
    vega : float64
        USD per vol point per contract (Deribit's ``vega`` column).
    theta : float64
        USD per calendar day per contract (negative for a long option at ``rate = 0``).
    """

    price_usd: FloatArray
    price_coin: FloatArray
    iv: FloatArray
    delta: FloatArray
    delta_premium_adjusted: FloatArray
    delta_coin: FloatArray
    delta_usd: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


def contract_greeks(positions: PositionArrays) -> ContractGreeks:
    """Per-contract prices and Greeks of every position (see :class:`ContractGreeks`).

    Parameters
    ----------
    positions : PositionArrays
        ``n`` positions with their market inputs.

    Returns
    -------
    ContractGreeks
        Arrays of shape ``(n,)``; quantities are ignored (one contract each).
    """
    sens = _sensitivities(positions)
    option = positions.is_option
    size = positions.contract_size
    future = positions.product == PRODUCT_FUTURE
    spot = positions.product == PRODUCT_SPOT
    forward, index = positions.forward, positions.spot
    price_usd = np.where(option, sens.value, forward)
    price_coin = np.where(option, sens.coin_value, np.where(spot, 1.0, np.nan))
    notional_coin = np.where(future & positions.inverse, size / forward, size)
    delta_coin = sens.d_forward * forward / index
    return ContractGreeks(
        price_usd=price_usd,
        price_coin=price_coin,
        iv=np.where(option, positions.vol, np.nan),
        delta=sens.black_delta,
        delta_premium_adjusted=sens.coin_delta / notional_coin,
        delta_coin=delta_coin,
        delta_usd=delta_coin * index,
        gamma=sens.d2_forward,
        vega=sens.d_vol * VOL_POINT,
        theta=sens.theta / DAYS_PER_YEAR,
    )


@dataclass(frozen=True, eq=False)
class GreekTotals:
    """Greeks summed over groups of positions (one element per group), in a numeraire.

    Attributes
    ----------
    label : tuple of str, length g
        Group label: the underlying (``"BTC"``), the position's instrument name, or
        ``"BTC 2026-03-27"`` for an expiry bucket.
    underlying : tuple of str, length g
    spot : float64, shape (g,)
        Index of the group's underlying, USD per coin.
    value : float64, shape (g,)
        Mark-to-market value in the numeraire (option premiums, spot holdings; futures 0).
    delta_coin, delta_usd : float64, shape (g,)
        Coin delta (see the module docstring) and ``S * delta_coin`` in USD.
    gamma_coin_per_usd : float64, shape (g,)
        ``d delta_coin / dS``.
    cash_gamma_coin_per_1pct, cash_gamma_usd_per_1pct : float64, shape (g,)
        Change of ``delta_coin`` for a +1 % spot move, in coin and in USD.
    vega_per_vol_point : float64, shape (g,)
        Numeraire units per vol point (all vols + 0.01).
    theta_per_day : float64, shape (g,)
        Numeraire units per calendar day.
    """

    label: tuple[str, ...]
    underlying: tuple[str, ...]
    spot: FloatArray
    value: FloatArray
    delta_coin: FloatArray
    delta_usd: FloatArray
    gamma_coin_per_usd: FloatArray
    cash_gamma_coin_per_1pct: FloatArray
    cash_gamma_usd_per_1pct: FloatArray
    vega_per_vol_point: FloatArray
    theta_per_day: FloatArray

    def __len__(self) -> int:
        return len(self.label)

    def row(self, label: str) -> dict[str, float]:
        """Numbers of the group called ``label``; ``KeyError`` if there is none."""
        index = self.label.index(label)
        return {
            name: float(getattr(self, name)[index])
            for name in (
                "spot",
                "value",
                "delta_coin",
                "delta_usd",
                "gamma_coin_per_usd",
                "cash_gamma_coin_per_1pct",
                "cash_gamma_usd_per_1pct",
                "vega_per_vol_point",
                "theta_per_day",
            )
        }


@dataclass(frozen=True, eq=False)
class Exposure:
    """Exposure of a book in one numeraire.

    Attributes
    ----------
    numeraire : {"usd", "coin"}
    positions : PositionArrays
        The inputs.
    contract : ContractGreeks
        Per-contract Greeks in Deribit's units (independent of the numeraire).
    per_position : GreekTotals
        Quantity-weighted Greeks of each position in the numeraire, labelled by instrument.
    by_bucket : GreekTotals
        Sums per (underlying, expiry bucket), labelled ``"BTC 2026-03-27"``, ``"BTC perpetual"``,
        ``"BTC spot"``, ordered by underlying then expiry (spot and perpetuals first).
    by_underlying : GreekTotals
        Sums per underlying coin: the book totals (one coin's delta cannot be added to
        another's).
    """

    numeraire: Numeraire
    positions: PositionArrays
    contract: ContractGreeks
    per_position: GreekTotals
    by_bucket: GreekTotals
    by_underlying: GreekTotals


def _position_totals(positions: PositionArrays, numeraire: Numeraire) -> GreekTotals:
    sens = _sensitivities(positions)
    quantity = positions.quantity
    forward, index = positions.forward, positions.spot
    ratio = forward / index  # k = F/S, fixed when spot and forwards move together
    if numeraire == "usd":
        value, delta_coin = sens.value, ratio * sens.d_forward
        gamma = ratio * ratio * sens.d2_forward
        vega, theta = sens.d_vol, sens.theta
    else:
        value, delta_coin = sens.coin_value, sens.coin_delta
        gamma = ratio * sens.coin_gamma
        vega, theta = sens.coin_d_vol, sens.coin_theta
    gamma_q = quantity * gamma
    delta_q = quantity * delta_coin
    return GreekTotals(
        label=positions.instrument_name,
        underlying=positions.underlying,
        spot=np.array(index, dtype=np.float64),
        value=quantity * value,
        delta_coin=delta_q,
        delta_usd=delta_q * index,
        gamma_coin_per_usd=gamma_q,
        cash_gamma_coin_per_1pct=gamma_q * index * 0.01,
        cash_gamma_usd_per_1pct=gamma_q * index * index * 0.01,
        vega_per_vol_point=quantity * vega * VOL_POINT,
        theta_per_day=quantity * theta / DAYS_PER_YEAR,
    )


_SUMMED = (
    "value",
    "delta_coin",
    "delta_usd",
    "gamma_coin_per_usd",
    "cash_gamma_coin_per_1pct",
    "cash_gamma_usd_per_1pct",
    "vega_per_vol_point",
    "theta_per_day",
)


def _group(
    totals: GreekTotals, keys: list[tuple[str, float, str]], labels: list[str]
) -> GreekTotals:
    """Sum ``totals`` over positions sharing a key; groups in the order of ``sorted(keys)``."""
    order = sorted(set(keys))
    code = {key: i for i, key in enumerate(order)}
    index = np.array([code[key] for key in keys], dtype=np.intp)
    first: dict[tuple[str, float, str], int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    sums: dict[str, FloatArray] = {
        name: np.asarray(
            np.bincount(index, weights=getattr(totals, name), minlength=len(order)),
            dtype=np.float64,
        )
        for name in _SUMMED
    }
    return GreekTotals(
        label=tuple(labels[first[key]] for key in order),
        underlying=tuple(totals.underlying[first[key]] for key in order),
        spot=np.array([totals.spot[first[key]] for key in order], dtype=np.float64),
        **sums,
    )


def _check_one_spot(positions: PositionArrays) -> None:
    seen: dict[str, float] = {}
    for coin, index in zip(positions.underlying, positions.spot, strict=True):
        if seen.setdefault(coin, float(index)) != float(index):
            raise ValueError(
                f"spot of underlying {coin!r} must be the same for every position, "
                f"got {seen[coin]!r} and {float(index)!r}"
            )


def exposure(positions: PositionArrays, numeraire: str = "usd") -> Exposure:
    """Greeks of a book per contract, per position, per expiry bucket and per underlying.

    Parameters
    ----------
    positions : PositionArrays
        ``n`` positions and their market inputs.
    numeraire : {"usd", "coin"}
        Currency the book's value, P&L and Greeks are measured in (see the module docstring).

    Returns
    -------
    Exposure

    Raises
    ------
    ValueError
        For an unknown numeraire, or two positions on one underlying with different spots.
    """
    chosen = check_numeraire(numeraire)
    _check_one_spot(positions)
    per_position = _position_totals(positions, chosen)
    # Buckets sort by underlying, then spot, perpetual, then dated expiries by time.
    rank = np.where(
        positions.product == PRODUCT_SPOT,
        -2.0,
        np.where(np.isnan(positions.expiry_years), -1.0, positions.expiry_years),
    )
    expiry_rank: dict[tuple[str, str], float] = {}
    for coin, bucket, years in zip(positions.underlying, positions.bucket, rank, strict=True):
        expiry_rank[(coin, bucket)] = min(expiry_rank.get((coin, bucket), math.inf), float(years))
    bucket_keys = [
        (coin, expiry_rank[(coin, bucket)], bucket)
        for coin, bucket in zip(positions.underlying, positions.bucket, strict=True)
    ]
    bucket_labels = [
        f"{coin} {bucket}"
        for coin, bucket in zip(positions.underlying, positions.bucket, strict=True)
    ]
    by_bucket = _group(per_position, bucket_keys, bucket_labels)
    by_underlying = _group(
        per_position, [(c, 0.0, "") for c in positions.underlying], list(positions.underlying)
    )
    return Exposure(
        numeraire=chosen,
        positions=positions,
        contract=contract_greeks(positions),
        per_position=per_position,
        by_bucket=by_bucket,
        by_underlying=by_underlying,
    )


def position_values(positions: PositionArrays, numeraire: str = "usd") -> FloatArray:
    """Mark-to-market value of each position in the numeraire, shape ``(n,)``.

    Futures and perpetuals are worth 0 (marked to market at ``forward``); options are worth
    their premium, spot holdings their coins.
    """
    chosen = check_numeraire(numeraire)
    return _position_totals(positions, chosen).value


def position_arrays(
    book: Book,
    snapshots: MarketSnapshot | Mapping[str, MarketSnapshot],
    vols: Mapping[str, float] | None = None,
) -> PositionArrays:
    """Flatten a book and its market snapshot(s) into :class:`PositionArrays`.

    Positions in the same instrument on several venues/accounts are netted.

    Parameters
    ----------
    book : Book
    snapshots : MarketSnapshot or mapping of underlying coin -> MarketSnapshot
        One snapshot per underlying the book holds.
    vols : mapping of option name -> implied vol (fraction), optional
        Overrides; otherwise each option uses the snapshot's mark IV (Deribit's
        ``implied_volatility``), else the snapshot's fitted surface.

    Returns
    -------
    PositionArrays

    Raises
    ------
    ValueError
        Naming the instrument if its underlying has no snapshot, an option has no implied vol or
        its expiry no forward, or an instrument has expired at the snapshot time.

    Notes
    -----
    A perpetual's price is the snapshot's ``perp_prices[name]`` when present, else the index
    (a perpetual is held near the index by funding). A dated future's price is the snapshot's
    forward of its expiry.
    """
    if isinstance(snapshots, MarketSnapshot):
        by_coin: Mapping[str, MarketSnapshot] = {snapshots.underlying: snapshots}
    else:
        by_coin = snapshots
    instruments, quantities = book.netted()
    n = len(instruments)
    names: list[str] = []
    coins: list[str] = []
    buckets: list[str] = []
    product = np.zeros(n, dtype=np.int8)
    inverse = np.zeros(n, dtype=np.bool_)
    option_kind = np.zeros(n, dtype=np.int8)
    strike = np.full(n, np.nan)
    expiry_years = np.full(n, np.nan)
    forward = np.zeros(n)
    vol = np.full(n, np.nan)
    rate = np.zeros(n)
    contract_size = np.zeros(n)
    spot = np.zeros(n)
    per_expiry: dict[tuple[str, datetime], tuple[float, float, str]] = {}
    for i, instrument in enumerate(instruments):
        name = instrument.name
        snapshot = by_coin.get(instrument.underlying)
        if snapshot is None:
            raise ValueError(
                f"instrument {name!r}: no market snapshot for underlying {instrument.underlying!r}"
                f" (have: {', '.join(sorted(by_coin)) or 'none'})"
            )
        names.append(name)
        coins.append(instrument.underlying)
        spot[i] = snapshot.index_price
        rate[i] = snapshot.rate
        if isinstance(instrument, Spot):
            product[i] = PRODUCT_SPOT
            forward[i] = snapshot.index_price
            contract_size[i] = instrument.contract_size
            buckets.append(BUCKET_SPOT)
            continue
        inverse[i] = instrument.margining is Margining.INVERSE
        contract_size[i] = instrument.contract_size
        if isinstance(instrument, Perpetual):
            product[i] = PRODUCT_FUTURE
            forward[i] = snapshot.perp_prices.get(name, snapshot.index_price)
            buckets.append(BUCKET_PERPETUAL)
            continue
        # Many options share an expiry: look its years/forward/bucket up once per snapshot.
        key = (instrument.underlying, instrument.expiry)
        cached = per_expiry.get(key)
        if cached is None:
            try:
                cached = (
                    snapshot.time_to_expiry(instrument.expiry),
                    snapshot.forward(instrument.expiry),
                    instrument.expiry.strftime("%Y-%m-%d"),
                )
            except ValueError as exc:
                raise ValueError(f"instrument {name!r}: {exc}") from None
            per_expiry[key] = cached
        years, forward[i], bucket = cached
        buckets.append(bucket)
        expiry_years[i] = years
        if isinstance(instrument, Future):
            product[i] = PRODUCT_FUTURE
            continue
        assert isinstance(instrument, Option)
        product[i] = PRODUCT_OPTION
        option_kind[i] = int(instrument.kind)
        strike[i] = instrument.strike
        vol[i] = _option_vol(instrument, snapshot, years, forward[i], vols)
    return PositionArrays(
        instrument_name=tuple(names),
        underlying=tuple(coins),
        bucket=tuple(buckets),
        product=product,
        inverse=inverse,
        option_kind=option_kind,
        strike=strike,
        expiry_years=expiry_years,
        forward=forward,
        vol=vol,
        rate=rate,
        quantity=quantities,
        contract_size=contract_size,
        spot=spot,
    )


def _option_vol(
    option: Option,
    snapshot: MarketSnapshot,
    years: float,
    forward: float,
    vols: Mapping[str, float] | None,
) -> float:
    if vols is not None and option.name in vols:
        return float(vols[option.name])
    mark = snapshot.mark_ivs.get(option.name)
    if mark is not None:
        return mark
    if snapshot.surface is not None:
        return float(
            snapshot.implied_vol(
                np.array([option.strike]),
                np.array([years]),
                np.array([forward]),
            )[0]
        )
    raise ValueError(
        f"option {option.name!r} has no implied volatility: it is not in the snapshot's chain "
        "(no mark IV) and the snapshot has no fitted surface"
    )


def book_exposure(
    book: Book,
    snapshots: MarketSnapshot | Mapping[str, MarketSnapshot],
    numeraire: str = "usd",
    vols: Mapping[str, float] | None = None,
) -> Exposure:
    """:func:`exposure` of a :class:`~hedgekeeper.domain.Book` (see :func:`position_arrays`)."""
    return exposure(position_arrays(book, snapshots, vols), numeraire)


def listed_snapshot(
    chain: OptionChain, perp_prices: Mapping[str, float] | None = None
) -> MarketSnapshot:
    """The market Deribit marks its options with: its own forward per expiry and its mark IVs.

    Deribit quotes ``mark_iv`` against the ``underlying`` of each expiry (the listed future, or
    a synthetic forward), so pricing at the mark IV on that forward reproduces ``mark_price``;
    a put-call-parity forward (:func:`hedgekeeper.pricing.forward.snapshot_from_chain`) differs
    from it by up to a few basis points, which moves deep options' prices by more than the
    mark's precision.

    Parameters
    ----------
    chain : OptionChain
        One snapshot.
    perp_prices : mapping of perpetual name -> USD price, optional

    Returns
    -------
    MarketSnapshot
        ``forwards``: median of Deribit's ``underlying`` per expiry
        (``ForwardSource.LISTED_UNDERLYING``); ``index_price``: the chain's index; ``rate`` 0;
        ``mark_ivs`` and ``mark_prices`` (coin) per option.
    """
    listed = chain_forwards(chain)
    forwards: dict[datetime, ForwardQuote] = {}
    for expiry, forward in zip(listed.expiry, listed.listed, strict=True):
        when = from_datetime64(expiry)
        forwards[when] = ForwardQuote(
            expiry=when, forward=float(forward), source=ForwardSource.LISTED_UNDERLYING
        )
    names = [str(name) for name in chain.names]
    return MarketSnapshot(
        timestamp=chain.timestamp,
        underlying=chain.underlying,
        index_price=chain.index_price,
        forwards=forwards,
        rate=0.0,
        perp_prices=dict(perp_prices or {}),
        mark_ivs=dict(zip(names, chain.mark_iv.tolist(), strict=True)),
        mark_prices=dict(zip(names, chain.mark.tolist(), strict=True)),
    )


def chain_book(chain: OptionChain, quantity: float = 1.0) -> Book:
    """A book holding ``quantity`` contracts of every option of ``chain``, in chain order."""
    return Book(tuple(Position(instrument=option, quantity=quantity) for option in chain.options))
