"""Request ids and structured logs: JSON lines in production, text on a terminal.

Every request gets an id (the client's ``X-Request-ID`` if it is a plain token, else a
new one), echoed in the response and added to every log line written while it runs, so
the request line and the account events it caused can be found together. The request
line has the path, never the query string: a link's token would otherwise be logged.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only when it cannot smuggle anything into a log line.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
NO_REQUEST = "-"

request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)
logger = logging.getLogger("authcore.request")

JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def log_format(setting: str) -> str:
    """``json`` or ``text``: ``auto`` means text when stderr is a terminal."""
    if setting in ("json", "text"):
        return setting
    return "text" if sys.stderr.isatty() else "json"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.get()
        return True


class RequestLogMiddleware:
    """Gives each request its id and writes one line when it ends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        rid = offered if _CLIENT_ID.match(offered) else uuid.uuid4().hex
        # Kept until the response is closed (``end_request``): Django logs a 4xx or 5xx
        # only after the middleware has returned.
        request_id.set(rid)
        request.request_id = rid  # type: ignore[attr-defined]
        started = time.monotonic()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": getattr(user, "pk", None)
                if getattr(user, "is_authenticated", False)
                else None,
            },
        )
        return response


def end_request(**kwargs: Any) -> None:
    """request_finished: lines logged after a request has ended belong to none."""
    request_id.set(NO_REQUEST)


def connect_signals() -> None:
    """Called from AppConfig.ready()."""
    request_finished.connect(end_request, dispatch_uid="authcore.logs.end_request")


def logging_config(fmt: str, level: str, legacy_level: str) -> dict[str, Any]:
    """The LOGGING setting: one console handler, JSON or text, request ids on every line."""
    formatter: dict[str, Any]
    if log_format(fmt) == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FORMAT,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "authcore.logs.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_id"],
            }
        },
        # One handler, on the root: every logger's lines reach it (and pytest's caplog).
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "authcore": {"level": level},
            "legacy": {"level": legacy_level},
        },
    }
