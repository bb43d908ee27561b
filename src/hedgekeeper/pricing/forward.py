"""Forward price per expiry from the option chain itself (put-call parity), and a market snapshot.

Put-call parity for European options on a forward ``F`` with strike ``K``, maturity ``t`` and a
continuously compounded rate ``r`` (USD prices)::

    C_usd - P_usd = exp(-r t) (F - K)

Deribit quotes its inverse options in coin: the coin price is the USD (Black-76) price divided
by the forward of the expiry, ``C_coin = C_usd / F`` (the chain README: "divide the USD price by
the underlying"; Deribit prices with r = 0). Substituting ``C_usd = C_coin F``::

    (C_coin - P_coin) F = exp(-r t) (F - K)
    F (exp(-r t) - (C_coin - P_coin)) = exp(-r t) K
    F = K / (1 - (C_coin - P_coin) exp(r t))

valid while ``(C_coin - P_coin) exp(r t) < 1`` (always, since a call is worth less than one
coin). With r = 0 this is ``F = K / (1 - (C_coin - P_coin))``. A bid-ask half-width ``h`` on
the coin difference moves ``F`` by ``dF = F**2 exp(r t) / K * h``, which is how the pairs
are weighted and reported.

Per expiry, :func:`chain_forwards` takes the call/put pairs at the same strike whose four
quotes (call and put bid and ask) all exist, looks at the ``2 n_strikes`` strikes nearest the
money, keeps the ``n_strikes`` with the tightest quotes and takes the median of their parity
forwards weighted by ``1 / dF**2``. Expiries without such a pair fall back to the
venue's own listed underlying (Deribit's ``underlying`` column: the listed future of the
expiry, or a synthetic forward), and say which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hedgekeeper.domain.chain import OptionChain
from hedgekeeper.domain.market import (
    DATETIME_UNIT,
    ForwardQuote,
    ForwardSource,
    MarketSnapshot,
    VolSurface,
    from_datetime64,
)
from hedgekeeper.pricing._inputs import as_float, broadcast, require

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def parity_forward(
    strike: object,
    call_price: object,
    put_price: object,
    t: object,
    rate: object = 0.0,
    *,
    premium: str = "coin",
) -> FloatArray:
    """Forward implied by a call and a put of the same strike and expiry (put-call parity).

    Parameters
    ----------
    strike : array_like
        Strike, USD per coin.
    call_price, put_price : array_like
        Option prices: coin per option (``premium="coin"``, Deribit inverse options, coin price
        = USD price / forward) or USD (``premium="usd"``).
    t : array_like
        Years to expiry.
    rate : array_like
        Continuously compounded USD rate (Deribit: 0).
    premium : {"coin", "usd"}
        Unit of the option prices.

    Returns
    -------
    ndarray of float64, broadcast shape
        Forward, USD per coin; NaN where parity has no positive solution
        (coin: ``(C - P) exp(rt) >= 1``).
    """
    if premium not in ("coin", "usd"):
        raise ValueError(f"premium must be 'coin' or 'usd', got {premium!r}")
    K, C, P, T, r = (
        np.asarray(a, dtype=np.float64)
        for a in broadcast(
            {
                "strike": as_float("strike", strike),
                "call_price": as_float("call_price", call_price),
                "put_price": as_float("put_price", put_price),
                "t": as_float("t", t),
                "rate": as_float("rate", rate),
            }
        )
    )
    require("strike", K > 0.0, "positive", K)
    require("t", T >= 0.0, "non-negative", T)
    growth = np.exp(r * T)
    if premium == "usd":
        forward = K + (C - P) * growth
    else:
        denominator = 1.0 - (C - P) * growth
        with np.errstate(divide="ignore", invalid="ignore"):
            forward = np.where(denominator > 0.0, K / denominator, np.nan)
    return np.where(forward > 0.0, forward, np.nan).astype(np.float64)


@dataclass(frozen=True, slots=True, eq=False)
class ChainForwards:
    """Forward per expiry of one chain, with its provenance and its agreement with the venue.

    Every array has shape ``(m,)``, one entry per expiry, ascending.

    Attributes
    ----------
    expiry : ndarray of datetime64[us]
    t : ndarray of float64
        Years to expiry, ACT/365.
    forward : ndarray of float64
        The forward used, USD per coin.
    source : tuple of ForwardSource
        ``PARITY``; without a usable call/put pair, ``FUTURE`` when the venue's underlying of
        the expiry is a listed future, else ``LISTED_UNDERLYING`` (Deribit's synthetic
        ``SYN.`` forward).
    parity : ndarray of float64
        Median parity forward of the selected pairs (NaN if none).
    listed : ndarray of float64
        The venue's listed underlying of the expiry (median of Deribit's ``underlying``).
    listed_name : tuple of str
        What that underlying is: a future's name (``BTC-27MAR26``) or ``SYN.``-prefixed.
    n_pairs : ndarray of int64
        Pairs the parity median used.
    half_width : ndarray of float64
        Median bid-ask uncertainty of the used pairs' parity forwards, USD (NaN if none).
    """

    expiry: npt.NDArray[np.datetime64]
    t: FloatArray
    forward: FloatArray
    source: tuple[ForwardSource, ...]
    parity: FloatArray
    listed: FloatArray
    listed_name: tuple[str, ...]
    n_pairs: IntArray
    half_width: FloatArray

    @property
    def relative_difference(self) -> FloatArray:
        """``parity / listed - 1`` per expiry (NaN where parity is unavailable)."""
        return np.asarray(self.parity / self.listed - 1.0, dtype=np.float64)


def chain_forwards(chain: OptionChain, *, rate: float = 0.0, n_strikes: int = 6) -> ChainForwards:
    """Forward per expiry of a coin-quoted (Deribit inverse) chain from put-call parity on mids.

    Parameters
    ----------
    chain : OptionChain
        One snapshot; prices in coin.
    rate : float
        Continuously compounded USD rate (Deribit: 0).
    n_strikes : int
        Number of two-sided call/put pairs (the tightest of the ``2 n_strikes`` nearest the
        money) whose weighted median is taken.

    Returns
    -------
    ChainForwards
    """
    if isinstance(n_strikes, bool) or not isinstance(n_strikes, int) or n_strikes < 1:
        raise ValueError(f"n_strikes must be a positive integer, got {n_strikes!r}")
    rate_value = float(as_float("rate", rate))
    require("rate", np.asarray(np.isfinite(rate_value)), "finite", np.asarray(rate_value))
    expiries = np.unique(chain.expiry)
    m = expiries.size
    t = np.empty(m)
    forward = np.empty(m)
    parity = np.full(m, np.nan)
    listed = np.empty(m)
    n_pairs = np.zeros(m, dtype=np.int64)
    half_width = np.full(m, np.nan)
    sources: list[ForwardSource] = []
    listed_names: list[str] = []
    two_sided = np.isfinite(chain.bid) & np.isfinite(chain.ask) & (chain.bid > 0.0)
    two_sided &= chain.ask >= chain.bid
    for j, expiry in enumerate(expiries):
        rows = np.flatnonzero(chain.expiry == expiry)
        t[j] = chain.t[rows[0]]
        listed[j] = float(np.median(chain.forward[rows]))
        listed_names.append(str(chain.futures_name[rows[0]]))
        estimate, count, width = _expiry_parity(chain, rows, two_sided, rate_value, n_strikes)
        if count:
            parity[j], n_pairs[j], half_width[j] = estimate, count, width
            forward[j] = estimate
            sources.append(ForwardSource.PARITY)
        else:
            forward[j] = listed[j]
            synthetic = listed_names[-1].startswith("SYN.") or not listed_names[-1]
            sources.append(ForwardSource.LISTED_UNDERLYING if synthetic else ForwardSource.FUTURE)
    for array in (t, forward, parity, listed, n_pairs, half_width):
        array.setflags(write=False)
    return ChainForwards(
        expiry=expiries.astype(f"datetime64[{DATETIME_UNIT}]"),
        t=t,
        forward=forward,
        source=tuple(sources),
        parity=parity,
        listed=listed,
        listed_name=tuple(listed_names),
        n_pairs=n_pairs,
        half_width=half_width,
    )


def _expiry_parity(
    chain: OptionChain,
    rows: IntArray,
    two_sided: npt.NDArray[np.bool_],
    rate: float,
    n_strikes: int,
) -> tuple[float, int, float]:
    calls = rows[(chain.kind[rows] == 1) & two_sided[rows]]
    puts = rows[(chain.kind[rows] == -1) & two_sided[rows]]
    strikes, call_at, put_at = np.intersect1d(
        chain.strike[calls], chain.strike[puts], assume_unique=False, return_indices=True
    )
    if strikes.size == 0:
        return np.nan, 0, np.nan
    call_rows, put_rows = calls[call_at], puts[put_at]
    mid = chain.mid
    t = chain.t[rows[0]]
    candidates = parity_forward(strikes, mid[call_rows], mid[put_rows], t, rate)
    spread = 0.5 * (
        (chain.ask[call_rows] - chain.bid[call_rows]) + (chain.ask[put_rows] - chain.bid[put_rows])
    )
    uncertainty = candidates**2 * np.exp(rate * t) / strikes * spread
    usable = np.isfinite(candidates)
    if not np.any(usable):
        return np.nan, 0, np.nan
    strikes, candidates, uncertainty = strikes[usable], candidates[usable], uncertainty[usable]
    # Two passes: the first centres on the median of all pairs, the second on that estimate.
    # Of the 2n strikes nearest the centre keep the n with the tightest quotes, then take the
    # median weighted by 1/uncertainty**2 (robust to one stale pair, leaning on liquid ones).
    centre = float(np.median(candidates))
    for _ in range(2):
        window = np.argsort(np.abs(np.log(strikes / centre)), kind="stable")[: 2 * n_strikes]
        nearest = window[np.argsort(uncertainty[window], kind="stable")[:n_strikes]]
        centre = _weighted_median(candidates[nearest], uncertainty[nearest] ** -2.0)
    return centre, int(nearest.size), float(np.median(uncertainty[nearest]))


def _weighted_median(values: FloatArray, weights: FloatArray) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def snapshot_from_chain(
    chain: OptionChain,
    *,
    perp_prices: dict[str, float] | None = None,
    funding_rates: dict[str, float] | None = None,
    rate: float = 0.0,
    surface: VolSurface | None = None,
    n_strikes: int = 6,
) -> MarketSnapshot:
    """Build a :class:`MarketSnapshot` from a chain: parity forwards, index spot, mark IVs.

    Parameters
    ----------
    chain : OptionChain
        One snapshot of a coin-quoted chain.
    perp_prices : dict, optional
        Perpetual name -> price (USD per coin), e.g. ``{"BTC-PERPETUAL": 87395.5}``.
    funding_rates : dict, optional
        Perpetual name -> funding rate, fraction per 8 hours.
    rate : float
        Continuously compounded USD rate (Deribit: 0).
    surface : VolSurface, optional
        A fitted volatility surface to attach.
    n_strikes : int
        Pairs per expiry for the parity median (see :func:`chain_forwards`).

    Returns
    -------
    MarketSnapshot
        ``index_price`` = the chain's index, forwards from parity (falling back to the listed
        underlying, recorded in each ``ForwardQuote.source``), ``mark_ivs`` and
        ``mark_prices`` (coin) per option name.
    """
    forwards = chain_forwards(chain, rate=rate, n_strikes=n_strikes)
    quotes = {}
    for expiry, value, source in zip(
        forwards.expiry, forwards.forward, forwards.source, strict=True
    ):
        when = from_datetime64(expiry)
        quotes[when] = ForwardQuote(expiry=when, forward=float(value), source=source)
    names = [str(name) for name in chain.names]
    return MarketSnapshot(
        timestamp=chain.timestamp,
        underlying=chain.underlying,
        index_price=chain.index_price,
        forwards=quotes,
        rate=rate,
        funding_rates=dict(funding_rates or {}),
        perp_prices=dict(perp_prices or {}),
        surface=surface,
        mark_ivs=dict(zip(names, chain.mark_iv.tolist(), strict=True)),
        mark_prices=dict(zip(names, chain.mark.tolist(), strict=True)),
    )
