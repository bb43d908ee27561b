"""Serve a :class:`~hedgekeeper.venues.base.Venue` (the paper exchange) over HTTP JSON on 127.0.0.1.

The server is a thin adapter: each endpoint calls the venue and maps its answer or error to an
HTTP response that :class:`~hedgekeeper.venues.sim.client.HttpVenue` maps back.

=====================  ==========================================================
venue raises           HTTP answer
=====================  ==========================================================
(nothing)              200 with the JSON body (404 for an unknown client order id)
``VenueRejected``      422 ``{"error": "rejected", "reason", "message", "report"}``
``RateLimited``        429 with ``Retry-After``, ``{"error": "rate_limited", ...}``
``VenueUnavailable``   503 ``{"error": "unavailable"}`` (not processed)
``FeedSilent``         503 ``{"error": "feed_silent", "last_update"}``
``VenueTimeout``       nothing for ``hang`` seconds (the client times out), then 504
``ValueError``         400 ``{"error": "bad_request", "message"}``
(no or wrong key)      401 ``{"error": "unauthorized"}`` (when served with an API key)
anything else          500 (the client treats it as an unknown outcome)
=====================  ==========================================================

Endpoints: ``GET /v1/health``, ``GET /v1/snapshot?instrument=A&instrument=B``,
``GET /v1/account``, ``POST /v1/orders`` (an order), ``GET /v1/order?client_order_id=ID``,
``POST /v1/cancel`` (``{"client_order_id": ID}``), ``GET /v1/reports?since=N``. Client order ids
travel in query strings and bodies, never in paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from hedgekeeper.venues.base import (
    FeedSilent,
    RateLimited,
    Venue,
    VenueRejected,
    VenueTimeout,
    VenueUnavailable,
)
from hedgekeeper.venues.sim import wire

__all__ = ["bind_socket", "check_loopback", "create_app", "serve"]

_log = logging.getLogger("hedgekeeper.venues.sim.server")


def check_loopback(host: str, *, allow_non_loopback: bool = False) -> None:
    """``ValueError`` unless ``host`` is a loopback address (or non-loopback is allowed)."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"host must be an IP address such as 127.0.0.1, got {host!r}") from None
    if not address.is_loopback and not allow_non_loopback:
        raise ValueError(
            f"refusing to bind {host}: the paper venue serves loopback addresses only "
            "(127.0.0.1, ::1) unless non-loopback binding is explicitly allowed"
        )


