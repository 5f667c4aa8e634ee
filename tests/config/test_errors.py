"""Error pages never show Stegvis's secrets (config/errors.py), not even DEBUG's technical page."""

import sys
import uuid

import pytest
from django.views.debug import SafeExceptionReporterFilter, technical_500_response


@pytest.fixture
def secrets(settings, monkeypatch):
    """Distinct secret values in the settings, in the process environment (settings.ENV) and in a
    request's META, where runserver puts the environment."""
    values = {
        "pepper": f"pepper-{uuid.uuid4().hex}",
        "field_key": f"field-key-{uuid.uuid4().hex}",
        "database_password": f"db-password-{uuid.uuid4().hex}",
        "redis_password": f"redis-password-{uuid.uuid4().hex}",
    }
    database_url = f"postgresql://stegvis:{values['database_password']}@db:5432/stegvis"
    redis_url = f"redis://:{values['redis_password']}@redis:6379/0"
    settings.DEBUG = True
    settings.PNR_PEPPER = values["pepper"]
    settings.FIELD_ENCRYPTION_KEYS = [values["field_key"]]
    settings.REDIS_URL = redis_url
    settings.CELERY_BROKER_URL = redis_url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    environment = {
        "STEGVIS_PNR_PEPPER": values["pepper"],
        "STEGVIS_FIELD_KEYS": values["field_key"],
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return values, environment


def _fail() -> None:
    raise RuntimeError("ett fel")  # in a frame whose variables hold no secret of the test's own


def _error_page(request) -> str:  # noqa: ANN001
    try:
        _fail()
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_debug_error_page_masks_the_pepper_the_field_keys_and_service_passwords(secrets, rf):
    values, environment = secrets
    page = _error_page(rf.get("/deltagare/", **environment))
    assert "PNR_PEPPER" in page and "STEGVIS_PNR_PEPPER" in page  # listed, with the value masked
    assert [name for name, value in values.items() if value in page] == []


def test_djangos_own_filter_would_have_shown_them(secrets, settings):
    """The premise: without config/errors.py, the settings on the error page carry the secrets."""
    values, _ = secrets
    shown = str(SafeExceptionReporterFilter().get_safe_settings())
    assert {name for name, value in values.items() if value in shown} == set(values)
