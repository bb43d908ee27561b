"""Reports: self-contained HTML (figures embedded, no network) for backtest suites."""

from hedgekeeper.report.backtest import render_html, write_report

__all__ = ["render_html", "write_report"]
