"""The keeper's status as its journal records it (``hedgekeeper status``; no keeper needed)."""

from __future__ import annotations

from typing import Any

from hedgekeeper.keeper.logs import redact
from hedgekeeper.store import Journal, plain_decimal


def journal_status(journal: Journal) -> dict[str, Any]:
    """JSON-ready state: kill switch, tripped rails, feed position, positions, open orders.

    A kill switch changed after the keeper's last checkpoint is reported as it is in the
    journal (the keeper applies it within a quarter of a second when running, else at start).
    """
    switch = journal.kill_switch()
    checkpoint = journal.last_checkpoint()
    details = dict(checkpoint.details) if checkpoint is not None else {}
    rails = dict(details.get("rails", {}).get("tripped", {}))
    if switch.engaged:
        rails["kill_switch"] = switch.reason
    elif details.get("control_seen") != (None if switch.changed_at is None
                                         else switch.changed_at.isoformat()):
        rails = {}  # a resume the keeper has not applied yet clears every latched rail
    venue = journal.position_snapshot("venue")
    return {
        "journal": journal.url,
        "kill_switch": {"engaged": switch.engaged, "reason": redact(switch.reason),
                        "changed_at": None if switch.changed_at is None
                        else switch.changed_at.isoformat()},
        "rails_tripped": {k: redact(str(v)) for k, v in sorted(rails.items())},
        "trading_blocked": bool(rails),
        "feed_sequence": details.get("sequence"),
        "market_time": details.get("market_time"),
        "executing": details.get("executing"),
        "last_rebalance": details.get("last_rebalance"),
        "checkpoint_at": None if checkpoint is None else checkpoint.at.isoformat(),
        "venue_cursor": None if checkpoint is None else checkpoint.venue_cursor,
        "positions": {k: plain_decimal(v) for k, v in journal.positions().items()},
        "venue_positions": None if venue is None else {
            "taken_at": venue.taken_at.isoformat(),
            "positions": {k: plain_decimal(v) for k, v in venue.positions.items()}},
        "open_orders": [{"client_order_id": o.client_order_id, "intent_id": o.intent_id,
                         "instrument": o.instrument, "side": o.side.value,
                         "quantity": plain_decimal(o.quantity), "status": o.status.value,
                         "filled": plain_decimal(o.filled_quantity)}
                        for o in journal.open_orders()],
        "recent_rail_trips": [{"rail": t.rail, "reason": redact(t.reason),
                               "at": t.at.isoformat()} for t in journal.rail_trips(limit=20)],
    }
