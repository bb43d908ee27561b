"""Structured JSON logs, one object per line, with secrets scrubbed from every record.

``log_event(logger, "order_sent", client_order_id=..., quantity=...)`` writes
``{"ts": ..., "level": "info", "logger": ..., "event": "order_sent", "client_order_id": ...}``.
Secrets are kept out in two ways: they are held as ``pydantic.SecretStr`` (which prints as
``**********``) and never passed to a log call; and, as a second line of defence, every value
registered with :func:`register_secret` is replaced by ``[redacted]`` in each formatted line
(and in exception text the keeper writes anywhere: see :func:`redact`).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}
REDACTED = "[redacted]"
_MIN_SECRET = 4


def register_secret(value: str) -> None:
    """Scrub ``value`` from every log line and from :func:`redact` output from now on."""
    if len(value) >= _MIN_SECRET:
        with _LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, event/message, the ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        event = getattr(record, "event", None)
        if event is not None:
            payload["event"] = event
        message = record.getMessage()
        if message and message != event:
            payload["message"] = message
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                payload.setdefault(str(key), _plain(value))
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in ("event", "fields") and \
                    not key.startswith("_"):
                payload.setdefault(key, _plain(value))
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            payload["error"] = f"{type(error).__name__}: {error}"
        return redact(json.dumps(payload, default=str, sort_keys=False))


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO,
              **fields: object) -> None:
    """Log ``event`` with ``fields`` as structured data."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={"event": event, "fields": fields})


def configure_logging(level: str = "info", file: str | Path | None = None) -> logging.Logger:
    """JSON logs of the ``hedgekeeper`` logger tree to stderr (and ``file``); returns the root.

    Idempotent: handlers installed by an earlier call are replaced.
    """
    root = logging.getLogger("hedgekeeper")
    for handler in list(root.handlers):
        if getattr(handler, "_hedgekeeper", False):
            root.removeHandler(handler)
            handler.close()
    formatter = JsonFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        path = Path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._hedgekeeper = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    return root