def bind_socket(host: str, port: int, *, allow_non_loopback: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: a free port), loopback-checked."""
    check_loopback(host, allow_non_loopback=allow_non_loopback)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer in [0, 65535], got {port!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1" if host == "localhost" else host, port))
    except OSError as error:
        sock.close()
        raise ValueError(f"cannot bind {host}:{port} ({error.strerror})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def _json_body(request: Request, what: str) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{what} is not valid JSON ({error})") from None


def _error(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(
    venue: Venue,
    *,
    hang_seconds: float = 30.0,
    tick: Callable[[], Awaitable[None]] | None = None,
    tick_seconds: float = 1.0,
    api_key: str | None = None,
) -> FastAPI:
    """The HTTP app serving ``venue``.

    Parameters
    ----------
    venue : Venue
        What to serve (the server does not close it).
    hang_seconds : float
        How long a request whose venue call timed out is held before the 504 (longer than the
        client's timeout, so the client really times out).
    tick : callable or None
        Called every ``tick_seconds`` in the background (the paper exchange matches resting
        orders there even when no client calls).
    tick_seconds : float
        Period of ``tick``.
    api_key : str or None
        When given, every request but ``/v1/health`` must carry ``Authorization: Bearer KEY``
        (401 otherwise). The key is never logged or echoed.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task: asyncio.Task[None] | None = None
        if tick is not None:

            async def ticker() -> None:
                while True:
                    await asyncio.sleep(tick_seconds)
                    try:
                        await tick()
                    except Exception:
                        _log.exception("paper venue: background matching failed")

            task = asyncio.create_task(ticker())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="hedgekeeper paper venue", lifespan=lifespan, openapi_url=None)

    if api_key is not None:
        expected = f"Bearer {api_key}".encode()

        @app.middleware("http")
        async def authenticate(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            if request.url.path != "/v1/health":
                given = request.headers.get("authorization", "").encode()
                if not hmac.compare_digest(given, expected):
                    return _error(401, {"error": "unauthorized"})
            return await call_next(request)

    async def answer(operation: str, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except VenueRejected as error:
            return _error(
                422,
                {
                    "error": "rejected",
                    "reason": error.reason.value,
                    "message": str(error),
                    "report": None if error.report is None else wire.encode_report(error.report),
                },
            )
        except RateLimited as error:
            return _error(
                429,
                {"error": "rate_limited", "retry_after": error.retry_after},
                {"Retry-After": f"{error.retry_after:g}"},
            )
        except FeedSilent as error:
            last = None if error.last_update is None else error.last_update.isoformat()
            return _error(503, {"error": "feed_silent", "last_update": last})
        except VenueUnavailable as error:
            return _error(503, {"error": "unavailable", "message": str(error)})
        except VenueTimeout:
            await asyncio.sleep(hang_seconds)
            return _error(504, {"error": "timeout", "operation": operation})
        except ValueError as error:
            return _error(400, {"error": "bad_request", "message": str(error)})

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/snapshot")
    async def snapshot(request: Request) -> Any:
        instruments = request.query_params.getlist("instrument")

        async def call() -> Any:
            return wire.encode_snapshot(await venue.snapshot(instruments))

        return await answer("snapshot", call)

    @app.get("/v1/account")
    async def account() -> Any:
        async def call() -> Any:
            return wire.encode_account(await venue.account())

        return await answer("account", call)

    @app.post("/v1/orders")
    async def submit(request: Request) -> Any:
        async def call() -> Any:
            body = await _json_body(request, "the order")
            return wire.encode_ack(await venue.submit(wire.decode_request(body)))

        return await answer("submit", call)

    @app.get("/v1/order")
    async def order(client_order_id: str = "") -> Any:
        async def call() -> Any:
            report = await venue.order(client_order_id)
            if report is None:
                return _error(404, {"error": "unknown_order"})
            return wire.encode_report(report)

        return await answer("order", call)

    @app.post("/v1/cancel")
    async def cancel(request: Request) -> Any:
        async def call() -> Any:
            body = await _json_body(request, "the cancel")
            if not isinstance(body, dict) or set(body) != {"client_order_id"}:
                raise ValueError('the cancel must be {"client_order_id": ID}')
            report = await venue.cancel(body["client_order_id"])
            if report is None:
                return _error(404, {"error": "unknown_order"})
            return wire.encode_report(report)

        return await answer("cancel", call)

    @app.get("/v1/reports")
    async def reports(since: str = "0") -> Any:
        async def call() -> Any:
            if not since.isdigit():
                raise ValueError(f"since must be a non-negative integer cursor, got {since!r}")
            return wire.encode_reports(await venue.reports(int(since)))

        return await answer("reports", call)

    return app


async def serve(
    app: FastAPI,
    sock: socket.socket,
    *,
    on_listening: Callable[[str, int], None] | None = None,
) -> None:
    """Run ``app`` on the listening ``sock`` until SIGINT/SIGTERM, then return (uvicorn).

    ``on_listening(host, port)`` is called once the server accepts connections.
    """
    import uvicorn

    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        if on_listening is not None:
            on_listening(str(host), int(port))

    # uvicorn re-raises the SIGINT/SIGTERM it caught once it has shut down; with no-op
    # handlers in place that re-raise is harmless, so the caller's cleanup (closing the
    # ledger) runs and the process exits 0.
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.getsignal(number)
            signal.signal(number, _ignore_signal)
    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await announcer
        for number, handler in previous.items():
            signal.signal(number, handler)
        sys.stdout.flush()


def _ignore_signal(number: int, frame: object) -> None:
    _log.info("paper venue: signal %d after shutdown ignored", number)
