"""Venues: the ``Venue`` port (:mod:`hedgekeeper.venues.base`) and its adapters.

``hedgekeeper.venues.sim`` is the paper exchange (order book, latency, faults, its own ledger),
in-process (``SimVenue``) or served on 127.0.0.1 (``sim.server``) and reached with ``HttpVenue``
(``sim.client``).
"""

from hedgekeeper.venues.base import (
    AccountReport,
    FeedSilent,
    Liquidity,
    OrderAck,
    OrderReport,
    OrderRequest,
    OrderType,
    Quote,
    QuoteSnapshot,
    RateLimited,
    RejectReason,
    Side,
    TimeInForce,
    Venue,
    VenueError,
    VenueFill,
    VenueOrderStatus,
    VenueRejected,
    VenueReports,
    VenueTimeout,
    VenueUnavailable,
)

__all__ = [
    "AccountReport",
    "FeedSilent",
    "Liquidity",
    "OrderAck",
    "OrderReport",
    "OrderRequest",
    "OrderType",
    "Quote",
    "QuoteSnapshot",
    "RateLimited",
    "RejectReason",
    "Side",
    "TimeInForce",
    "Venue",
    "VenueError",
    "VenueFill",
    "VenueOrderStatus",
    "VenueRejected",
    "VenueReports",
    "VenueTimeout",
    "VenueUnavailable",
]
