"""Historical replay of an option book hedged with the perpetual, through ``engine.decide``.

One step per hourly bar of :class:`~hedgekeeper.backtest.market.HistoricalMarket`, at the
bar's close ``t``. The clock is the data: a :class:`ReplayClock` hands out the step times, and
everything a decision sees was known at ``t``. At each step, in this order:

1. **pending fills** (``fill="next_open"`` only): the orders of the previous step execute at
   this bar's open price (the first trade after the decision), at the previous step's quotes
   otherwise;
2. **funding**: every settlement in ``(t_prev, t]`` is paid on the perpetual position held
   over that interval, at the settlement's rate times the mark close of this step
   (positive rates: longs pay);
3. **expiry and roll**: legs expiring at or before ``t`` are cash-settled at the index; if the
   book's legs are gone (first step, or just settled) a fresh set is opened at model mid
   (:class:`~hedgekeeper.backtest.book.RollingBook`; no trading costs are charged on the book's
   own legs: they are the same for every policy) and hedge options still held are closed
   (charged like any hedge trade);
4. **decision**: a :class:`~hedgekeeper.domain.market.MarketSnapshot` (index, the index as every
   expiry's forward — zero rate and basis —, perpetual price and last funding rate, and a
   :class:`~hedgekeeper.backtest.smile.DvolSmile` surface), top-of-book quotes for the hedge
   instruments, and the vol signals go to :func:`hedgekeeper.engine.decide` with the carried
   :class:`~hedgekeeper.engine.EngineState` — the call the live keeper makes;
5. **fills** (``fill="close"``, the default): the orders execute at once at the quotes'
   mids — the perpetual's close, the price available at ``t`` — and pay the half spread, the
   fee and the impact of the same cost model the sizer minimised
   (:class:`~hedgekeeper.backtest.venue.SimVenue`);
6. **marks**: options at Black-76 on the smile, the perpetual at its close.

Quotes: the perpetual's bid/ask are ``close * (1 -/+ half_spread_bps / 1e4)`` with its trailing
24-hour volume and daily volatility (realised, else implied, over sqrt(365)) for the impact
model; a hedge option's are its model mid ``* (1 -/+ half_spread)``.

Accounting (USD; tests check it at every step):
``equity = option_pnl + hedge_pnl - fees - spread - impact + funding`` where ``option_pnl`` is
the book's premiums, settlements and mark, ``hedge_pnl`` the hedge trades' cash and marks, and
``funding`` is received (negative when paid); ``equity`` itself comes from the simulated venue's
cash and positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from hedgekeeper.backtest.book import RollingBook, expiry_after, linear_option
from hedgekeeper.backtest.market import HistoricalMarket
from hedgekeeper.backtest.smile import DvolSmile
from hedgekeeper.backtest.venue import CostTerms, Fill, SimVenue
from hedgekeeper.costs import Quote
from hedgekeeper.domain.book import Book, Position
from hedgekeeper.domain.instruments import Margining, Option, OptionKind, Perpetual
from hedgekeeper.domain.market import (
    ForwardQuote,
    ForwardSource,
    MarketSnapshot,
    from_datetime64,
)
from hedgekeeper.engine import (
    Components,
    Decision,
    EngineState,
    HedgeInstrument,
    MarketInputs,
    Outcome,
    SizerConfig,
    decide,
)
from hedgekeeper.policies.base import OptionLegs, Policy, PolicyView, years_since_epoch
from hedgekeeper.pricing.black import black76
from hedgekeeper.risk import BookGreeks, Gate

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
DatetimeArray = npt.NDArray[np.datetime64]
FillMode = Literal["close", "next_open"]

SECONDS_PER_YEAR = 365.0 * 86_400.0
_PROBE_DELTA = 1e9  # coin: a net delta far outside any band, to make a policy state its band
_MAX_OPTION_DAILY_VOL = 5.0
_PRICE_FLOOR = 1e-9  # fraction of the index: quotes need a positive bid


def binance_perpetual(coin: str = "BTC", quote: str = "USDT") -> Perpetual:
    """Binance's linear ``COINUSDT`` perpetual: 1 coin per contract, 0.001 lot, 0.1 tick."""
    return Perpetual(name=f"{coin}{quote}", underlying=coin, quote_currency=quote,
                     margining=Margining.LINEAR, settlement_currency=quote,
                     margin_currency=quote, contract_size=1.0, contract_currency=coin,
                     tick_size=0.1, lot_size=0.001)


