"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

import config.logs  # noqa: F401  (its signals carry the request id into tasks)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stegvis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_through_django(**kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING (config/logs.py: JSON, redacted, request ids)
    instead of Celery's own handlers."""
