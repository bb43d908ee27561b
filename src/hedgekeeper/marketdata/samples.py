"""Paths of the market data samples bundled inside the package (for the demo and offline tests).

``deribit_btc_options_2026-01-26.csv.gz``
    The first two snapshots (2026-01-26T04:11:38Z and 09:27:55Z, 1,318 option rows) of the
    Deribit BTC option chain file ``deribit_options_BTC_4x_daily_2026-01-26_2026-02-15.csv.gz``:
    full chains of Deribit's inverse (coin-settled) BTC options, prices in BTC, IV as a
    fraction; format in :mod:`hedgekeeper.marketdata.deribit`.
``deribit_perp_2026-01-26.csv``
    BTC- and ETH-PERPETUAL prices at those two snapshot times, from
    ``deribit_perp_at_option_snapshots_2025-12_2026-04.csv``.

Provenance: Deribit public API snapshots, republished in the public GitHub repository
``znmahbub/SVCJ-Deribit-Inverse-Options-Pricer``. No source states a licence for the data
itself (exchange terms apply); it is bundled as a small research and test sample only.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_PACKAGE = "hedgekeeper"
_FOLDER = "samples"

SAMPLE_CHAIN = "deribit_btc_options_2026-01-26.csv.gz"
SAMPLE_PERP = "deribit_perp_2026-01-26.csv"


def _sample(name: str) -> Path:
    resource = resources.files(_PACKAGE).joinpath(_FOLDER, name)
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"bundled sample {name} is missing from the installed package")
    return path


def sample_chain_path() -> Path:
    """Path of the bundled Deribit BTC option chain sample (two snapshots of 2026-01-26)."""
    return _sample(SAMPLE_CHAIN)


def sample_perp_path() -> Path:
    """Path of the bundled BTC/ETH perpetual prices at the sample's snapshot times."""
    return _sample(SAMPLE_PERP)
