"""The API's rate limits (config/throttling.py): per user and per IP address, 429 with Retry-After
and a Swedish detail, counted in the real Redis."""

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from participants.api_keys import api_key_create
from tests.factories import registry_world

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(settings):
    """registry_world(), with counters no other test or test run has touched: the same Redis under a
    key prefix of this test's own (user ids repeat between runs on fresh databases)."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    return registry_world()


def _rates(settings, *, user: str, ip: str, proxies: int = 0) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": user, "ip": ip},
        "NUM_PROXIES": proxies,
    }


def _get(key: str, address: str = "203.0.113.7", **headers: str):  # noqa: ANN202
    return Client(REMOTE_ADDR=address).get(reverse("api_insats_list"), HTTP_AUTHORIZATION=f"Token {key}", **headers)


def _assert_throttled(response) -> None:  # noqa: ANN001
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600  # the rest of this clock hour
    detail = response.json()["detail"]
    assert detail == f"För många anrop till API:et. Försök igen om {response['Retry-After']} sekunder."


def test_a_user_beyond_their_rate_gets_429_with_retry_after(settings, world):
    _rates(settings, user="3/hour", ip="100/hour")
    _, mentor = api_key_create(user=world.mentor_jonsbo)
    _, coordinator = api_key_create(user=world.coordinator_sco)

    assert [_get(mentor).status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(_get(mentor))
    _assert_throttled(_get(mentor, address="198.51.100.1"))  # the user's limit, from any address
    assert _get(coordinator).status_code == 200  # another user at the same address


def test_a_session_counts_against_the_same_user_limit(settings, world, client):
    _rates(settings, user="2/hour", ip="100/hour")
    _, key = api_key_create(user=world.mentor_jonsbo)
    client.force_login(world.mentor_jonsbo)
    assert client.get(reverse("api_insats_list")).status_code == 200
    assert _get(key).status_code == 200
    _assert_throttled(client.get(reverse("api_insats_list")))


def test_an_address_beyond_its_rate_gets_429_whoever_the_user(settings, world):
    _rates(settings, user="100/hour", ip="4/hour")
    _, mentor = api_key_create(user=world.mentor_jonsbo)
    _, coordinator = api_key_create(user=world.coordinator_sco)

    assert [_get(key).status_code for key in (mentor, coordinator, mentor, coordinator)] == [200] * 4
    _assert_throttled(_get(mentor))
    _assert_throttled(_get(coordinator))
    assert _get(mentor, address="198.51.100.1").status_code == 200  # another address


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(settings, world):
    _rates(settings, user="100/hour", ip="2/hour", proxies=1)
    _, key = api_key_create(user=world.mentor_jonsbo)
    proxy = "10.0.0.2"  # every request reaches gunicorn from the proxy

    def via_proxy(sent_by_client: str, client_address: str):  # noqa: ANN202
        return _get(key, address=proxy, HTTP_X_FORWARDED_FOR=f"{sent_by_client}, {client_address}")

    assert via_proxy("1.1.1.1", "203.0.113.7").status_code == 200
    assert via_proxy("2.2.2.2", "203.0.113.7").status_code == 200
    _assert_throttled(via_proxy("3.3.3.3", "203.0.113.7"))  # what the client itself sent does not count
    assert via_proxy("3.3.3.3", "203.0.113.8").status_code == 200  # another client behind the same proxy


def test_without_a_proxy_a_forwarded_for_header_is_ignored(settings, world):
    _rates(settings, user="100/hour", ip="1/hour")
    _, key = api_key_create(user=world.mentor_jonsbo)
    assert _get(key, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    _assert_throttled(_get(key, HTTP_X_FORWARDED_FOR="2.2.2.2"))


def test_requests_pass_when_the_cache_cannot_count_them(settings, world, caplog):
    """Redis down: readings must still be stored (tests/reliability/test_real_faults.py), so the limit
    lets requests through rather than answering 500."""
    _rates(settings, user="1/hour", ip="1/hour")
    _, key = api_key_create(user=world.mentor_jonsbo)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with caplog.at_level(logging.WARNING, logger="config.throttling"):
        assert [_get(key).status_code for _ in range(2)] == [200, 200]
    assert "API rate limit not counted" in caplog.text


def test_rates_come_from_the_environment_and_production_reads_the_proxys_address():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], s.REST_FRAMEWORK['NUM_PROXIES']]))"
    )
    names = ("STEGVIS_API_RATE_USER", "STEGVIS_API_RATE_IP", "STEGVIS_PUBLIC_ANSWER_RATE", "STEGVIS_NUM_PROXIES")
    clean = {name: value for name, value in os.environ.items() if name not in names}

    def loaded(module: str, **env: str) -> list:
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=PROJECT,
            env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded("config.settings") == [{"user": "2000/hour", "ip": "5000/hour", "public_answers": "30/hour"}, 0]
    changed = {
        "STEGVIS_API_RATE_USER": "10/minute",
        "STEGVIS_API_RATE_IP": "99/day",
        "STEGVIS_PUBLIC_ANSWER_RATE": "3/day",
    }
    assert loaded("config.settings", **changed) == [{"user": "10/minute", "ip": "99/day", "public_answers": "3/day"}, 0]
    production = {
        "SECRET_KEY": "x" * 60,
        "STEGVIS_FIELD_KEYS": "Zm9yLXRoZS1wcm9kdWN0aW9uLXNldHRpbmdzLXRlc3Q9PQ==",
        "STEGVIS_PNR_PEPPER": "a-production-pepper-for-this-test",
        "DATABASE_URL": "postgresql://stegvis@127.0.0.1:5432/stegvis",
    }
    assert loaded("config.settings_production", **production)[1] == 1
    assert loaded("config.settings_production", **production, STEGVIS_NUM_PROXIES="2")[1] == 2