@dataclass(frozen=True, slots=True)
class HedgeOptionSpec:
    """An option the sizer may trade besides the perpetual (for gamma/vega policies).

    At every roll of the book a new series is listed: ``moneyness * index`` rounded to the
    book's strike step, expiring ``tenor_days`` after the roll (must exceed the book's tenor,
    so it outlives the legs it hedges); hedge options still held from the previous roll are
    closed at the roll.

    Attributes
    ----------
    kind : call or put.
    moneyness : strike / index at the roll, > 0.
    tenor_days : days to its expiry, > the book's tenor.
    max_order : largest order, contracts (coins), > 0.
    half_spread : half the bid-ask spread as a fraction of the model mid, in [0, 1).
    daily_volume : contracts per day traded (impact model), > 0.
    """

    kind: OptionKind = OptionKind.CALL
    moneyness: float = 1.0
    tenor_days: int = 60
    max_order: float = 100.0
    half_spread: float = 0.01
    daily_volume: float = 1000.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.moneyness) and self.moneyness > 0.0):
            raise ValueError(f"HedgeOptionSpec.moneyness must be > 0, got {self.moneyness!r}")
        if not (math.isfinite(self.max_order) and self.max_order > 0.0):
            raise ValueError(f"HedgeOptionSpec.max_order must be > 0, got {self.max_order!r}")
        if not 0.0 <= self.half_spread < 1.0:
            raise ValueError(f"HedgeOptionSpec.half_spread must be in [0, 1), got "
                             f"{self.half_spread!r}")
        if not (math.isfinite(self.daily_volume) and self.daily_volume > 0.0):
            raise ValueError(f"HedgeOptionSpec.daily_volume must be > 0, got "
                             f"{self.daily_volume!r}")


@dataclass(frozen=True, slots=True)
class BacktestSetup:
    """Everything about a replay except the data and the policy.

    Attributes
    ----------
    book : the option legs and how they roll.
    costs : fee, spread and impact models: the sizer's cost model and what fills are charged.
    perp : the hedge perpetual (default Binance ``BTCUSDT``).
    half_spread_bps : the perpetual's quoted half spread around its close, basis points, >= 0.
    perp_max_order : largest perpetual order, coins, > 0.
    atm_ratio, skew : the smile (:class:`~hedgekeeper.backtest.smile.DvolSmile`): ATM vol =
        ``atm_ratio * implied_vol`` of the market; skew in standardised log-moneyness.
    fill : ``"close"`` (fill at the decision's quotes) or ``"next_open"`` (the perpetual at the
        next bar's open).
    hedge_option : an option the sizer may also trade, or None (perpetual only).
    gates : pre-trade gates (e.g. a cost-benefit gate); none by default.
    target_tolerance : the sizer's landing tolerance as a fraction of the band half-width.
    lot_tolerance : the sizer's landing tolerance in lots of the perpetual (default 1.0: with
        ``hedge_to="edge"`` the engine clips the landing window to the policy's band, and half
        a lot on each side would leave a window half a lot wide, too narrow for whole lots).
    """

    book: RollingBook
    costs: CostTerms
    perp: Perpetual = field(default_factory=binance_perpetual)
    half_spread_bps: float = 0.5
    perp_max_order: float = 1000.0
    atm_ratio: float = 1.0
    skew: float = 0.0
    fill: FillMode = "close"
    hedge_option: HedgeOptionSpec | None = None
    gates: tuple[Gate, ...] = ()
    target_tolerance: float = 0.25
    lot_tolerance: float = 1.0

    def __post_init__(self) -> None:
        if not (0.0 <= self.half_spread_bps < 1e4):
            raise ValueError(f"BacktestSetup.half_spread_bps must be in [0, 10000), got "
                             f"{self.half_spread_bps!r}")
        if not (math.isfinite(self.perp_max_order) and self.perp_max_order > 0.0):
            raise ValueError(f"BacktestSetup.perp_max_order must be > 0 coin, got "
                             f"{self.perp_max_order!r}")
        if not (math.isfinite(self.atm_ratio) and self.atm_ratio > 0.0):
            raise ValueError(f"BacktestSetup.atm_ratio must be > 0, got {self.atm_ratio!r}")
        if self.fill not in ("close", "next_open"):
            raise ValueError(f"BacktestSetup.fill must be 'close' or 'next_open', got "
                             f"{self.fill!r}")
        if self.hedge_option is not None and \
                self.hedge_option.tenor_days <= self.book.tenor_days:
            raise ValueError("BacktestSetup.hedge_option.tenor_days must exceed the book's "
                             f"tenor ({self.book.tenor_days} days) so that the hedge outlives "
                             f"the legs, got {self.hedge_option.tenor_days}")
        object.__setattr__(self, "gates", tuple(self.gates))


