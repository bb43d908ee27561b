"""Read a TOML config into a pydantic model, with errors that name the field and the line.

``tomllib`` returns plain dicts without positions, so :func:`key_lines` scans the text once
and records the line of every table header and every key, by path: ``[hedge]`` then
``fill = "close"`` is ``("hedge", "fill")``; the *k*-th ``[[policies]]`` is
``("policies", k)`` (0-based, counted per parent table); dotted keys ``a.b = 1`` split into
their parts. Values spanning several lines (arrays, multi-line strings) belong to the line
their key starts on. :func:`locate` maps a pydantic error location (which may carry extra
parts: the tag of a discriminated union, an index into an inline array) to the deepest path
found: the key's own line, or its table's header when the key is missing.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
Loc = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_MULTILINE_OPENERS = ('"""', "'''")
_MAX_ERRORS = 8


class ConfigError(ValueError):
    """A config file is missing, not TOML, or invalid; the message names file, line, field."""

    def __init__(self, message: str, issues: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.issues = tuple(issues)


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', text)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def key_lines(text: str) -> dict[Loc, int]:
    """Path of every table header and key in TOML ``text`` -> its 1-based line number."""
    lines: dict[Loc, int] = {}
    counts: dict[Loc, int] = {}
    table: Loc = ()
    open_string: str | None = None
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if open_string is not None:
            if line.count(open_string) % 2 == 1:
                open_string = None
            continue
        if depth > 0:
            depth = max(0, depth + _bracket_balance(line))
            continue
        header = _HEADER.match(line)
        if header is not None and not _KEY.match(line):
            parts = _split_key(header.group(2))
            path = _resolve(parts, counts)
            if header.group(1) == "[[":
                index = counts.get(path, 0)
                counts[path] = index + 1
                path = (*path, index)
            table = path
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        path = (*table, *_split_key(key.group(1)))
        lines.setdefault(path, number)
        rest = line[key.end():]
        for opener in _MULTILINE_OPENERS:
            if rest.count(opener) % 2 == 1:
                open_string = opener
        depth = max(0, _bracket_balance(_strip_strings(rest)))
    return lines


def _resolve(parts: tuple[str, ...], counts: dict[Loc, int]) -> Loc:
    """A header's parts with array-of-tables indices inserted (``book.legs`` under the latest
    ``[[book]]`` if ``book`` is an array of tables)."""
    path: Loc = ()
    for part in parts[:-1]:
        path = (*path, part)
        if path in counts:
            path = (*path, counts[path] - 1)
    return (*path, parts[-1])


def _strip_strings(text: str) -> str:
    return re.sub(r'"(?:\\.|[^"\\])*"|\'[^\']*\'', "", text.split("#", 1)[0])


def _bracket_balance(text: str) -> int:
    clean = _strip_strings(text)
    return clean.count("[") + clean.count("{") - clean.count("]") - clean.count("}")


def locate(lines: dict[Loc, int], loc: Loc) -> int | None:
    """Line of the deepest path of ``lines`` matched by the parts of ``loc`` (in order,
    skipping parts that match nothing: union tags, inline-array indices); None if no part
    matches."""
    path: Loc = ()
    found: int | None = None
    for part in loc:
        candidate = (*path, part)
        if candidate in lines or any(k[: len(candidate)] == candidate for k in lines):
            path = candidate
            found = lines.get(path, found)
    return found


def _label(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "(top level)"


def _all_fields(model: type[pydantic.BaseModel]) -> set[str]:
    names: set[str] = set()
    stack: list[Any] = [model]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, type) and issubclass(item, pydantic.BaseModel):
            for name, info in item.model_fields.items():
                names.add(name)
                stack.append(info.annotation)
        for arg in getattr(item, "__args__", ()) or ():
            stack.append(arg)
        origin = getattr(item, "__origin__", None)
        if origin is not None:
            stack.append(origin)
    return names


def _clean_loc(loc: Loc, lines: dict[Loc, int], kind: str) -> Loc:
    """``loc`` without the parts pydantic adds that are not TOML keys (the tag of a
    discriminated union). The last part is kept when it names a missing or unknown key."""
    kept: Loc = ()
    for position, part in enumerate(loc):
        candidate = (*kept, part)
        is_key = candidate in lines or any(k[: len(candidate)] == candidate for k in lines)
        named = position == len(loc) - 1 and kind in ("missing", "extra_forbidden")
        if is_key or isinstance(part, int) or named:
            kept = candidate
    return kept


def describe(error: Any, lines: dict[Loc, int], file: str,
             model: type[pydantic.BaseModel]) -> str:
    """One line for one pydantic error: ``FILE line N: field.path: what was wrong``."""
    loc: Loc = tuple(error["loc"])
    line = locate(lines, loc)
    where = f"{file} line {line}" if line is not None else file
    field = _label(_clean_loc(loc, lines, error["type"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        close = difflib.get_close_matches(name, sorted(_all_fields(model)), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{where}: unknown key {field!r}{hint}"
    if kind == "missing":
        return f"{where}: missing required key {field!r}"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    shown = error.get("input")
    # Our own validators already say "got ..."; pydantic's built-in messages do not.
    got = "" if kind in ("union_tag_invalid",) or isinstance(shown, dict) or (
        "got " in message
    ) else f" (got {shown!r})"
    return f"{where}: {field}: {message}{got}"


def load_toml(path: str | Path, model: type[ModelT]) -> tuple[ModelT, str]:
    """Read ``path`` and validate it as ``model``; return the model and the file's text.

    Raises
    ------
    ConfigError
        Naming the file: missing or unreadable, not valid TOML (with TOML's line and column),
        or invalid for ``model`` — one line per problem (at most eight), each with the TOML
        line and the dotted field path.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {str(file)!r} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(file)!r} is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(file)!r} is not valid TOML: {exc}") from None
    try:
        return model.model_validate(data), text
    except pydantic.ValidationError as exc:
        lines = key_lines(text)
        issues = [describe(error, lines, str(file), model) for error in exc.errors()]
        shown = issues[:_MAX_ERRORS]
        more = len(issues) - len(shown)
        message = "\n".join(shown) + (f"\n... and {more} more" if more else "")
        raise ConfigError(message, issues) from None
