"""Without Dask installed, a sweep says what to install instead of a raw ImportError."""

from __future__ import annotations

import sys

import pytest

from hedgekeeper.sweep.runner import SweepError, _distributed


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import now raises ImportError
    with pytest.raises(SweepError, match=r"pip install 'hedgekeeper\[sweep\]'"):
        _distributed()