class ReplayClock:
    """The simulated clock of a replay: the step times of the data, one at a time.

    ``now()`` is the current step's time (UTC); ``advance()`` moves to the next step and
    returns False after the last.
    """

    def __init__(self, times: DatetimeArray) -> None:
        if len(times) == 0:
            raise ValueError("ReplayClock needs at least one step time")
        self._times = times
        self._step = 0

    @property
    def step(self) -> int:
        """Index of the current step."""
        return self._step

    def now(self) -> datetime:
        """The current step's time (timezone-aware UTC)."""
        return from_datetime64(self._times[self._step])

    def advance(self) -> bool:
        """Move to the next step; False when there is none."""
        if self._step + 1 >= len(self._times):
            return False
        self._step += 1
        return True


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """One policy's replay. Step arrays have shape ``(n,)``; USD amounts are cumulative
    from the first step, so ``equity[i]`` is the P&L up to step ``i``.

    Attributes
    ----------
    name : label of the run (policy and parameters).
    policy : the policy's class name.
    perp : name of the hedge perpetual.
    time : step times, datetime64[us] UTC.
    index : option underlying, USD per coin; implied_vol : ATM vol used, fraction.
    equity : account value from the simulated venue (cash + marks), USD.
    option_pnl : the book's premiums, settlements and mark, USD.
    hedge_pnl : hedge trades' cash and marks (perpetual and hedge options), USD.
    fees, spread, impact : trading costs paid (>= 0, cumulative), USD.
    funding : funding received (negative when paid, cumulative), USD.
    hedge_position : perpetual position after the step, coin.
    net_delta_before, net_delta_after : book delta before and after the step's trades, coin.
    gamma : book gamma before the trades, coin per USD.
    band_lower, band_upper : the policy's delta band at the step (NaN where it states none),
        coin.
    rebalanced : the step traded (an engine decision filled).
    rolled : the book's legs were (re)opened at the step (first step and every expiry).
    traded_coin : perpetual traded at the step, signed coin.
    outcome : the engine's outcome per step (:class:`~hedgekeeper.engine.Outcome` values).
    fills : every fill (hedges and rolls).
    premium_received : USD received for the book's legs over the run (sum over rolls).
    """

    name: str
    policy: str
    perp: str
    time: DatetimeArray
    index: FloatArray
    implied_vol: FloatArray
    equity: FloatArray
    option_pnl: FloatArray
    hedge_pnl: FloatArray
    fees: FloatArray
    spread: FloatArray
    impact: FloatArray
    funding: FloatArray
    hedge_position: FloatArray
    net_delta_before: FloatArray
    net_delta_after: FloatArray
    gamma: FloatArray
    band_lower: FloatArray
    band_upper: FloatArray
    rebalanced: BoolArray
    rolled: BoolArray
    traded_coin: FloatArray
    outcome: npt.NDArray[np.str_]
    fills: tuple[Fill, ...]
    premium_received: float

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def costs(self) -> FloatArray:
        """Cumulative trading costs (fees + spread + impact), USD."""
        return np.asarray(self.fees + self.spread + self.impact, dtype=np.float64)


@dataclass
class _Tally:
    option_cash: float = 0.0
    hedge_cash: float = 0.0
    fees: float = 0.0
    spread: float = 0.0
    impact: float = 0.0
    funding: float = 0.0
    premium: float = 0.0

    def book(self, fills: tuple[Fill, ...], book_legs: set[str]) -> None:
        for fill in fills:
            flow = -fill.quantity * fill.price * fill.contract_size
            if fill.instrument in book_legs:
                self.option_cash += flow
                self.premium += flow
            else:
                self.hedge_cash += flow
            self.fees += fill.fee_usd
            self.spread += fill.spread_usd
            self.impact += fill.impact_usd


