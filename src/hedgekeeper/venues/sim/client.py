"""``HttpVenue``: the ``Venue`` port over HTTP, to a ``hedgekeeper paper-venue serve`` server.

Error mapping (see :mod:`hedgekeeper.venues.sim.server` for the server side):

- no answer in time, or the connection dropped after the request went out: ``VenueTimeout``
  (outcome unknown);
- connection refused or the connect timing out (nothing was sent): ``VenueUnavailable``;
- 503: ``VenueUnavailable`` (``FeedSilent`` when the body says ``feed_silent``);
- 429: ``RateLimited`` with the server's ``retry_after``;
- 422: ``VenueRejected`` with the reason and the recorded order;
- 500, 502, 504: ``VenueTimeout`` (the server may have processed the request);
- 400: ``ValueError`` (the request was malformed; the in-process venue raises the same).

The client never retries: what to do after an error is the keeper's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from hedgekeeper.venues.base import (
    AccountReport,
    FeedSilent,
    OrderAck,
    OrderReport,
    OrderRequest,
    QuoteSnapshot,
    RateLimited,
    RejectReason,
    VenueError,
    VenueRejected,
    VenueReports,
    VenueTimeout,
    VenueUnavailable,
    validate_client_order_id,
)
from hedgekeeper.venues.sim import wire

__all__ = ["HttpVenue"]

_T = TypeVar("_T")


class HttpVenue:
    """A client of ``hedgekeeper paper-venue serve``.

    Parameters
    ----------
    base_url : str
        E.g. ``"http://127.0.0.1:8765"``.
    timeout_seconds : float
        How long to wait for an answer before raising ``VenueTimeout``.
    api_key : str or None
        Sent as ``Authorization: Bearer KEY`` (a server started with ``--api-key-env``).
    """

    def __init__(
        self, base_url: str, *, timeout_seconds: float = 5.0, api_key: str | None = None
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = float(timeout_seconds)
        headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
        self._client = httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(self.timeout_seconds), headers=headers
        )

    async def _request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: dict[str, list[str]] | None = None,
        body: dict[str, Any] | None = None,
        none_on_404: bool = False,
    ) -> Any:
        try:
            response = await self._client.request(method, path, params=params, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise VenueUnavailable(
                operation, 0, f"{operation}: cannot connect to {self.base_url} ({error})"
            ) from None
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as error:
            raise VenueTimeout(
                operation, f"{operation}: no answer from {self.base_url} ({type(error).__name__})"
            ) from None
        except httpx.TransportError as error:
            raise VenueTimeout(
                operation, f"{operation}: transport failed after sending ({error!r})"
            ) from None
        status = response.status_code
        if status == 200:
            return _json(operation, response)
        if status == 404 and none_on_404:
            return None
        payload = _json(operation, response) if _is_json(response) else {}
        if status == 422 and payload.get("error") == "rejected":
            report = payload.get("report")
            raise VenueRejected(
                RejectReason(payload["reason"]),
                str(payload.get("message", "")),
                None if report is None else wire.decode_report(report),
            )
        if status == 429:
            retry_after = payload.get("retry_after", response.headers.get("Retry-After", 1.0))
            raise RateLimited(operation, float(retry_after))
        if status == 503:
            if payload.get("error") == "feed_silent":
                last = payload.get("last_update")
                raise FeedSilent(None if last is None else datetime.fromisoformat(last))
            raise VenueUnavailable(operation, 503)
        if status == 401:
            raise VenueError(f"{operation}: the venue refused the API key (401)")
        if status == 400:
            raise ValueError(str(payload.get("message", f"{operation}: bad request")))
        if status >= 500:
            raise VenueTimeout(operation, f"{operation}: server error {status}, outcome unknown")
        raise VenueError(f"{operation}: unexpected HTTP status {status}")

    async def snapshot(self, instruments: Sequence[str]) -> QuoteSnapshot:
        """Top-of-book quotes of ``instruments`` (every listed instrument when empty)."""
        if isinstance(instruments, str):
            raise ValueError(f"instruments must be a sequence of names, got {instruments!r}")
        params = {"instrument": list(instruments)}
        message = await self._request("snapshot", "GET", "/v1/snapshot", params=params)
        return _decoded("snapshot", wire.decode_snapshot, message)

    async def account(self) -> AccountReport:
        """Positions and balances now."""
        message = await self._request("account", "GET", "/v1/account")
        return _decoded("account", wire.decode_account, message)

    async def submit(self, order: OrderRequest) -> OrderAck:
        """Place ``order``; idempotent on its client order id."""
        if not isinstance(order, OrderRequest):
            raise ValueError(f"order must be an OrderRequest, got {order!r}")
        message = await self._request(
            "submit", "POST", "/v1/orders", body=wire.encode_request(order)
        )
        return _decoded("submit", wire.decode_ack, message)

    async def cancel(self, client_order_id: str) -> OrderReport | None:
        """Cancel a live order; the terminal order unchanged; ``None`` if unknown."""
        validate_client_order_id(client_order_id)
        message = await self._request(
            "cancel",
            "POST",
            "/v1/cancel",
            body={"client_order_id": client_order_id},
            none_on_404=True,
        )
        return None if message is None else _decoded("cancel", wire.decode_report, message)

    async def order(self, client_order_id: str) -> OrderReport | None:
        """Look an order up by client id."""
        validate_client_order_id(client_order_id)
        message = await self._request(
            "order",
            "GET",
            "/v1/order",
            params={"client_order_id": [client_order_id]},
            none_on_404=True,
        )
        return None if message is None else _decoded("order", wire.decode_report, message)

    async def reports(self, since: int = 0) -> VenueReports:
        """Open orders, order changes and fills with ledger sequence above ``since``."""
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError(f"since must be a non-negative integer cursor, got {since!r}")
        message = await self._request(
            "reports", "GET", "/v1/reports", params={"since": [str(since)]}
        )
        return _decoded("reports", wire.decode_reports, message)

    async def close(self) -> None:
        """Close the HTTP connections (the server keeps running)."""
        await self._client.aclose()


def _is_json(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/json")


def _json(operation: str, response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise VenueError(
            f"{operation}: the server answered {response.status_code} with a body that is not JSON"
        ) from None


def _decoded(operation: str, decode: Callable[[Any], _T], message: Any) -> _T:
    try:
        return decode(message)
    except ValueError as error:
        raise VenueError(f"{operation}: malformed answer from the venue ({error})") from None
