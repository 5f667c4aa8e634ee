"""What error pages and error reports may show (settings.DEFAULT_EXCEPTION_REPORTER_FILTER)."""

import re
from collections.abc import Mapping
from typing import Any

from django.views.debug import SafeExceptionReporterFilter


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