@dataclass(frozen=True, slots=True)
class _Marks:
    """Model mid (USD per coin) and Black-76 delta of each live option, and their legs."""

    price: dict[str, float]
    delta: dict[str, float]
    legs: OptionLegs | None


def _option_marks(options: list[Option], quantities: list[float], now: datetime, index: float,
                  smile: DvolSmile) -> _Marks:
    if not options:
        return _Marks({}, {}, None)
    strike = np.array([o.strike for o in options])
    years = np.array([(o.expiry - now).total_seconds() / SECONDS_PER_YEAR for o in options])
    kind = np.array([int(o.kind) for o in options], dtype=np.int8)
    vol = smile.implied_vol(strike, years, np.full(len(options), index))
    greeks = black76(index, strike, years, 0.0, vol, kind)
    names = [o.name for o in options]
    legs = OptionLegs(strike=strike[None, :], expiry=years[None, :], vol=vol[None, :],
                      kind=kind[None, :], quantity=np.array([quantities], dtype=np.float64))
    return _Marks(dict(zip(names, np.asarray(greeks.price).tolist(), strict=True)),
                  dict(zip(names, np.asarray(greeks.delta).tolist(), strict=True)), legs)


def run_backtest(market: HistoricalMarket, setup: BacktestSetup, policy: Policy,
                 name: str = "", trade_options: bool = False) -> BacktestResult:
    """Replay ``market`` with the book of ``setup`` hedged under ``policy``.

    Parameters
    ----------
    market : the window to replay (every step needs a finite ``implied_vol``).
    setup : book, costs, hedge instruments, fills.
    policy : any :class:`~hedgekeeper.policies.Policy`.
    name : label stored on the result (default: the policy's class name).
    trade_options : offer ``setup.hedge_option`` to the sizer besides the perpetual (for
        policies that target gamma or vega). Delta-only policies are sized with the perpetual
        alone, in closed form.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ValueError
        When a step has no implied volatility, or the engine refuses an input (naming it).
    """
    n = len(market)
    if n < 2:
        raise ValueError("the market window must hold at least two steps")
    if trade_options and setup.hedge_option is None:
        raise ValueError("trade_options needs BacktestSetup.hedge_option")
    if not np.all(np.isfinite(market.implied_vol)):
        bad = from_datetime64(market.time[int(np.flatnonzero(~np.isfinite(
            market.implied_vol))[0])])
        raise ValueError(f"no implied volatility at {bad.isoformat()} (DVOL and its fallback "
                         "are both missing)")
    coin, perp = market.coin, setup.perp
    venue = SimVenue(costs=setup.costs)
    venue.instruments[perp.name] = perp
    cost_model = setup.costs.model
    tally = _Tally()
    state = EngineState(Book(()))
    clock = ReplayClock(market.time)
    book_legs: set[str] = set()
    hedge_option: Option | None = None
    pending: tuple[tuple[Perpetual | Option, float], ...] = ()
    pending_quotes: dict[str, Quote] = {}
    pending_snapshot: MarketSnapshot | None = None
    funding_next = 0

    out = {key: np.full(n, np.nan) for key in (
        "equity", "option_pnl", "hedge_pnl", "fees", "spread", "impact", "funding",
        "hedge_position", "net_delta_before", "net_delta_after", "gamma", "band_lower",
        "band_upper", "traded_coin")}
    rebalanced = np.zeros(n, dtype=bool)
    rolled = np.zeros(n, dtype=bool)
    outcome = np.empty(n, dtype=object)
    last_funding_rate = 0.0

    while True:
        i = clock.step
        now = clock.now()
        index = float(market.index[i])
        perp_close = float(market.perp_close[i])
        smile = DvolSmile(setup.atm_ratio * float(market.implied_vol[i]), setup.skew)
        traded = 0.0

        # 1. pending fills from the previous decision, at this bar's open
        if pending and pending_snapshot is not None:
            quotes = dict(pending_quotes)
            quotes[perp.name] = _perp_quote(market, setup, i, float(market.perp_open[i]))
            fills = venue.execute(pending, quotes, pending_snapshot)
            tally.book(fills, book_legs)
            traded += sum(f.quantity for f in fills if f.instrument == perp.name)
            rebalanced[i] = True
            pending = ()

        # 2. funding settled in (t_prev, t]
        while funding_next < len(market.funding_time) and \
                market.funding_time[funding_next] <= market.time[i]:
            if i > 0 and market.funding_time[funding_next] > market.time[i - 1]:
                rate = float(market.funding_rate[funding_next])
                tally.funding += venue.pay_funding(perp.name, rate, float(market.perp_mark[i]))
            last_funding_rate = float(market.funding_rate[funding_next])
            funding_next += 1

        # 3. expiries and rolls
        for held in [name for name, q in venue.positions.items() if q != 0.0]:
            instrument = venue.instruments[held]
            if isinstance(instrument, Option) and instrument.expiry <= now:
                payoff = max(float(instrument.kind) * (index - instrument.strike), 0.0)
                amount = venue.settle(held, payoff)
                if held in book_legs:
                    tally.option_cash += amount
                else:
                    tally.hedge_cash += amount
        if not any(venue.positions.get(leg, 0.0) != 0.0 for leg in book_legs):
            rolled[i] = True
            hedge_option = _roll(venue, tally, setup, book_legs, coin, now, index, smile,
                                 _daily_vol(market, i), trade_options)

        # 4. decision
        options = _held_options(venue)
        if hedge_option is not None and hedge_option not in options:
            options.append(hedge_option)
        priced = _option_marks(options, [venue.positions.get(o.name, 0.0) for o in options],
                               now, index, smile)
        marks = dict(priced.price)
        snapshot = MarketSnapshot(
            timestamp=now, underlying=coin, index_price=index,
            forwards={o.expiry: ForwardQuote(o.expiry, index, ForwardSource.LISTED_UNDERLYING)
                      for o in options},
            rate=0.0, funding_rates={perp.name: last_funding_rate},
            perp_prices={perp.name: perp_close}, surface=smile,
        )
        quotes = {perp.name: _perp_quote(market, setup, i, perp_close)}
        hedges = [HedgeInstrument(perp, max_order=setup.perp_max_order)]
        if hedge_option is not None and setup.hedge_option is not None:
            quotes[hedge_option.name] = _option_quote(
                marks[hedge_option.name], priced.delta[hedge_option.name], index,
                _daily_vol(market, i), setup.hedge_option)
            hedges.append(HedgeInstrument(hedge_option, max_order=setup.hedge_option.max_order))
        inputs = MarketInputs(
            snapshot=snapshot, quotes=quotes, now=now,
            realised_vol=_finite_or_none(market.realised_vol[i]),
            dvol=_finite_or_none(market.dvol[i]),
            vol_percentile=_finite_or_none(market.vol_percentile[i]),
        )
        components = Components(
            policy=policy,
            sizer=SizerConfig(tuple(hedges), target_tolerance=setup.target_tolerance,
                              lot_tolerance=setup.lot_tolerance),
            cost_model=cost_model, gates=setup.gates,
        )
        state = EngineState(_book(venue), state.last_rebalance, state.last_rebalance_spot,
                            state.recent_rebalances)
        decision = decide(state, inputs, components)
        outcome[i] = decision.outcome.value
        out["net_delta_before"][i] = decision.exposure_before.delta
        out["gamma"][i] = decision.exposure_before.gamma
        lower, upper = _probe_band(policy, decision, state, inputs, priced.legs)
        out["band_lower"][i], out["band_upper"][i] = lower, upper
        state = state.after(decision)
        trades = tuple(_trade(venue, order.instrument, order.quantity, order.side)
                       for order in decision.orders)

        # 5. fills at the decision's quotes (or next bar's open)
        net_after = decision.exposure_before.delta
        if trades and setup.fill == "close":
            fills = venue.execute(trades, quotes, snapshot)
            tally.book(fills, book_legs)
            traded += sum(f.quantity for f in fills if f.instrument == perp.name)
            rebalanced[i] = True
            net_after = decision.exposure_after.delta
        elif trades:
            pending, pending_quotes, pending_snapshot = trades, dict(quotes), snapshot
            if i == n - 1:
                pending = ()  # nothing after the last step to fill at

        # 6. marks and records
        marks[perp.name] = perp_close
        equity = venue.value_usd(marks)
        book_value = sum(q * marks[name] * venue.instruments[name].contract_size
                         for name, q in venue.positions.items() if name in book_legs and q)
        hedge_value = sum(q * marks[name] * venue.instruments[name].contract_size
                          for name, q in venue.positions.items()
                          if name not in book_legs and q)
        out["equity"][i] = equity
        out["option_pnl"][i] = tally.option_cash + book_value
        out["hedge_pnl"][i] = tally.hedge_cash + hedge_value
        out["fees"][i], out["spread"][i], out["impact"][i] = tally.fees, tally.spread, \
            tally.impact
        out["funding"][i] = tally.funding
        out["hedge_position"][i] = venue.positions.get(perp.name, 0.0)
        out["net_delta_after"][i] = net_after
        out["traded_coin"][i] = traded
        if not clock.advance():
            break

    return BacktestResult(
        name=name or type(policy).__name__, policy=type(policy).__name__, perp=perp.name,
        time=market.time, index=market.index,
        implied_vol=np.asarray(setup.atm_ratio * market.implied_vol, dtype=np.float64),
        equity=out["equity"], option_pnl=out["option_pnl"], hedge_pnl=out["hedge_pnl"],
        fees=out["fees"], spread=out["spread"], impact=out["impact"], funding=out["funding"],
        hedge_position=out["hedge_position"], net_delta_before=out["net_delta_before"],
        net_delta_after=out["net_delta_after"], gamma=out["gamma"],
        band_lower=out["band_lower"], band_upper=out["band_upper"], rebalanced=rebalanced,
        rolled=rolled,
        traded_coin=out["traded_coin"], outcome=outcome.astype(np.str_),
        fills=tuple(venue.fills), premium_received=tally.premium,
    )


