"""Numba shim: compile hot kernels when numba is available, run them as numpy/Python otherwise.

Set ``HEDGEKEEPER_DISABLE_NUMBA=1`` to force the pure-Python fallback (the tests use it to check
that both paths agree). Kernels are compiled with ``cache=True`` so a fresh process loads them
from the on-disk cache instead of compiling again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_DISABLED = os.environ.get("HEDGEKEEPER_DISABLE_NUMBA", "").strip() not in ("", "0")

_numba: Any
try:
    if _DISABLED:
        raise ImportError("numba disabled by HEDGEKEEPER_DISABLE_NUMBA")
    import numba as _numba

    NUMBA_AVAILABLE = True
except ImportError:  # pragma: no cover - exercised with HEDGEKEEPER_DISABLE_NUMBA=1
    _numba = None
    NUMBA_AVAILABLE = False


def njit(func: F) -> F:
    """Compile ``func`` with numba (nopython, ``cache=True``), or return it unchanged."""
    if _numba is None:
        return func
    compiled: F = _numba.njit(cache=True, fastmath=False, nogil=True)(func)
    return compiled


def njit_vectorize(func: F) -> F:
    """Like :func:`njit`, with numpy's float error model (``x / 0.0`` gives inf/nan, never raises).

    Python's error model puts a ZeroDivisionError check on every division, which stops LLVM from
    vectorising (SIMD) a loop that divides; numeric kernels that handle inf/nan themselves use
    this one. Helpers they call must use it too.
    """
    if _numba is None:
        return func
    compiled: F = _numba.njit(cache=True, fastmath=False, nogil=True, error_model="numpy")(func)
    return compiled
