"""Serve the keeper's API with uvicorn inside the keeper's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from hedgekeeper.api.app import check_bind


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the keeper."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """A uvicorn server for ``app`` on ``host:port`` (port 0: any free port).

    Raises ``ValueError`` on construction for a non-loopback ``host`` without a token.
    """

    def __init__(self, app: FastAPI, host: str, port: int, token: SecretStr | None) -> None:
        check_bind(host, token)
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                lifespan="off", log_level=logging.WARNING)
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving in the running loop; returns once the socket is bound."""
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the bind error
                raise OSError("the API server stopped before it started")
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        servers = self._server.servers
        if not servers or not servers[0].sockets:
            raise RuntimeError("the API server is not serving")
        return int(servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop serving and wait for the server to finish."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