def _roll(venue: SimVenue, tally: _Tally, setup: BacktestSetup, book_legs: set[str],
          coin: str, now: datetime, index: float, smile: DvolSmile,
          daily_vol: float, trade_options: bool) -> Option | None:
    """Close hedge options still held, open a fresh set of book legs, list the next hedge
    series. Hedges are closed first: a new book leg may be the very instrument an earlier
    hedge series was (same strike and expiry), and the two must not net."""
    positions = setup.book.open_legs(coin, now, index)
    new_legs = [p.instrument for p in positions if isinstance(p.instrument, Option)]
    held_hedges = [o for o in _held_options(venue) if o.name not in book_legs]
    everything = new_legs + [o for o in held_hedges if o not in new_legs]
    priced = _option_marks(everything, [0.0] * len(everything), now, index, smile)
    snapshot = MarketSnapshot(
        timestamp=now, underlying=coin, index_price=index,
        forwards={o.expiry: ForwardQuote(o.expiry, index, ForwardSource.LISTED_UNDERLYING)
                  for o in everything}, surface=smile)
    spec = setup.hedge_option
    if held_hedges and spec is not None:
        quotes = {o.name: _option_quote(priced.price[o.name], priced.delta[o.name], index,
                                        daily_vol, spec) for o in held_hedges}
        closing = [(o, -venue.positions[o.name]) for o in held_hedges]
        tally.book(venue.execute(closing, quotes, snapshot, purpose="roll"), book_legs)
    clash = [o.name for o in new_legs if venue.positions.get(o.name, 0.0) != 0.0]
    if clash:  # pragma: no cover - every option position is a book leg or closed above
        raise ValueError(f"cannot open book leg {clash[0]}: a position in it is still held")
    floor = _PRICE_FLOOR * index
    book_legs.clear()
    book_legs.update(o.name for o in new_legs)
    # The book's own legs trade at model mid without costs (the same for every policy).
    book_quotes = {o.name: Quote(bid=max(priced.price[o.name], floor),
                                 ask=max(priced.price[o.name], floor)) for o in new_legs}
    opened = venue.execute([(p.instrument, p.quantity) for p in positions], book_quotes,
                           snapshot, purpose="roll", charge=False)
    tally.book(opened, book_legs)
    if spec is None or not trade_options:
        return None
    step = setup.book.strike_step
    strike = max(step, round(spec.moneyness * index / step) * step)
    listed = linear_option(coin, setup.book.quote, expiry_after(now, spec.tenor_days), strike,
                           spec.kind)
    venue.instruments[listed.name] = listed
    return listed


