"""inverse_option on real Deribit BTC option chains reproduces Deribit's mark prices and deltas.

SOURCE of the expected values: Deribit's public API snapshots of the BTC option chain
(``mark_price`` in BTC per option, ``delta`` = Black forward delta, ``vega`` in USD per vol
point), republished in ``znmahbub/SVCJ-Deribit-Inverse-Options-Pricer`` (/work/shared/data/
README.md). Each option is priced on the chain's ``underlying`` (the forward of its expiry)
at its ``implied_volatility`` (mark IV) with r = 0, as Deribit does. The data rounds the IV to
4 decimals and some snapshots took the underlying a moment apart from the marks, which sets
the floor of the agreement (the figures in the comments are measured).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hedgekeeper.marketdata import sample_chain_path
from hedgekeeper.pricing.inverse import InverseOptionGreeks, inverse_option
from shared_data import shared_data

FULL_CHAIN = "deribit_options_BTC_4x_daily_2026-01-26_2026-02-15.csv.gz"


def _price_chain(chain: pd.DataFrame) -> InverseOptionGreeks:
    return inverse_option(
        chain["underlying"].to_numpy(),
        chain["strike"].to_numpy(dtype=np.float64),
        chain["time_to_maturity"].to_numpy(),
        chain["implied_volatility"].to_numpy(),
        chain["option_type"].to_numpy(),
    )


def test_bundled_sample_reproduces_marks_and_deltas() -> None:
    chain = pd.read_csv(sample_chain_path())
    assert len(chain) == 1318
    g = _price_chain(chain)
    mark_error = np.abs(g.price - chain["mark_price"].to_numpy())
    delta_error = np.abs(g.usd.delta - chain["delta"].to_numpy())
    # Measured: mark median 6.4e-6 BTC, max 7.7e-5; delta median 5.1e-5, max 1.9e-3.
    assert np.median(mark_error) < 1e-5
    assert mark_error.max() < 1e-4
    assert np.median(delta_error) < 1e-4
    assert delta_error.max() < 2e-3
    # Deribit's vega is USD per vol point: usd.vega / 100. Measured median relative gap 9e-4.
    vega = chain["vega"].to_numpy()
    listed = vega >= 0.01
    assert np.median(np.abs(g.usd.vega[listed] / 100.0 / vega[listed] - 1.0)) < 2e-3
    # The premium-adjusted delta Deribit uses in account risk: Black delta minus mark (coin).
    np.testing.assert_allclose(g.delta_pa, g.usd.delta - g.price, rtol=1e-15, atol=1e-15)


def test_full_chain_reproduces_marks_and_deltas() -> None:
    chain = pd.read_csv(shared_data(FULL_CHAIN))
    assert len(chain) == 62_776
    g = _price_chain(chain)
    mark_error = np.abs(g.price - chain["mark_price"].to_numpy())
    delta_error = np.abs(g.usd.delta - chain["delta"].to_numpy())
    # Measured over the 83 snapshots: mark median 1.3e-5 BTC (p90 1.2e-4); delta median 2.0e-4,
    # p90 2.3e-3 (the worst are hours from expiry, where delta moves fastest with the forward).
    assert np.median(mark_error) < 2e-5
    assert np.quantile(mark_error, 0.9) < 2e-4
    assert np.median(delta_error) < 5e-4
    assert np.quantile(delta_error, 0.9) < 3e-3
