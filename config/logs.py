"""Logs: one JSON object per line, with the request id that follows a request into the Celery tasks
it queues, and with personnummer and link tokens redacted from every line, the access log included
(docs/deployment.md, Logs).

- Each request gets an id when it starts (the proxy's X-Request-ID when it sends a sane one);
  RequestIdMiddleware returns it in the X-Request-ID header and writes the access log line (logger
  "stegvis.access").
- The id travels in the task message's headers (before_task_publish) and is set again in the
  worker (task_prerun), so a task's lines carry the id of the request that queued it.
- JsonFormatter and PlainFormatter redact the message, the path and the exception text of every
  record, so no logger anywhere (Django's, Celery's, ours) can write a personnummer or a token (the
  request id only of personnummer: the proxy's ids are long random words)."""

import json
import logging
import logging.config
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished, request_started
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("request_id", default="")
HEADER = "X-Request-ID"
TASK_HEADER = "stegvis_request_id"
SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # an id the proxy sends (nginx's $request_id has 32)
access_log = logging.getLogger("stegvis.access")

# A personnummer or samordningsnummer, with or without century and separator (also a Swedish mobile
# number, which is as well left out); the tokens of the pages without an account (self-assessment,
# survey, Min plan), wherever they stand; and any long random-looking word (API keys, other tokens).
PERSONNUMMER = re.compile(r"(?<!\d)(?:19|20)?\d{6}[-+ ]?\d{4}(?!\d)")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])"  # ids, not secrets
REDACTIONS = [
    (PERSONNUMMER, "[personnummer]"),
    (re.compile(r"(/(?:s|enkat|min-plan)/)[^/?#\s\"']+"), r"\1[token]"),
    # 24 or more letters, digits, - and _ with at least one digit and one letter (a random token;
    # a long function name has no digit), that is not a UUID
    (re.compile(rf"(?<![\w-])(?!{UUID})(?=[A-Za-z_-]*\d)(?=[\d_-]*[A-Za-z])[A-Za-z0-9_-]{{24,}}(?![\w-])"), "[token]"),
]


def _redacted(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redact(text: str) -> str:
    """text with personnummer and tokens replaced, percent-encoded ones too (an address as sent: the
    text is then logged decoded)."""
    if "%" in text:
        decoded = unquote_plus(text)
        if _redacted(decoded) != decoded:
            return _redacted(decoded)
    return _redacted(text)


def redact_value(value: Any) -> Any:
    """redact through dicts and lists (Sentry's events)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if current := request_id.get():
            entry["request_id"] = PERSONNUMMER.sub("[personnummer]", current)  # not a token: it is random
        for field in ("method", "status", "duration_ms", "user_id"):  # the access log's fields
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if hasattr(record, "path"):
            entry["path"] = redact(record.path)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """For a person reading a terminal (scripts/run): the same line as text, redacted the same way."""

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        current = PERSONNUMMER.sub("[personnummer]", request_id.get())
        return f"{line} [{current}]" if current else line


# The two ways a line is written (settings.LOGGING, config/gunicorn.py): LOG_FORMAT chooses.
LOG_FORMATTERS = {
    "json": {"()": "config.logs.JsonFormatter"},
    "plain": {"()": "config.logs.PlainFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
}


def configure(settings: dict) -> None:
    """LOGGING_CONFIG: Django's LOGGING, and Python's warnings through it too (JSON, redacted)."""
    logging.config.dictConfig(settings)
    logging.captureWarnings(True)


@receiver(request_started)
def _request_begins(environ: dict | None = None, **kwargs: Any) -> None:
    """The request's id, from the proxy when it sends a sane one; set for everything that logs while
    the request is handled, Django's own lines after the middleware included."""
    offered = (environ or {}).get("HTTP_X_REQUEST_ID", "")
    request_id.set(offered if SANE_ID.fullmatch(offered) else secrets.token_hex(8))


@receiver(request_finished)
def _request_ends(**kwargs: Any) -> None:
    request_id.set("")


class RequestIdMiddleware:
    """First in MIDDLEWARE: the X-Request-ID response header and the access log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        response[HEADER] = request_id.get()
        user = getattr(request, "user", None)
        access_log.info(
            "%s %s %s",
            request.method,
            request.get_full_path(),
            response.status_code,
            extra={
                "method": request.method,
                "path": request.get_full_path(),
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
        return response


@before_task_publish.connect
def _request_id_into_the_message(headers: dict | None = None, **kwargs: Any) -> None:
    if headers is not None and (current := request_id.get()):
        headers[TASK_HEADER] = current


_task_tokens: dict[str, Any] = {}


@task_prerun.connect
def _request_id_in_the_task(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    offered = getattr(task.request, TASK_HEADER, None) if task is not None else None
    if offered:  # an eager task keeps the id of the request it runs in
        _task_tokens[task_id] = request_id.set(offered)


@task_postrun.connect
def _request_id_after_the_task(task_id: str = "", **kwargs: Any) -> None:
    if (token := _task_tokens.pop(task_id, None)) is not None:
        request_id.reset(token)
