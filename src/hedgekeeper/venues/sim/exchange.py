"""The paper exchange's matching engine and account, over its own durable ledger.

:class:`PaperExchange` is synchronous and deterministic: every method takes the venue time
``now`` it happens at (monotone: an earlier ``now`` than the last one seen is taken as the last
one). Before doing anything it matches the client's resting orders against the synthetic book
as it moved since the last call, one ``match_interval_seconds`` step at a time, so a price that
crossed a resting limit order between two calls fills it.

Matching rules
--------------
- A market order, or the marketable part of a limit order, walks the opposite ladder (as it is
  after earlier trades took their share): one taker fill per level, at the level's price.
- The rest of a GTC limit order rests (``OPEN`` or ``PARTIALLY_FILLED``); an IOC or market
  order's rest is cancelled (status ``CANCELLED``, filled quantity kept).
- A resting buy at ``L`` fills, as maker at ``L``, against the ask depth at or below ``L`` at
  each step (so it fills in pieces as the price comes to it and liquidity comes back); a
  resting sell the same against bids at or above ``L``. Resting orders match best price first,
  then oldest first.
- Fees: ``quantity * price * contract_size * fee_rate``, rounded to 1e-8 of the currency.

Checks, in order (a failing order is recorded ``REJECTED`` with the reason): known instrument;
quantity a multiple of the lot size; quantity at most ``max_order_size``; limit price on the
tick grid and within ``price_band`` of the reference price; initial margin: equity (cash plus
positions at the reference price) at least ``initial_margin_rate`` times the gross notional of
positions and open orders (this one included, each side's worst case).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from hedgekeeper.domain.instruments import as_utc
from hedgekeeper.venues.base import (
    AccountReport,
    Liquidity,
    OrderReport,
    OrderRequest,
    OrderType,
    Quote,
    QuoteSnapshot,
    RejectReason,
    Side,
    TimeInForce,
    VenueFill,
    VenueOrderStatus,
    VenueRejected,
    VenueReports,
    canonical,
)
from hedgekeeper.venues.sim.book import Depletion, Level, crossing, ladder
from hedgekeeper.venues.sim.config import InstrumentSpec, SimConfig
from hedgekeeper.venues.sim.feed import PriceFeed, epoch_seconds
from hedgekeeper.venues.sim.ledger import Ledger, StoredOrder

__all__ = ["PaperExchange"]

_FEE_QUANTUM = Decimal("0.00000001")
_MAX_STEPS_PER_CALL = 2_000


def _side_key(side: Side) -> str:
    # The ladder side an order of ``side`` takes from.
    return "ask" if side is Side.BUY else "bid"


class PaperExchange:
    """Order books, matching and one account, recorded in a :class:`Ledger`.

    Parameters
    ----------
    config : SimConfig
        Instruments, account and fees.
    ledger : Ledger
        The exchange's own ledger (opened for writing); positions, balances, last prices and
        open orders are reloaded from it.
    feed : PriceFeed
        Reference prices; must price every configured instrument.
    now : datetime
        Venue time at which the exchange opens (matching starts from here: an exchange that was
        down did not trade).
    """

    def __init__(self, config: SimConfig, ledger: Ledger, feed: PriceFeed, now: datetime) -> None:
        missing = [name for name in config.instruments if not feed.has(name)]
        if missing:
            raise ValueError(f"the price feed does not price instrument(s) {', '.join(missing)}")
        self.config = config
        self.ledger = ledger
        self.feed = feed
        self.meta = ledger.meta()
        self._time = as_utc(now, "now")
        self._matched_until = self._time
        self._depletion = {
            (name, book_side): Depletion(spec.replenish_seconds)
            for name, spec in config.instruments.items()
            for book_side in ("bid", "ask")
        }
        self._positions: dict[str, Decimal] = {}
        self._balance = self.meta.initial_balance
        self._last_price: dict[str, Decimal] = {}
        for fill in ledger.fills(0):
            self._apply_fill(fill)
        self._open: dict[str, StoredOrder] = {
            stored.report.client_order_id: stored for stored in ledger.open_orders()
        }

    # ----------------------------------------------------------------------------- time

    def _at(self, now: datetime) -> datetime:
        now = as_utc(now, "now")
        if now > self._time:
            self._time = now
        return self._time

    @property
    def time(self) -> datetime:
        """Latest venue time seen."""
        return self._time

    def reference_price(self, instrument: str, at: datetime) -> float:
        """The feed's reference price of ``instrument`` at venue time ``at``."""
        return self.feed.price(instrument, epoch_seconds(self.meta.epoch, at))

    def _spec(self, instrument: str) -> InstrumentSpec:
        spec = self.config.instruments.get(instrument)
        if spec is None:
            known = ", ".join(self.config.instruments)
            raise ValueError(f"unknown instrument {instrument!r}; this venue lists {known}")
        return spec

    # ----------------------------------------------------------------------------- matching

    def advance(self, now: datetime) -> None:
        """Match resting orders against the book's moves up to venue time ``now``."""
        now = self._at(now)
        if now <= self._matched_until:
            return
        if not self._open:
            self._matched_until = now
            return
        gap = (now - self._matched_until).total_seconds()
        interval = self.config.match_interval_seconds
        steps = min(max(math.ceil(gap / interval), 1), _MAX_STEPS_PER_CALL)
        step = timedelta(seconds=gap / steps)
        fills: list[VenueFill] = []
        with self.ledger.transaction():
            for index in range(1, steps + 1):
                at = now if index == steps else self._matched_until + step * index
                fills.extend(self._match_resting(at))
                if not self._open:
                    break
        self._matched_until = now
        for fill in fills:
            self._apply_fill(fill)

    def _match_resting(self, at: datetime) -> list[VenueFill]:
        def priority(stored: StoredOrder) -> tuple[str, str, Decimal, int]:
            report = stored.report
            price = report.limit_price or Decimal(0)
            return (
                report.instrument,
                report.side.value,
                -price if report.side is Side.BUY else price,
                stored.created_sequence,
            )

        fills: list[VenueFill] = []
        for stored in sorted(self._open.values(), key=priority):
            report = stored.report
            spec = self._spec(report.instrument)
            reference = self.reference_price(report.instrument, at)
            assert report.limit_price is not None
            if not _may_cross(spec, reference, report.side, report.limit_price):
                continue
            bids, asks = ladder(spec, reference)
            levels = asks if report.side is Side.BUY else bids
            depletion = self._depletion[(report.instrument, _side_key(report.side))]
            available = crossing(report.side, depletion.available(levels, at), report.limit_price)
            depth = sum((level.size for level in available), Decimal(0))
            quantity = _floor_to(
                min(report.quantity - report.filled_quantity, depth), spec.lot_size
            )
            if quantity <= 0:
                continue
            depletion.take(quantity, levels, at)
            fill = self._new_fill(stored, quantity, report.limit_price, Liquidity.MAKER, at)
            fills.append(fill)
            self._record_progress(stored, [fill], at, close_rest=False)
        return fills

    def _new_fill(
        self,
        stored: StoredOrder,
        quantity: Decimal,
        price: Decimal,
        liquidity: Liquidity,
        at: datetime,
    ) -> VenueFill:
        report = stored.report
        spec = self._spec(report.instrument)
        rate = (
            self.config.maker_fee_rate
            if liquidity is Liquidity.MAKER
            else (self.config.taker_fee_rate)
        )
        fee = (quantity * price * spec.contract_size * Decimal(repr(rate))).quantize(
            _FEE_QUANTUM, rounding=ROUND_HALF_EVEN
        )
        sequence = self.ledger.next_sequence()
        fill = VenueFill(
            trade_id=f"{self.meta.venue_id}-T{sequence}",
            client_order_id=report.client_order_id,
            venue_order_id=report.venue_order_id,
            instrument=report.instrument,
            side=report.side,
            quantity=quantity,
            price=price,
            fee=fee,
            liquidity=liquidity,
            timestamp=at,
            sequence=sequence,
        )
        self.ledger.insert_fill(fill)
        return fill

    def _record_progress(
        self, stored: StoredOrder, fills: list[VenueFill], at: datetime, *, close_rest: bool
    ) -> None:
        report = stored.report
        filled = canonical(report.filled_quantity + sum((f.quantity for f in fills), Decimal(0)))
        stored.filled_notional += sum((fill.quantity * fill.price for fill in fills), Decimal(0))
        if filled == report.quantity:
            status = VenueOrderStatus.FILLED
        elif close_rest:
            status = VenueOrderStatus.CANCELLED
        elif filled > 0:
            status = VenueOrderStatus.PARTIALLY_FILLED
        else:
            status = VenueOrderStatus.OPEN
        if status is report.status and not fills:
            return
        stored.report = replace(
            report,
            filled_quantity=filled,
            average_price=stored.filled_notional / filled if filled else None,
            status=status,
            updated_at=at,
            sequence=self.ledger.next_sequence(),
        )
        self.ledger.update_order(stored)
        if status.is_terminal:
            self._open.pop(report.client_order_id, None)
        else:
            self._open[report.client_order_id] = stored

    def _apply_fill(self, fill: VenueFill) -> None:
        spec = self.config.instruments.get(fill.instrument)
        contract_size = spec.contract_size if spec is not None else Decimal(1)
        self._positions[fill.instrument] = canonical(
            self._positions.get(fill.instrument, Decimal(0)) + fill.signed_quantity
        )
        self._balance -= fill.signed_quantity * fill.price * contract_size + fill.fee
        self._last_price[fill.instrument] = fill.price

    # ----------------------------------------------------------------------------- orders

    def submit(self, request: OrderRequest, now: datetime) -> tuple[OrderReport, bool]:
        """Place ``request`` at venue time ``now``; idempotent on its client order id.

        Returns
        -------
        report : OrderReport
            The order after crossing what it could.
        duplicate : bool
            ``True`` if the client id was known: ``report`` is the existing order.

        Raises
        ------
        VenueRejected
            The order was refused (and recorded ``REJECTED``), or the client id is known with
            other parameters (``CLIENT_ID_CONFLICT``; nothing recorded).
        """
        at = self._at(now)
        self.advance(at)
        existing = self.ledger.order(request.client_order_id)
        if existing is not None:
            report = existing.report
            if not request.same_parameters(report):
                raise VenueRejected(
                    RejectReason.CLIENT_ID_CONFLICT,
                    f"client_order_id {request.client_order_id!r} is already order "
                    f"{report.venue_order_id} with other parameters",
                    report,
                )
            if report.status is VenueOrderStatus.REJECTED:
                assert report.reject_reason is not None
                raise VenueRejected(report.reject_reason, "rejected earlier", report)
            return report, True
        refusal = self._check(request, at)
        with self.ledger.transaction():
            created = self.ledger.next_sequence()
            stored = StoredOrder(
                report=OrderReport(
                    client_order_id=request.client_order_id,
                    venue_order_id=f"{self.meta.venue_id}-O{created}",
                    intent_id=request.intent_id,
                    instrument=request.instrument,
                    side=request.side,
                    order_type=request.order_type,
                    time_in_force=request.time_in_force,
                    quantity=request.quantity,
                    limit_price=request.limit_price,
                    filled_quantity=Decimal(0),
                    average_price=None,
                    status=VenueOrderStatus.REJECTED if refusal else VenueOrderStatus.OPEN,
                    reject_reason=refusal[0] if refusal else None,
                    created_at=at,
                    updated_at=at,
                    sequence=created,
                ),
                filled_notional=Decimal(0),
                created_sequence=created,
            )
            self.ledger.insert_order(stored)
            fills = [] if refusal else self._cross(stored, at)
        for fill in fills:
            self._apply_fill(fill)
        if refusal:
            raise VenueRejected(refusal[0], refusal[1], stored.report)
        return stored.report, False

    def _cross(self, stored: StoredOrder, at: datetime) -> list[VenueFill]:
        report = stored.report
        spec = self._spec(report.instrument)
        bids, asks = ladder(spec, self.reference_price(report.instrument, at))
        levels = asks if report.side is Side.BUY else bids
        depletion = self._depletion[(report.instrument, _side_key(report.side))]
        remaining = report.quantity
        fills: list[VenueFill] = []
        for level in crossing(report.side, depletion.available(levels, at), report.limit_price):
            quantity = _floor_to(min(remaining, level.size), spec.lot_size)
            if quantity <= 0:
                continue
            depletion.take(quantity, levels, at)
            fills.append(self._new_fill(stored, quantity, level.price, Liquidity.TAKER, at))
            remaining -= quantity
            if remaining == 0:
                break
        immediate = report.time_in_force is TimeInForce.IOC or report.order_type is OrderType.MARKET
        self._record_progress(stored, fills, at, close_rest=immediate)
        if not stored.report.status.is_terminal:
            self._open[report.client_order_id] = stored
        return fills

    def _check(self, request: OrderRequest, at: datetime) -> tuple[RejectReason, str] | None:
        spec = self.config.instruments.get(request.instrument)
        if spec is None:
            return RejectReason.UNKNOWN_INSTRUMENT, f"no instrument {request.instrument!r}"
        if request.quantity % spec.lot_size != 0:
            return (
                RejectReason.INVALID_QUANTITY,
                f"quantity {request.quantity} is not a multiple of the lot size {spec.lot_size}",
            )
        if request.quantity > spec.max_order_size:
            return (
                RejectReason.SIZE_LIMIT,
                f"quantity {request.quantity} is above the maximum order size "
                f"{spec.max_order_size}",
            )
        reference = Decimal(repr(self.reference_price(request.instrument, at)))
        if request.limit_price is not None:
            if request.limit_price % spec.tick_size != 0:
                return (
                    RejectReason.INVALID_PRICE,
                    f"limit price {request.limit_price} is not a multiple of the tick size "
                    f"{spec.tick_size}",
                )
            band = Decimal(repr(spec.price_band))
            if abs(request.limit_price / reference - 1) > band:
                return (
                    RejectReason.INVALID_PRICE,
                    f"limit price {request.limit_price} is more than {spec.price_band:.0%} "
                    f"from the reference price {reference}",
                )
        required, equity = self._margin(request, at)
        if required > equity:
            return (
                RejectReason.INSUFFICIENT_MARGIN,
                f"initial margin {required:.2f} {self.meta.currency} would exceed equity "
                f"{equity:.2f}",
            )
        return None

    def _margin(self, request: OrderRequest, at: datetime) -> tuple[Decimal, Decimal]:
        buys: dict[str, Decimal] = {}
        sells: dict[str, Decimal] = {}
        pending = [stored.report for stored in self._open.values()]
        for report in pending:
            book = buys if report.side is Side.BUY else sells
            book[report.instrument] = book.get(report.instrument, Decimal(0)) + (
                report.quantity - report.filled_quantity
            )
        book = buys if request.side is Side.BUY else sells
        book[request.instrument] = book.get(request.instrument, Decimal(0)) + request.quantity
        equity = self._balance
        gross = Decimal(0)
        for name in set(self._positions) | set(buys) | set(sells):
            spec = self.config.instruments.get(name)
            if spec is None:
                continue
            mark = Decimal(repr(self.reference_price(name, at))) * spec.contract_size
            position = self._positions.get(name, Decimal(0))
            equity += position * mark
            worst = max(
                abs(position + buys.get(name, Decimal(0))),
                abs(position - sells.get(name, Decimal(0))),
            )
            gross += worst * mark
        return gross * Decimal(repr(self.config.initial_margin_rate)), equity

    def cancel(self, client_order_id: str, now: datetime) -> OrderReport | None:
        """Cancel a live order at venue time ``now`` (fills that beat the cancel stand).

        Returns the order after the cancel: ``CANCELLED``, or unchanged if already terminal;
        ``None`` if the id is unknown.
        """
        at = self._at(now)
        self.advance(at)
        stored = self._open.get(client_order_id)
        if stored is None:
            existing = self.ledger.order(client_order_id)
            return None if existing is None else existing.report
        with self.ledger.transaction():
            self._record_progress(stored, [], at, close_rest=True)
        return stored.report

    def order(self, client_order_id: str, now: datetime) -> OrderReport | None:
        """The order with this client id as of venue time ``now``, or ``None``."""
        self.advance(now)
        stored = self.ledger.order(client_order_id)
        return None if stored is None else stored.report

    def reports(self, since: int, now: datetime) -> VenueReports:
        """Open orders, and order changes and fills with ledger sequence above ``since``."""
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError(f"since must be a non-negative integer cursor, got {since!r}")
        at = self._at(now)
        self.advance(at)
        cursor = self.ledger.sequence
        if since > cursor:
            raise ValueError(
                f"since={since} is beyond this venue's last sequence {cursor}: a cursor from "
                "another (or a reset) venue ledger"
            )
        return VenueReports(
            cursor=cursor,
            open_orders=tuple(stored.report for stored in self.ledger.open_orders()),
            orders=tuple(stored.report for stored in self.ledger.orders(since)),
            fills=tuple(self.ledger.fills(since)),
            positions=self.positions,
            timestamp=at,
        )

    # ----------------------------------------------------------------------------- account

    @property
    def positions(self) -> dict[str, Decimal]:
        """Instrument -> signed contracts (the sum of the fills)."""
        return dict(self._positions)

    @property
    def balance(self) -> Decimal:
        """Cash in the account currency."""
        return self._balance

    def account(self, now: datetime) -> AccountReport:
        """Positions and balances at venue time ``now``."""
        at = self._at(now)
        self.advance(at)
        return AccountReport(
            timestamp=at,
            positions=self.positions,
            balances={self.meta.currency: self._balance},
        )

    def quotes(self, instruments: list[str] | tuple[str, ...], now: datetime) -> QuoteSnapshot:
        """Top of book of ``instruments`` (every listed one when empty) at venue time ``now``."""
        at = self._at(now)
        self.advance(at)
        names = list(instruments) or list(self.config.instruments)
        quotes: dict[str, Quote] = {}
        for name in names:
            spec = self._spec(name)
            bids, asks = ladder(spec, self.reference_price(name, at))
            best_bid = _best(self._depletion[(name, "bid")].available(bids, at), bids)
            best_ask = _best(self._depletion[(name, "ask")].available(asks, at), asks)
            quotes[name] = Quote(
                instrument=name,
                bid=best_bid.price,
                ask=best_ask.price,
                bid_size=_floor_to(best_bid.size, spec.lot_size),
                ask_size=_floor_to(best_ask.size, spec.lot_size),
                last=self._last_price.get(name),
                timestamp=at,
            )
        return QuoteSnapshot(timestamp=at, quotes=quotes)


def _may_cross(spec: InstrumentSpec, reference: float, side: Side, limit: Decimal) -> bool:
    # Cheap float test before building the ladder: the best opposite level, give or take a
    # tick of rounding, must reach the limit (taken depth only pushes levels further away).
    offset = reference * spec.half_spread_bps / 1e4
    tick = float(spec.tick_size)
    if side is Side.BUY:
        return reference + offset - tick <= float(limit)
    return reference - offset + tick >= float(limit)


def _best(available: list[Level], levels: tuple[Level, ...]) -> Level:
    if available:
        return available[0]
    # Every level taken: quote the far end of the ladder with nothing on it.
    return Level(levels[-1].price, Decimal(0))


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    return canonical((value / step).to_integral_value(rounding=ROUND_FLOOR) * step)
