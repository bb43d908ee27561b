"""Validated configuration files: frozen pydantic models, errors naming the field and line."""

from hedgekeeper.config.backtest import BacktestConfig
from hedgekeeper.config.toml import ConfigError, key_lines, load_toml, locate

__all__ = ["BacktestConfig", "ConfigError", "key_lines", "load_toml", "locate"]
