"""What error pages and error reports may show: Django's error pages and mails
(settings.DEFAULT_EXCEPTION_REPORTER_FILTER), and the optional error reporting to Sentry (or a
compatible service such as GlitchTip), on when SENTRY_DSN is set. From Sentry nothing personal
leaves: no request bodies, cookies, headers or query strings, no local variables of the stack
frames, no user but its id, and every remaining text is redacted as the logs are
(config.logs.redact: personnummer and link tokens)."""

import re
from collections.abc import Mapping
from typing import Any

import sentry_sdk
from django.views.debug import SafeExceptionReporterFilter
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.types import Event, Hint

from config.logs import redact_value


class SecretsMaskingFilter(SafeExceptionReporterFilter):
    """Django's filter (keys, tokens, passwords, cookies…), which also masks Stegvis's secrets wherever
    a name shows them, in settings and in the request's environment alike: the personnummer pepper
    (PNR_PEPPER, STEGVIS_PNR_PEPPER), the identity vault's keys (FIELD_ENCRYPTION_KEYS,
    STEGVIS_FIELD_KEYS) and the URLs of the database, Redis and the broker, which carry passwords
    (DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, CACHES' LOCATION)."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE"  # Django's own
        "|PEPPER|FIELD_ENCRYPTION|DATABASE_URL|REDIS_URL|BROKER|LOCATION",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        # Django looks inside dicts only; settings.ENV is os.environ, a Mapping that is not a dict,
        # and would otherwise be shown whole.
        if isinstance(value, Mapping) and not isinstance(value, dict):
            value = dict(value)
        return super().cleanse_setting(key, value)


REQUEST_KEPT = ("method", "url")  # of the request Sentry records: the rest may carry personal data


def scrub(event: Event, hint: Hint | None = None) -> Event:
    """before_send: what remains of an event (or a transaction) when it leaves."""
    if "request" in event:
        event["request"] = {key: event["request"][key] for key in REQUEST_KEPT if key in event["request"]}
    if "user" in event:
        event["user"] = {"id": event["user"]["id"]} if "id" in event["user"] else {}
    for exception in event.get("exception", {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    return redact_value(event)


def scrub_breadcrumb(crumb: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    return redact_value(crumb)


def error_reporting_init(
    dsn: str, *, environment: str, release: str, traces_sample_rate: float, **options: Any
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        data_collection={  # nothing personal is collected in the first place; scrub removes the rest
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        before_send=scrub,
        before_send_transaction=scrub,
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )
