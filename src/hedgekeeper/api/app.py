"""The keeper's HTTP edge (FastAPI): ``GET /status``, ``GET /metrics``, ``POST /kill``, ``/resume``.

* Reads are open: ``/status`` (JSON) and ``/metrics`` (Prometheus text format).
* Every endpoint that changes state requires ``Authorization: Bearer <token>``, the token coming
  from the environment (``HEDGEKEEPER_API_TOKEN`` by default). Without a configured token those
  endpoints answer 403 and nothing changes. Tokens are compared in constant time.
* :func:`check_bind` refuses a non-loopback address unless a token is configured.
* Error responses never echo the request's headers or the token.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, ConfigDict, Field, SecretStr


class KeeperControl(Protocol):
    """What the API asks of a running keeper."""

    def status(self) -> Mapping[str, Any]:
        """A JSON-ready description of the keeper's state."""
        ...

    async def request_kill(self, reason: str) -> Mapping[str, Any]:
        """Trip the kill switch (no new orders, open orders cancelled); the new status."""
        ...

    async def request_resume(self) -> Mapping[str, Any]:
        """Clear the kill switch and every latched rail; the new status."""
        ...


class KillBody(BaseModel):
    """Body of ``POST /kill``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(default="kill requested over HTTP", max_length=500)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: SecretStr | None) -> None:
    """Refuse (``ValueError``) to serve on a non-loopback ``host`` without a token."""
    if not is_loopback(host) and token is None:
        raise ValueError(f"api.host {host!r} is not a loopback address: set a bearer token in "
                         "the environment (HEDGEKEEPER_API_TOKEN) before serving beyond "
                         "127.0.0.1")


def create_app(control: KeeperControl, registry: CollectorRegistry,
               token: SecretStr | None) -> FastAPI:
    """The FastAPI application serving ``control`` and the metrics in ``registry``.

    Parameters
    ----------
    control : the running keeper (or anything implementing :class:`KeeperControl`).
    registry : the keeper's Prometheus registry.
    token : bearer token for the state-changing endpoints; None disables them (403).
    """
    app = FastAPI(title="hedgekeeper", docs_url=None, redoc_url=None, openapi_url=None)

    def authorise(authorization: str | None) -> None:
        if token is None:
            raise HTTPException(403, "control endpoints are disabled: no API token is "
                                     "configured in the environment")
        expected = f"Bearer {token.get_secret_value()}".encode()
        given = (authorization or "").encode()
        if not secrets.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    async def _guarded(authorization: str | None,
                       action: Callable[[], Awaitable[Mapping[str, Any]]]) -> JSONResponse:
        authorise(authorization)
        return JSONResponse(dict(await action()))

    @app.get("/status")
    def status() -> JSONResponse:
        return JSONResponse(dict(control.status()))

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/kill")
    async def kill(body: KillBody | None = None,
                   authorization: str | None = Header(default=None)) -> JSONResponse:
        reason = body.reason if body is not None else KillBody().reason
        return await _guarded(authorization, lambda: control.request_kill(reason))

    @app.post("/resume")
    async def resume(authorization: str | None = Header(default=None)) -> JSONResponse:
        return await _guarded(authorization, control.request_resume)

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception) -> JSONResponse:
        # Never echo request details or exception text (it could carry a secret).
        return JSONResponse({"detail": f"internal error ({type(error).__name__})"},
                            status_code=500)

    return app
