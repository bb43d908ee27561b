"""The paper venue's HTTP server: malformed requests, loopback binding, ids that look like paths."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from venue_harness import http_harness, limit

from hedgekeeper.venues.base import Side, Venue, VenueOrderStatus
from hedgekeeper.venues.sim.server import bind_socket, check_loopback


def test_malformed_requests_are_400_with_a_message(tmp_path: Path) -> None:
    with http_harness(tmp_path, api_key="k") as harness:
        url = str(harness.notes["url"])

        async def body() -> None:
            headers = {"Authorization": "Bearer k"}
            async with httpx.AsyncClient(base_url=url, headers=headers) as client:
                response = await client.post("/v1/orders", content=b"{not json")
                assert response.status_code == 400
                assert "the order is not valid JSON" in response.json()["message"]
                response = await client.post("/v1/orders", json={"client_order_id": "x"})
                assert response.status_code == 400
                assert "order:" in response.json()["message"]
                response = await client.post("/v1/cancel", json={"id": "x"})
                assert response.status_code == 400
                assert response.json()["message"] == 'the cancel must be {"client_order_id": ID}'
                response = await client.get("/v1/reports", params={"since": "-1"})
                assert response.status_code == 400
                response = await client.get("/v1/order", params={"client_order_id": "a b"})
                assert response.status_code == 400
                assert "client_order_id must be 1-64 characters" in response.json()["message"]
            async with httpx.AsyncClient(base_url=url) as anonymous:
                assert (await anonymous.get("/v1/health")).json() == {"status": "ok"}
                assert (await anonymous.get("/v1/account")).status_code == 401

        asyncio.run(body())


def test_client_ids_that_look_like_paths_round_trip(tmp_path: Path) -> None:
    with http_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            for client_order_id in ("..", "a.b:c-d_e", "."):
                await venue.submit(limit(client_order_id, Side.BUY, "1", "99000"))
                report = await venue.order(client_order_id)
                assert report is not None
                assert report.client_order_id == client_order_id
                cancelled = await venue.cancel(client_order_id)
                assert cancelled is not None
                assert cancelled.status is VenueOrderStatus.CANCELLED

        harness.run(body)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_hosts_are_allowed(host: str) -> None:
    check_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_other_hosts_are_refused_unless_allowed(host: str) -> None:
    with pytest.raises(ValueError, match=host if host != "example.org" else "IP address"):
        check_loopback(host)
    if host != "example.org":
        check_loopback(host, allow_non_loopback=True)


def test_bind_socket_picks_a_free_loopback_port() -> None:
    with bind_socket("127.0.0.1", 0) as sock:
        host, port = sock.getsockname()
        assert host == "127.0.0.1"
        assert port > 0
        with pytest.raises(ValueError, match=f"cannot bind 127.0.0.1:{port}"):
            bind_socket("127.0.0.1", port).close()
