"""The process's log lines: plain text (the default) or one JSON object a line
(``ASSISTANTD_LOG_FORMAT=json``), each with the id of the request it belongs to (or of the
request that created the run it is about; ``-`` when neither)."""

from __future__ import annotations

import logging
import sys
from typing import Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from assistantd.observability import request_ids

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# The fields every JSON line has (and "time", ISO 8601 in UTC); a line's ``extra`` fields (e.g.
# a run's end) are added to them.
JSON_FIELDS = ("levelname", "name", "request_id", "message")
_JSON_RENAMED = {"levelname": "level", "name": "logger"}
# uvicorn repeats some messages with terminal colours in an extra field: not for a log store.
_JSON_LEFT_OUT = ("color_message",)


_structured = False  # whether lines are JSON (a record's extra fields are then written)


def structured() -> bool:
    """Whether log lines carry a record's extra fields (JSON); text lines show the message only,
    so callers may skip building them."""
    return _structured


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (on the handler, so that records of
    every logger, uvicorn's access lines included, get it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_ids.current() or "-"
        return True


def configure(log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    """Send every log record to stderr in ``log_format``, replacing earlier handlers."""
    global _structured
    _structured = log_format == "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx logs every request at INFO: one line per model call (and per embedding batch), which
    # under load costs the server more than the call itself. Its warnings still show.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            list(JSON_FIELDS),
            rename_fields=_JSON_RENAMED,
            timestamp="time",
            reserved_attrs=[*RESERVED_ATTRS, *_JSON_LEFT_OUT],
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)
