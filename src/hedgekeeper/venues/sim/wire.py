"""JSON form of the port's value types, shared by the paper-venue server and its client.

Amounts travel as canonical decimal strings (``"0.5"``, never a JSON float), times as ISO-8601
UTC strings, enums as their values. Decoding rebuilds the frozen types, so a malformed message
raises ``ValueError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from hedgekeeper.venues.base import (
    AccountReport,
    OrderAck,
    OrderReport,
    OrderRequest,
    Quote,
    QuoteSnapshot,
    VenueFill,
    VenueReports,
    decimal_text,
)

__all__ = [
    "decode_account",
    "decode_ack",
    "decode_fill",
    "decode_report",
    "decode_reports",
    "decode_request",
    "decode_snapshot",
    "encode_account",
    "encode_ack",
    "encode_fill",
    "encode_report",
    "encode_reports",
    "encode_request",
    "encode_snapshot",
]

JSON = dict[str, Any]


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _time(value: datetime) -> str:
    return value.isoformat()


def _parse_time(message: Mapping[str, Any], name: str) -> datetime:
    value = message.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO-8601 time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be an ISO-8601 time string, got {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset, got {value!r}")
    return parsed


def _object(message: object, what: str) -> Mapping[str, Any]:
    if not isinstance(message, Mapping):
        raise ValueError(f"{what} must be a JSON object, got {message!r}")
    return message


def _build(kind: type[Any], what: str, values: Mapping[str, Any]) -> Any:
    try:
        return kind(**values)
    except TypeError as error:
        raise ValueError(f"{what}: {error}") from None


def encode_request(order: OrderRequest) -> JSON:
    """``order`` as JSON."""
    return {
        "client_order_id": order.client_order_id,
        "intent_id": order.intent_id,
        "instrument": order.instrument,
        "side": order.side.value,
        "quantity": decimal_text(order.quantity),
        "order_type": order.order_type.value,
        "limit_price": _amount(order.limit_price),
        "time_in_force": order.time_in_force.value,
    }


def decode_request(message: object) -> OrderRequest:
    """An :class:`OrderRequest` from JSON."""
    values = dict(_object(message, "order"))
    result: OrderRequest = _build(OrderRequest, "order", values)
    return result


def encode_report(report: OrderReport) -> JSON:
    """``report`` as JSON."""
    return {
        "client_order_id": report.client_order_id,
        "venue_order_id": report.venue_order_id,
        "intent_id": report.intent_id,
        "instrument": report.instrument,
        "side": report.side.value,
        "order_type": report.order_type.value,
        "time_in_force": report.time_in_force.value,
        "quantity": decimal_text(report.quantity),
        "limit_price": _amount(report.limit_price),
        "filled_quantity": decimal_text(report.filled_quantity),
        "average_price": _amount(report.average_price),
        "status": report.status.value,
        "reject_reason": None if report.reject_reason is None else report.reject_reason.value,
        "created_at": _time(report.created_at),
        "updated_at": _time(report.updated_at),
        "sequence": report.sequence,
    }


def decode_report(message: object) -> OrderReport:
    """An :class:`OrderReport` from JSON."""
    values = dict(_object(message, "order report"))
    values["created_at"] = _parse_time(values, "created_at")
    values["updated_at"] = _parse_time(values, "updated_at")
    result: OrderReport = _build(OrderReport, "order report", values)
    return result


def encode_ack(ack: OrderAck) -> JSON:
    """``ack`` as JSON."""
    return {"report": encode_report(ack.report), "duplicate": ack.duplicate}


def decode_ack(message: object) -> OrderAck:
    """An :class:`OrderAck` from JSON."""
    values = _object(message, "ack")
    duplicate = values.get("duplicate")
    if not isinstance(duplicate, bool):
        raise ValueError(f"ack.duplicate must be true or false, got {duplicate!r}")
    return OrderAck(report=decode_report(values.get("report")), duplicate=duplicate)


def encode_fill(fill: VenueFill) -> JSON:
    """``fill`` as JSON."""
    return {
        "trade_id": fill.trade_id,
        "client_order_id": fill.client_order_id,
        "venue_order_id": fill.venue_order_id,
        "instrument": fill.instrument,
        "side": fill.side.value,
        "quantity": decimal_text(fill.quantity),
        "price": decimal_text(fill.price),
        "fee": decimal_text(fill.fee),
        "liquidity": fill.liquidity.value,
        "timestamp": _time(fill.timestamp),
        "sequence": fill.sequence,
    }


def decode_fill(message: object) -> VenueFill:
    """A :class:`VenueFill` from JSON."""
    values = dict(_object(message, "fill"))
    values["timestamp"] = _parse_time(values, "timestamp")
    result: VenueFill = _build(VenueFill, "fill", values)
    return result


def _amounts(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {name: decimal_text(amount) for name, amount in values.items()}


def encode_snapshot(snapshot: QuoteSnapshot) -> JSON:
    """``snapshot`` as JSON."""
    return {
        "timestamp": _time(snapshot.timestamp),
        "quotes": {
            name: {
                "instrument": quote.instrument,
                "bid": decimal_text(quote.bid),
                "ask": decimal_text(quote.ask),
                "bid_size": decimal_text(quote.bid_size),
                "ask_size": decimal_text(quote.ask_size),
                "last": _amount(quote.last),
                "timestamp": _time(quote.timestamp),
            }
            for name, quote in snapshot.quotes.items()
        },
    }


def decode_snapshot(message: object) -> QuoteSnapshot:
    """A :class:`QuoteSnapshot` from JSON."""
    values = _object(message, "snapshot")
    quotes: dict[str, Quote] = {}
    for name, raw in _object(values.get("quotes"), "snapshot.quotes").items():
        quote = dict(_object(raw, f"quotes[{name!r}]"))
        quote["timestamp"] = _parse_time(quote, "timestamp")
        quotes[name] = _build(Quote, f"quotes[{name!r}]", quote)
    return QuoteSnapshot(timestamp=_parse_time(values, "timestamp"), quotes=quotes)


def encode_account(account: AccountReport) -> JSON:
    """``account`` as JSON."""
    return {
        "timestamp": _time(account.timestamp),
        "positions": _amounts(account.positions),
        "balances": _amounts(account.balances),
    }


def decode_account(message: object) -> AccountReport:
    """An :class:`AccountReport` from JSON."""
    values = _object(message, "account")
    return AccountReport(
        timestamp=_parse_time(values, "timestamp"),
        positions=_object(values.get("positions"), "account.positions"),
        balances=_object(values.get("balances"), "account.balances"),
    )


def encode_reports(reports: VenueReports) -> JSON:
    """``reports`` as JSON."""
    return {
        "cursor": reports.cursor,
        "open_orders": [encode_report(report) for report in reports.open_orders],
        "orders": [encode_report(report) for report in reports.orders],
        "fills": [encode_fill(fill) for fill in reports.fills],
        "positions": _amounts(reports.positions),
        "timestamp": _time(reports.timestamp),
    }


def decode_reports(message: object) -> VenueReports:
    """A :class:`VenueReports` from JSON."""
    values = _object(message, "reports")

    def items(name: str) -> list[Any]:
        value = values.get(name)
        if not isinstance(value, list):
            raise ValueError(f"reports.{name} must be a list, got {value!r}")
        return value

    return VenueReports(
        cursor=values.get("cursor"),  # type: ignore[arg-type]
        open_orders=tuple(decode_report(item) for item in items("open_orders")),
        orders=tuple(decode_report(item) for item in items("orders")),
        fills=tuple(decode_fill(item) for item in items("fills")),
        positions=_object(values.get("positions"), "reports.positions"),
        timestamp=_parse_time(values, "timestamp"),
    )
