"""Venue quotes of the instruments to trade, turned into a :class:`TradeContext` in USD.

Conversions per contract (matching :mod:`hedgekeeper.pricing.exposure`):

* inverse option (Deribit): premium in coin per coin of underlying, worth ``premium * F`` USD
  per coin (``F`` the expiry's forward: Deribit marks ``C(F) / F``); notional ``size * S``;
* linear option: premium in the quote currency (taken as USD); notional ``size * S``;
* inverse perpetual / future: a contract is ``N`` USD of face value and its USD value moves
  with the price ratio, so crossing the spread costs ``N * (ask - bid) / (2 * mid)`` USD;
  ``bid_usd = N * bid / mid``, ``ask_usd = N * ask / mid``, notional ``N``;
* linear perpetual / future and spot: ``price * size`` USD; notional ``mid * size``.

``S`` is the snapshot's index. Quote currencies USDC/USDT are taken at par with USD.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hedgekeeper.costs.model import TradeContext, require_number
from hedgekeeper.domain.instruments import Future, Instrument, Margining, Option, Perpetual
from hedgekeeper.domain.market import MarketSnapshot


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book of one instrument, in the venue's price units, and its liquidity.

    Attributes
    ----------
    bid, ask : best bid and ask: coin per option for inverse options, quote currency per coin
        for everything else (Deribit BTC-PERPETUAL: USD per BTC). ``0 < bid <= ask``.
    daily_volume : traded contracts per day, or NaN when unknown (impact models need it).
    daily_volatility : daily volatility of the price, fraction, or NaN when unknown.
    """

    bid: float
    ask: float
    daily_volume: float = math.nan
    daily_volatility: float = math.nan

    def __post_init__(self) -> None:
        bid = require_number("Quote.bid", self.bid, minimum=0.0)
        ask = require_number("Quote.ask", self.ask, minimum=0.0)
        if bid <= 0.0 or ask < bid:
            raise ValueError(f"Quote needs 0 < bid <= ask, got bid {bid!r}, ask {ask!r}")
        for name in ("daily_volume", "daily_volatility"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or (not math.isnan(value) and value < 0.0):
                raise ValueError(f"Quote.{name} must be >= 0 or NaN, got {value!r}")

    @property
    def mid(self) -> float:
        """``(bid + ask) / 2``, venue price units."""
        return 0.5 * (self.bid + self.ask)


def trade_context(instruments: Sequence[Instrument], quotes: Mapping[str, Quote],
                  snapshot: MarketSnapshot) -> TradeContext:
    """USD per-contract quotes of ``instruments`` for the cost models (module conversions).

    Parameters
    ----------
    instruments : the ``n`` instruments to trade, in order.
    quotes : instrument name -> :class:`Quote`; every instrument must have one.
    snapshot : market of their underlying (index and forwards).

    Returns
    -------
    TradeContext with arrays of shape ``(n,)``.

    Raises
    ------
    ValueError
        Naming an instrument without a quote, or with another underlying than the snapshot.
    """
    n = len(instruments)
    bid, ask, notional = np.zeros(n), np.zeros(n), np.zeros(n)
    volume, volatility = np.full(n, np.nan), np.full(n, np.nan)
    spot = snapshot.index_price
    for i, instrument in enumerate(instruments):
        quote = quotes.get(instrument.name)
        if quote is None:
            raise ValueError(f"no quote (bid/ask) for hedge instrument {instrument.name!r}")
        if instrument.underlying != snapshot.underlying:
            raise ValueError(f"instrument {instrument.name!r} is on {instrument.underlying}, the "
                             f"snapshot on {snapshot.underlying}")
        size = instrument.contract_size
        if isinstance(instrument, Option):
            per_price = size * (snapshot.forward(instrument.expiry)
                                if instrument.margining is Margining.INVERSE else 1.0)
            bid[i], ask[i], notional[i] = quote.bid * per_price, quote.ask * per_price, size * spot
        elif isinstance(instrument, Perpetual | Future) and \
                instrument.margining is Margining.INVERSE:
            bid[i], ask[i] = size * quote.bid / quote.mid, size * quote.ask / quote.mid
            notional[i] = size
        else:
            bid[i], ask[i], notional[i] = quote.bid * size, quote.ask * size, quote.mid * size
        volume[i], volatility[i] = quote.daily_volume, quote.daily_volatility
    return TradeContext(bid_usd=bid, ask_usd=ask, notional_usd=notional, daily_volume=volume,
                        daily_volatility=volatility)
