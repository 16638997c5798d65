"""Operations: health and readiness endpoints, request ids and structured (JSON) logs.

A load balancer asks /healthz whether the process answers at all (restart it when not) and
/readyz whether it can serve (the database and the shared cache answer; take it out of the
rotation with a 503 when not). Every request carries an id: the proxy's X-Request-ID when it
sends a sane one, else a new one; it is echoed in the response and in every log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from flask import Blueprint, g, has_request_context, jsonify, request
from sqlalchemy import text

from lti_tool.cache import get_cache
from lti_tool.db import database

if TYPE_CHECKING:
    from flask import Flask, Response
    from flask.typing import ResponseReturnValue

log = logging.getLogger("coachlab.access")

bp = Blueprint("ops", __name__)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""A proxy's request id is kept only when it cannot smuggle anything into a log line."""


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: the process answers. It checks nothing else, so a database outage does not
    make an orchestrator restart every worker at once."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: the database and the shared cache answer; 503 naming the failing one."""
    checks: dict[str, str] = {}
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready", and says which
        checks["database"] = f"unreachable: {type(error).__name__}"
    try:
        cache = get_cache()
        key = f"coachlab-readyz-{uuid.uuid4().hex}"
        cache.set(key, 1, timeout=5)
        found = cache.get(key) == 1
        cache.delete(key)
        checks["cache"] = "ok" if found else "unreachable: write not readable"
    except Exception as error:
        checks["cache"] = f"unreachable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), (
        200 if ready else 503)


def request_id() -> str:
    """The current request's id ("-" outside a request)."""
    if has_request_context():
        return str(g.get("request_id", "-"))
    return "-"


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    started = g.get("request_started")
    if started is not None and log.isEnabledFor(logging.INFO):
        log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "http_method": request.method, "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        })
    return response


def init_app(app: Flask) -> None:
    """Register the endpoints and the request-id hooks."""
    app.register_blueprint(bp)
    app.before_request(_start_request)
    app.after_request(_finish_request)


_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record (exceptions as a text field; never multi-line output)."""
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Puts the request id on every record, for the text format's %(request_id)s."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record."""
        if not getattr(record, "request_id", None):
            record.request_id = request_id()
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Send the process's logs to stderr as text or JSON lines (the serve and worker
    commands and the WSGI entry call this; tests and embedding code keep their own)."""
    formatter: logging.Formatter
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "coachlab", False):
            root.removeHandler(old)
    handler.coachlab = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())


def configure_from_app(app: Flask) -> None:
    """configure_logging with the app's LOG_FORMAT and LOG_LEVEL."""
    configure_logging(str(app.config["LOG_FORMAT"]), str(app.config["LOG_LEVEL"]))

