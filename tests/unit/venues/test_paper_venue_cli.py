"""``hedgekeeper paper-venue export`` and the refusals of ``paper-venue serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from venue_harness import limit, market, sim_harness

from hedgekeeper.cli import app
from hedgekeeper.venues.base import Side, Venue, VenueRejected

runner = CliRunner()


def test_export_prints_the_venues_own_orders_and_fills(tmp_path: Path) -> None:
    with sim_harness(tmp_path) as harness:

        async def body(venue: Venue) -> None:
            await venue.submit(market("m-1", Side.BUY, "1.5"))
            await venue.submit(limit("l-1", Side.SELL, "0.25", "100500"))
            with pytest.raises(VenueRejected):
                await venue.submit(limit("r-1", Side.BUY, "50", "99000"))

        harness.run(body)
        # Export runs while the venue (the writer) still holds its ledger.
        result = runner.invoke(app, ["paper-venue", "export", "--state", str(harness.state)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    venue_id = harness.sim.exchange.meta.venue_id
    assert records == [
        {
            "type": "order",
            "client_order_id": "m-1",
            "venue_order_id": f"{venue_id}-O1",
            "intent_id": "intent-m-1",
            "instrument": "BTC-PERPETUAL",
            "side": "buy",
            "quantity": "1.5",
            "status": "filled",
        },
        {
            "type": "order",
            "client_order_id": "l-1",
            "venue_order_id": f"{venue_id}-O5",
            "intent_id": "intent-l-1",
            "instrument": "BTC-PERPETUAL",
            "side": "sell",
            "quantity": "0.25",
            "status": "open",
        },
        {
            "type": "order",
            "client_order_id": "r-1",
            "venue_order_id": f"{venue_id}-O6",
            "intent_id": "intent-r-1",
            "instrument": "BTC-PERPETUAL",
            "side": "buy",
            "quantity": "50",
            "status": "rejected",
        },
        {
            "type": "fill",
            "trade_id": f"{venue_id}-T2",
            "client_order_id": "m-1",
            "quantity": "1",
            "price": "100010",
        },
        {
            "type": "fill",
            "trade_id": f"{venue_id}-T3",
            "client_order_id": "m-1",
            "quantity": "0.5",
            "price": "100030",
        },
    ]


def test_export_of_a_missing_state_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["paper-venue", "export", "--state", str(tmp_path / "nope.sqlite")])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "does not exist" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--host", "0.0.0.0"], "refusing to bind 0.0.0.0"),
        (["--host", "10.1.2.3"], "loopback addresses only"),
        (["--host", "0.0.0.0", "--allow-non-loopback"], "needs --api-key-env"),
        (["--prices", "x.csv", "--synthetic", "3"], "at most one of --prices"),
        (["--faults", "lag=0.1"], "unknown fault 'lag'"),
        (["--port", "70000"], "port must be an integer"),
        (["--prices", "missing.csv", "--instrument", "X"], "does not exist"),
        (["--api-key-env", "HK_TEST_UNSET_KEY"], "HK_TEST_UNSET_KEY is unset"),
    ],
)
def test_serve_refuses_bad_arguments_with_one_line(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    state = tmp_path / "v.sqlite"
    result = runner.invoke(
        app, ["paper-venue", "serve", "--state", str(state), "--port", "0", *arguments]
    )
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert message in " ".join(result.output.split())
    assert not state.exists()


def test_serve_config_file_errors_name_the_field(tmp_path: Path) -> None:
    config = tmp_path / "venue.toml"
    config.write_text('[venue]\ncurrency = "USD"\nspread = 3\n')
    result = runner.invoke(
        app,
        ["paper-venue", "serve", "--state", str(tmp_path / "v.sqlite"), "--config", str(config)],
    )
    assert result.exit_code == 2
    assert "unknown key(s) 'spread'" in result.output
    config.write_text("[venue.instruments.BTC-PERPETUAL]\ninitial_price = -5\n")
    result = runner.invoke(
        app,
        ["paper-venue", "serve", "--state", str(tmp_path / "v.sqlite"), "--config", str(config)],
    )
    assert result.exit_code == 2
    assert "BTC-PERPETUAL.initial_price must be a finite number > 0" in result.output
