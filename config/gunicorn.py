"""gunicorn's settings (the Procfile: gunicorn config.wsgi -c config/gunicorn.py). gunicorn logs
through the project's formatter, like Django and Celery: JSON, personnummer and tokens redacted
(config/logs.py), because its error log quotes the request line of a bad or timed-out request. Its
access log stays off: Stegvis writes its own (config.logs.RequestIdMiddleware)."""

import os

from config.logs import LOG_FORMATTERS

accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": LOG_FORMATTERS,
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("LOG_FORMAT", "").strip().lower() or "json",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
