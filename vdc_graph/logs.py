"""The server's logging: one JSON object per line (or readable text), level from the settings.

A record's structured fields travel in ``extra={"fields": {...}}``; the formatters write them
beside time, level, logger and message. Nothing here decides what is logged: callers never
pass a token or a secret (the request line names the caller by IDs only).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from vdc_graph.settings import LogFormat, Settings

_HANDLER_NAME = "vdc_graph"


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        text = f"{_time(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        text = f"{text} {fields}" if fields else text
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(settings: Settings) -> None:
    """Sends every logger (uvicorn's included) to stderr in the configured format and level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    formatter = JsonFormatter() if settings.log_format is LogFormat.JSON else TextFormatter()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn's loggers propagate to ours; its access line is replaced by the request line.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
