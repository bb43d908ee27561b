"""Path helper for the real market data in ``../shared/data``.

Outside CI a missing ``../shared`` skips the test with a clear message; under CI (``CI=true``)
it fails instead, so the data-backed tests can never silently not run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "HEDGEKEEPER_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


def shared_data(name: str) -> Path:
    """Return the path of ``../shared/data/<name>``; skip (or fail under CI) when absent."""
    path = SHARED_DATA / name
    if path.exists():
        return path
    message = f"real market data file {path} is absent (expected ../shared/data beside the repo)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + "; CI=true requires it", pytrace=False)
    pytest.skip(message)
