"""Validation and broadcasting of pricing inputs, with errors that name the argument."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
KindArray = npt.NDArray[np.int8]

ArrayLike = float | int | Sequence[float] | npt.NDArray[np.generic]
KindLike = str | int | Sequence[str] | Sequence[int] | npt.NDArray[np.generic]

_KIND_WORDS: dict[str, int] = {"call": 1, "c": 1, "put": -1, "p": -1}


def as_float(name: str, value: object) -> FloatArray:
    """Return ``value`` as a float64 array, or raise ``ValueError`` naming ``name``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") from exc
    return array


def as_kind(value: object, name: str = "kind") -> KindArray:
    """Map ``"call"/"put"``, ``"c"/"p"`` (any case) or +1/-1 integers to an int8 array of +1/-1."""
    array = np.asarray(value)
    if array.dtype.kind in ("U", "S", "O"):
        flat = array.ravel()
        out = np.empty(flat.shape, dtype=np.int8)
        for i, item in enumerate(flat):
            word = item.decode() if isinstance(item, bytes) else str(item)
            code = _KIND_WORDS.get(word.strip().lower())
            if code is None:
                raise ValueError(f"{name} must be 'call'/'put', 'c'/'p' or +1/-1, got {item!r}")
            out[i] = code
        return out.reshape(array.shape)
    if array.dtype.kind in ("i", "u", "b") or (
        array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array))
    ):
        as_int = array.astype(np.int64)
        if not np.all((as_int == 1) | (as_int == -1)):
            bad = as_int[(as_int != 1) & (as_int != -1)].ravel()[0]
            raise ValueError(f"{name} flags must be +1 (call) or -1 (put), got {bad}")
        return as_int.astype(np.int8)
    raise ValueError(f"{name} must be 'call'/'put', 'c'/'p' or +1/-1, got dtype {array.dtype}")


def broadcast(named: dict[str, FloatArray | KindArray]) -> list[npt.NDArray[np.generic]]:
    """Broadcast the arrays together, naming the arguments whose shapes do not fit."""
    try:
        return list(np.broadcast_arrays(*named.values()))
    except ValueError:
        shapes = ", ".join(f"{key}{np.shape(val)}" for key, val in named.items())
        raise ValueError(f"input shapes do not broadcast together: {shapes}") from None


def require(name: str, ok: npt.NDArray[np.bool_], expected: str, value: FloatArray) -> None:
    """Raise ``ValueError`` naming ``name`` if any element fails ``ok``."""
    if not np.all(ok):
        bad = np.asarray(value)[~ok] if np.ndim(value) else value
        first = np.ravel(bad)[0]
        raise ValueError(f"{name} must be {expected}, got {first!r}")
