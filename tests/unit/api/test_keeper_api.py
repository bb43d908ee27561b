"""The control API: open reads, bearer-token writes, loopback-only without a token."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from pydantic import SecretStr

from hedgekeeper.api import check_bind, create_app, is_loopback

TOKEN = "test-token-5f1c"


class FakeKeeper:
    """Implements KeeperControl; records what it was asked."""

    def __init__(self) -> None:
        self.killed: str | None = None
        self.resumed = 0

    def status(self) -> Mapping[str, Any]:
        return {"kill_switch": self.killed is not None, "rails": {}}

    async def request_kill(self, reason: str) -> Mapping[str, Any]:
        self.killed = reason
        return self.status()

    async def request_resume(self) -> Mapping[str, Any]:
        self.killed = None
        self.resumed += 1
        return self.status()


class Client:
    """A synchronous face over httpx's in-process ASGI transport."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self._transport,
                                         base_url="http://127.0.0.1") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(go())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._call("POST", path, **kwargs)


def _client(token: str | None = TOKEN) -> tuple[Client, FakeKeeper]:
    registry = CollectorRegistry()
    Counter("hedgekeeper_example", "an example counter", registry=registry).inc(3)
    keeper = FakeKeeper()
    app = create_app(keeper, registry, None if token is None else SecretStr(token))
    return Client(app), keeper


def test_status_and_metrics_are_open() -> None:
    client, _ = _client()
    assert client.get("/status").json() == {"kill_switch": False, "rails": {}}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "hedgekeeper_example_total 3.0" in metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")


def test_kill_and_resume_need_the_bearer_token() -> None:
    client, keeper = _client()
    assert client.post("/kill").status_code == 401
    assert client.post("/kill", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/kill", headers={"Authorization": TOKEN}).status_code == 401
    assert keeper.killed is None
    answer = client.post("/kill", json={"reason": "desk: stop"},
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.json()["kill_switch"] is True
    assert keeper.killed == "desk: stop"
    assert client.post("/resume").status_code == 401
    assert client.post("/resume", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert keeper.resumed == 1


def test_without_a_token_control_is_disabled() -> None:
    client, keeper = _client(token=None)
    answer = client.post("/kill", headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 403
    assert "no API token" in answer.json()["detail"]
    assert keeper.killed is None


def test_errors_never_echo_the_token() -> None:
    client, _ = _client()
    answer = client.post("/kill", content=b"{not json", headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert TOKEN not in answer.text
    wrong = client.post("/kill", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert TOKEN not in wrong.text


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True),
                                                ("::1", True), ("127.0.0.2", True),
                                                ("0.0.0.0", False), ("10.1.2.3", False),
                                                ("example.org", False)])
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_refuses_a_public_bind_without_a_token() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", SecretStr(TOKEN))
    check_bind("127.0.0.1", None)