def _held_options(venue: SimVenue) -> list[Option]:
    return [instrument for name, q in venue.positions.items() if q != 0.0
            for instrument in (venue.instruments[name],) if isinstance(instrument, Option)]


def _trade(venue: SimVenue, name: str, quantity: float,
           side: str) -> tuple[Perpetual | Option, float]:
    instrument = venue.instruments[name]
    if not isinstance(instrument, Perpetual | Option):  # pragma: no cover - sizer's choice
        raise ValueError(f"the backtest cannot trade {name!r}")
    return instrument, quantity if side == "buy" else -quantity


def _book(venue: SimVenue) -> Book:
    return Book(tuple(Position(instrument=venue.instruments[name], quantity=q, venue="backtest")
                      for name, q in venue.positions.items() if q != 0.0))


def _finite_or_none(value: float) -> float | None:
    number = float(value)
    return number if math.isfinite(number) and number >= 0.0 else None


def _daily_vol(market: HistoricalMarket, i: int) -> float:
    vol = float(market.realised_vol[i])
    if not math.isfinite(vol):
        vol = float(market.implied_vol[i])
    return vol / math.sqrt(365.0)


def _perp_quote(market: HistoricalMarket, setup: BacktestSetup, i: int, price: float) -> Quote:
    half = price * setup.half_spread_bps / 1e4
    volume = float(market.perp_volume_24h[i])
    return Quote(bid=price - half, ask=price + half,
                 daily_volume=volume if math.isfinite(volume) and volume > 0.0 else math.nan,
                 daily_volatility=_daily_vol(market, i))


