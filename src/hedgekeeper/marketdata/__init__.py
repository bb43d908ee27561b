"""Market data edges: file loaders for option chains, perpetual prices and positions."""

from hedgekeeper.marketdata.deribit import (
    MarketDataError,
    PerpPrices,
    load_chain,
    load_chains,
    load_perp_prices,
    nearest_snapshot,
    snapshots,
)
from hedgekeeper.marketdata.positions import load_positions
from hedgekeeper.marketdata.samples import sample_chain_path, sample_perp_path

__all__ = [
    "MarketDataError",
    "PerpPrices",
    "load_chain",
    "load_chains",
    "load_perp_prices",
    "load_positions",
    "nearest_snapshot",
    "sample_chain_path",
    "sample_perp_path",
    "snapshots",
]
