"""The real market sample bundled for the backtest demo: BTC through the FTX collapse.

Hourly Binance ``BTCUSDT`` perpetual bars (open, close, volume, mark close), its 8-hourly
funding, and Deribit's BTC DVOL (hourly, plus the daily closes from 2022-11-06), from
2022-09-27 to 2022-12-10 — 30 days of warm-up for the trailing statistics, then the window
the demo replays, 2022-10-28 .. 2022-12-09, when BTC fell from 21,000 to 15,700 USD in two
days (FTX, 2022-11-08/09) and DVOL jumped from about 50 to over 100. The rows and columns are
copied unchanged from the files described in ``../shared/data/README.md``:

* ``binance_btcusdt_perp_1h_2022-09-27_2022-12-10.csv.gz`` — from
  ``binance_usdm_perp_BTCUSDT_1h_to2024.csv.gz`` (columns ``timestamp, open, close, volume,
  mark_close``);
* ``binance_btcusdt_funding_8h_2022-09-27_2022-12-10.csv.gz`` — the ``BTCUSDT`` rows of
  ``binance_usdm_funding_8h_2019-2024.csv``;
* ``deribit_dvol_btc_1h_2022-09-27_2022-12-10.csv.gz`` — from
  ``deribit_dvol_BTC_1h_to2024.csv.gz`` (``timestamp, open, close``);
* ``deribit_dvol_btc_1d_2022-11-06_2022-12-09.csv`` — from
  ``deribit_dvol_BTC_1d_2022-11_2024-12.csv``.

Provenance: Binance data via the public GitHub repositories ``Roshan7869/algotrading``
(freqtrade data files, cross-checked with ``djienne/3EMA_SRSI_ATR``); DVOL hourly via
``lrud/THESIS``, daily via ``kalyar197/eth-dashboard`` (Deribit ``get_volatility_index_data``).
No source states a licence for the data itself (exchange terms apply); bundled as a small
research and test sample only.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hedgekeeper.backtest.market import MarketFiles

SAMPLE_PERP = "binance_btcusdt_perp_1h_2022-09-27_2022-12-10.csv.gz"
SAMPLE_FUNDING = "binance_btcusdt_funding_8h_2022-09-27_2022-12-10.csv.gz"
SAMPLE_DVOL_HOURLY = "deribit_dvol_btc_1h_2022-09-27_2022-12-10.csv.gz"
SAMPLE_DVOL_DAILY = "deribit_dvol_btc_1d_2022-11-06_2022-12-09.csv"
DEMO_CONFIG = "backtest_demo.toml"


def sample_path(name: str) -> Path:
    """Path of a file bundled in ``hedgekeeper/samples``; ``FileNotFoundError`` if missing."""
    path = Path(str(resources.files("hedgekeeper").joinpath("samples", name)))
    if not path.is_file():
        raise FileNotFoundError(f"bundled sample {name} is missing from the installed package")
    return path


def bundled_market_files() -> MarketFiles:
    """The bundled FTX-window sample as :class:`~hedgekeeper.backtest.market.MarketFiles`."""
    return MarketFiles(perp=sample_path(SAMPLE_PERP), funding=sample_path(SAMPLE_FUNDING),
                       dvol_hourly=sample_path(SAMPLE_DVOL_HOURLY),
                       dvol_daily=sample_path(SAMPLE_DVOL_DAILY))


def demo_config_path() -> Path:
    """The bundled demo configuration (the same text as ``examples/demo.toml``)."""
    return sample_path(DEMO_CONFIG)