def _option_quote(mid: float, delta: float, index: float, daily_vol: float,
                  spec: HedgeOptionSpec) -> Quote:
    """Quote of a hedge option around its model mid, USD per coin. The daily volatility of its
    price (impact model) is the underlying's scaled by the option's elasticity,
    ``|delta| * S / price``, capped at 500 % a day."""
    floor = _PRICE_FLOOR * index
    price = max(mid, floor)
    half = price * spec.half_spread
    elasticity = abs(delta) * index / price
    return Quote(bid=max(price - half, floor), ask=price + half, daily_volume=spec.daily_volume,
                 daily_volatility=min(elasticity * daily_vol, _MAX_OPTION_DAILY_VOL))


def _probe_band(policy: Policy, decision: Decision, state: EngineState, inputs: MarketInputs,
                legs: OptionLegs | None) -> tuple[float, float]:
    """The policy's delta band at this step: ask it with net delta far outside any band.

    The view carries what the engine's view carried (time, spot, the book's Greeks from the
    decision, the option legs — listed but unheld ones with quantity 0 —, the vol signals, the
    last rebalance). A policy that states no band (a calendar, Leland's hedge to a point) or
    refuses gives (NaN, NaN). For display only: decisions never use it.
    """
    if decision.outcome is Outcome.REFUSED_INPUT:
        return math.nan, math.nan
    now = _years(decision.timestamp)
    last = state.last_rebalance
    greeks: BookGreeks = decision.exposure_before
    has_options = legs is not None and bool(np.any(legs.quantity != 0.0))
    view = PolicyView(
        time=np.array([now]), spot=np.array([decision.spot]),
        net_delta=np.array([_PROBE_DELTA]), data_time=np.array([now]),
        target_delta=np.zeros(1), gamma=np.array([greeks.gamma]),
        vega=np.array([greeks.vega]), target_gamma=np.zeros(1), target_vega=np.zeros(1),
        rate=np.zeros(1),
        last_rebalance_time=np.array([math.nan if last is None else _years(last)]),
        last_rebalance_spot=np.array([math.nan if state.last_rebalance_spot is None
                                      else state.last_rebalance_spot]),
        realised_vol=_array(inputs.realised_vol), vol_percentile=_array(inputs.vol_percentile),
        dvol=_array(inputs.dvol), forecast_vol=_array(inputs.forecast_vol),
        options=legs if has_options else None,
    )
    try:
        target = policy.decide(view)
    except ValueError:
        return math.nan, math.nan
    if target is None or target.delta is None or not bool(target.rebalance[0]):
        return math.nan, math.nan
    lower, upper = float(target.delta.lower[0]), float(target.delta.upper[0])
    if not (math.isfinite(lower) and math.isfinite(upper)) or upper - lower <= 1e-12:
        return math.nan, math.nan
    return lower, upper


def _years(when: datetime) -> float:
    return float(years_since_epoch(np.datetime64(when.replace(tzinfo=None), "us")))


def _array(value: float | None) -> FloatArray | None:
    return None if value is None else np.array([value])
