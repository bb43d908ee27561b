"""Forward per expiry from put-call parity on the chain, checked against Deribit's underlying."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from hedgekeeper.domain import ForwardSource, OptionChain
from hedgekeeper.marketdata import load_chain, load_chains, load_perp_prices, sample_chain_path
from hedgekeeper.marketdata.samples import sample_perp_path
from hedgekeeper.pricing.forward import chain_forwards, parity_forward, snapshot_from_chain
from shared_data import shared_data


def black76_usd(
    forward: float, strike: float, t: float, rate: float, vol: float
) -> tuple[float, float]:
    sd = vol * np.sqrt(t)
    d1 = np.log(forward / strike) / sd + sd / 2
    d2 = d1 - sd
    discount = np.exp(-rate * t)
    call = discount * (forward * norm.cdf(d1) - strike * norm.cdf(d2))
    put = discount * (strike * norm.cdf(-d2) - forward * norm.cdf(-d1))
    return float(call), float(put)


@settings(max_examples=100)
@given(
    forward=st.floats(1_000.0, 200_000.0),
    moneyness=st.floats(0.5, 2.0),
    t=st.floats(0.001, 2.0),
    rate=st.floats(-0.02, 0.1),
    vol=st.floats(0.1, 1.5),
)
def test_parity_recovers_the_forward_from_black76_prices(
    forward: float, moneyness: float, t: float, rate: float, vol: float
) -> None:
    strike = forward * moneyness
    call, put = black76_usd(forward, strike, t, rate, vol)
    usd = parity_forward(strike, call, put, t, rate, premium="usd")
    # Deribit's inverse convention: coin price = USD price / forward.
    coin = parity_forward(strike, call / forward, put / forward, t, rate, premium="coin")
    assert usd == pytest.approx(forward, rel=1e-9)
    assert coin == pytest.approx(forward, rel=1e-9)


def test_parity_broadcasts_and_flags_impossible_inputs() -> None:
    forwards = parity_forward(np.array([80_000.0, 90_000.0]), np.array([0.1, 1.2]), 0.0, 0.5)
    assert forwards.shape == (2,)
    assert forwards[0] == pytest.approx(80_000.0 / 0.9)
    assert np.isnan(forwards[1])  # (C - P) >= 1 coin has no positive forward


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strike": -1.0}, "strike must be positive"),
        ({"t": -0.1}, "t must be non-negative"),
        ({"premium": "eur"}, "premium"),
        ({"call_price": "x"}, "call_price"),
        ({"call_price": np.ones(3), "put_price": np.ones(2)}, "do not broadcast"),
    ],
)
def test_parity_argument_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"strike": 80_000.0, "call_price": 0.1, "put_price": 0.05, "t": 0.5}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        parity_forward(**args)  # type: ignore[arg-type]


def pairs(chain: OptionChain) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    puts = {(chain.expiry[i], chain.strike[i]): i for i in np.flatnonzero(chain.kind == -1)}
    matched = [
        (i, puts[(chain.expiry[i], chain.strike[i])])
        for i in np.flatnonzero(chain.kind == 1)
        if (chain.expiry[i], chain.strike[i]) in puts
    ]
    calls, put_rows = np.array(matched).T
    return calls, put_rows


def test_parity_on_deribit_mark_prices_reproduces_its_underlying() -> None:
    # Deribit's marks are Black-76 on `underlying` divided by it, so near the money parity on
    # marks must give the underlying back (measured: median 1.1e-7, max 4.6e-6 relative).
    chain = load_chain(sample_chain_path())
    calls, puts = pairs(chain)
    forwards = parity_forward(
        chain.strike[calls], chain.mark[calls], chain.mark[puts], chain.t[calls]
    )
    near = np.abs(np.log(chain.strike[calls] / chain.forward[calls])) < 0.05
    relative = np.abs(forwards[near] / chain.forward[calls][near] - 1.0)
    assert np.median(relative) < 1e-6
    assert relative.max() < 2e-5


@pytest.mark.parametrize("at", [None, "2026-01-26T09:27:55Z"])
def test_parity_forwards_on_mids_agree_with_deribit_underlying(at: str | None) -> None:
    chain = load_chain(sample_chain_path(), at=at)
    forwards = chain_forwards(chain)
    assert len(forwards.expiry) == len(chain.expiries())
    assert all(source is ForwardSource.PARITY for source in forwards.source)
    assert np.all(forwards.n_pairs >= 5)
    relative = np.abs(forwards.relative_difference)
    # Measured on the two bundled snapshots (23 expiries): median 1.1e-4, max 6.6e-4.
    assert np.median(relative) < 3e-4
    assert relative.max() < 1e-3
    assert np.all(np.abs(forwards.parity - forwards.listed) <= forwards.half_width)
    np.testing.assert_array_equal(forwards.forward, forwards.parity)


def test_expiry_without_two_sided_pairs_falls_back_to_the_listed_underlying() -> None:
    chain = load_chain(sample_chain_path())
    first = chain.expiry.min()  # 26JAN26: Deribit's underlying is the synthetic SYN.BTC-26JAN26
    friday = np.datetime64("2026-01-30T08:00", "us")  # a listed future BTC-30JAN26
    no_puts = ((chain.expiry == first) | (chain.expiry == friday)) & (chain.kind == -1)
    forwards = chain_forwards(chain.take(~no_puts))
    assert forwards.listed_name[0] == "SYN.BTC-26JAN26"
    assert forwards.source[0] is ForwardSource.LISTED_UNDERLYING
    assert forwards.forward[0] == forwards.listed[0]
    assert forwards.n_pairs[0] == 0
    assert np.isnan(forwards.parity[0])
    assert forwards.source[1] is ForwardSource.PARITY
    assert forwards.listed_name[4] == "BTC-30JAN26"
    assert forwards.source[4] is ForwardSource.FUTURE
    assert forwards.forward[4] == forwards.listed[4]


def test_bad_n_strikes() -> None:
    with pytest.raises(ValueError, match="n_strikes"):
        chain_forwards(load_chain(sample_chain_path()), n_strikes=0)


def test_snapshot_from_chain() -> None:
    chain = load_chain(sample_chain_path())
    perp = load_perp_prices(sample_perp_path())
    snap = snapshot_from_chain(
        chain,
        perp_prices={"BTC-PERPETUAL": perp.at(chain.timestamp)},
        funding_rates={"BTC-PERPETUAL": 0.0001},
    )
    assert snap.timestamp == chain.timestamp
    assert snap.underlying == "BTC"
    assert snap.index_price == chain.index_price
    assert snap.expiries == chain.expiries()
    march = datetime(2026, 3, 27, 8, tzinfo=UTC)
    assert snap.forward_quote(march).source is ForwardSource.PARITY
    assert snap.forward(march) == pytest.approx(88_067.97, rel=1e-3)
    assert snap.perp_prices["BTC-PERPETUAL"] == 87395.5
    assert snap.mark_ivs["BTC-6FEB26-100000-C"] == 0.4224
    assert snap.mark_prices["BTC-6FEB26-100000-C"] == 0.00111198
    assert len(snap.mark_ivs) == len(chain)
    assert snap.rate == 0.0


@pytest.mark.shared_data
def test_parity_forwards_on_every_snapshot_of_the_shared_file() -> None:
    path = shared_data("deribit_options_BTC_4x_daily_2026-01-26_2026-02-15.csv.gz")
    relative: list[np.ndarray] = []  # type: ignore[type-arg]
    for chain in load_chains(path):
        forwards = chain_forwards(chain)
        assert all(source is ForwardSource.PARITY for source in forwards.source)
        assert np.all(np.abs(forwards.parity - forwards.listed) <= forwards.half_width)
        relative.append(np.abs(forwards.relative_difference))
    everything = np.concatenate(relative)
    assert everything.size == 988  # 83 snapshots, every expiry
    # Measured: median 1.5e-4, 99th percentile 8.0e-4, max 1.5e-3.
    assert np.median(everything) < 3e-4
    assert np.quantile(everything, 0.99) < 1e-3
    assert everything.max() < 3e-3
