import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.real_celery
def test_healthy_with_database_redis_and_a_running_worker(client, celery_worker_process):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "needed": True, "engine": "postgresql"}
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["worker"]["workers"] >= 1


@pytest.mark.real_celery
def test_unavailable_when_redis_is_down(client, settings):
    settings.REDIS_URL = CLOSED_PORT_REDIS
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.real_celery
def test_unavailable_when_no_worker_answers(client):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["worker"] == {"ok": False, "needed": True, "workers": 0}


def test_embedded_default_needs_neither_redis_nor_worker(client, settings):
    settings.REDIS_URL = ""
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["redis"]["needed"] is False
    assert body["checks"]["worker"]["needed"] is False


def test_health_needs_no_login_and_is_never_cached(client):
    response = client.get(reverse("healthz"))
    assert response.status_code in (200, 503)
    assert "no-cache" in response.headers["Cache-Control"]
