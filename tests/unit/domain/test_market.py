"""MarketSnapshot: validated, read-only market state with forwards per expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hedgekeeper.domain import (
    ForwardQuote,
    ForwardSource,
    MarketSnapshot,
    VolSurface,
    from_datetime64,
    to_datetime64,
    years_between,
)

NOW = datetime(2026, 1, 26, 4, 11, 38, tzinfo=UTC)
MAR = datetime(2026, 3, 27, 8, tzinfo=UTC)
FEB = datetime(2026, 2, 6, 8, tzinfo=UTC)


def quotes() -> dict[datetime, ForwardQuote]:
    return {
        MAR: ForwardQuote(MAR, 88067.97, ForwardSource.PARITY),
        FEB: ForwardQuote(FEB, 87519.87, ForwardSource.FUTURE),
    }


class FlatSurface:
    def implied_vol(
        self, strike: np.ndarray, expiry_t: np.ndarray, forward: np.ndarray
    ) -> np.ndarray:  # type: ignore[type-arg]
        return np.full(np.broadcast(strike, expiry_t, forward).shape, 0.5)


def snapshot(**changes: object) -> MarketSnapshot:
    fields: dict[str, object] = {
        "timestamp": NOW,
        "underlying": "BTC",
        "index_price": 87377.38,
        "forwards": quotes(),
        "funding_rates": {"BTC-PERPETUAL": 0.0001},
        "perp_prices": {"BTC-PERPETUAL": 87395.5},
        "mark_ivs": {"BTC-6FEB26-100000-C": 0.4224},
        "mark_prices": {"BTC-6FEB26-100000-C": 0.00111198},
    }
    fields.update(changes)
    return MarketSnapshot(**fields)  # type: ignore[arg-type]


def test_forwards_are_sorted_read_only_and_looked_up() -> None:
    snap = snapshot()
    assert snap.expiries == (FEB, MAR)
    assert snap.forward(MAR) == 88067.97
    assert snap.forward_quote(FEB).source is ForwardSource.FUTURE
    with pytest.raises(TypeError):
        snap.forwards[FEB] = ForwardQuote(FEB, 1.0, ForwardSource.FUTURE)  # type: ignore[index]
    with pytest.raises(ValueError, match="no forward for expiry"):
        snap.forward(datetime(2026, 2, 13, 8, tzinfo=UTC))


def test_vectorised_forward_lookup() -> None:
    snap = snapshot()
    expiries = np.array([to_datetime64(MAR), to_datetime64(FEB), to_datetime64(MAR)])
    np.testing.assert_array_equal(snap.forwards_at(expiries), [88067.97, 87519.87, 88067.97])
    with pytest.raises(ValueError, match="no forward for expiry"):
        snap.forwards_at(np.array([to_datetime64(MAR + timedelta(days=1))]))


def test_time_to_expiry_act_365() -> None:
    snap = snapshot()
    expected = (MAR - NOW).total_seconds() / (365 * 86400)
    assert snap.time_to_expiry(MAR) == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(
        snap.times_to_expiry(np.array([to_datetime64(MAR)])), [expected], rtol=1e-15
    )
    with pytest.raises(ValueError, match="expiry in the past"):
        snap.time_to_expiry(NOW)
    with pytest.raises(ValueError, match="expiry in the past"):
        snap.times_to_expiry(np.array([to_datetime64(NOW - timedelta(days=1))]))


def test_expired_forward_is_rejected() -> None:
    past = NOW - timedelta(hours=1)
    with pytest.raises(ValueError, match="expiry in the past"):
        snapshot(forwards={past: ForwardQuote(past, 87000.0, ForwardSource.PARITY)})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timestamp": datetime(2026, 1, 26)}, "timestamp"),
        ({"index_price": 0.0}, "index_price"),
        ({"index_price": float("nan")}, "index_price"),
        ({"rate": float("inf")}, "rate"),
        ({"underlying": ""}, "underlying"),
        ({"perp_prices": {"BTC-PERPETUAL": -1.0}}, "perp_prices"),
        ({"funding_rates": {"BTC-PERPETUAL": float("nan")}}, "funding_rates"),
        ({"mark_ivs": {"BTC-6FEB26-100000-C": 0.0}}, "mark_ivs"),
        ({"mark_prices": {"BTC-6FEB26-100000-C": -0.1}}, "mark_prices"),
        ({"forwards": {MAR: 88000.0}}, "forwards"),
        ({"forwards": {FEB: ForwardQuote(MAR, 88000.0, ForwardSource.PARITY)}}, "forwards"),
        ({"surface": object()}, "surface"),
    ],
)
def test_bad_snapshot_data_is_rejected_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        snapshot(**changes)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((MAR, 0.0, ForwardSource.PARITY), "forward"),
        ((MAR, 1.0, "parity"), "source"),
        ((datetime(2026, 3, 27, 8), 1.0, ForwardSource.PARITY), "expiry"),
    ],
)
def test_bad_forward_quote(args: tuple[object, object, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ForwardQuote(*args)  # type: ignore[arg-type]


def test_surface_protocol_and_delegation() -> None:
    surface = FlatSurface()
    assert isinstance(surface, VolSurface)
    snap = snapshot(surface=surface)
    vols = snap.implied_vol(np.array([80000.0, 90000.0]), np.array([0.1]), np.array([88000.0]))
    np.testing.assert_array_equal(vols, [0.5, 0.5])
    with pytest.raises(ValueError, match="no volatility surface"):
        snapshot().implied_vol(np.array([1.0]), np.array([1.0]), np.array([1.0]))


def test_mark_iv_lookup() -> None:
    snap = snapshot()
    np.testing.assert_array_equal(snap.mark_ivs_of(["BTC-6FEB26-100000-C"]), [0.4224])
    with pytest.raises(ValueError, match="BTC-6FEB26-1-C"):
        snap.mark_ivs_of(["BTC-6FEB26-1-C"])


def test_datetime64_round_trip_and_years_between() -> None:
    stamp = to_datetime64(NOW)
    assert stamp.dtype == np.dtype("datetime64[us]")
    assert from_datetime64(stamp) == NOW
    np.testing.assert_allclose(years_between(stamp, stamp + np.timedelta64(365, "D")), 1.0)
