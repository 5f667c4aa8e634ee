import pytest
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.django_db

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.real_celery
def test_ready_with_database_redis_and_a_running_worker(client, celery_worker_process):
    response = client.get(reverse("readyz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "needed": True, "engine": "postgresql"}
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["worker"]["workers"] >= 1


@pytest.mark.real_celery
def test_not_ready_when_redis_is_down_and_says_so_in_words_without_the_exception(client, settings):
    settings.REDIS_URL = CLOSED_PORT_REDIS
    response = client.get(reverse("readyz"))
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"] == {"ok": False, "needed": True, "error": "Redis svarar inte"}
    assert body["checks"]["database"]["ok"] is True
    assert "127.0.0.1" not in response.content.decode() and "Error" not in response.content.decode()


@pytest.mark.real_celery
def test_not_ready_when_no_worker_answers_but_alive(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "needed": True, "workers": 0}
    # The load balancer asks /livez: a dead worker does not take the web process out of service.
    live = client.get(reverse("livez"))
    assert live.status_code == 200 and live.json() == {"status": "ok"}


def test_database_down_is_named_without_its_exception_and_logged(client, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise RuntimeError('connection to server at "db.internal" (10.0.0.5), port 5432 failed: password')

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "needed": True, "error": "Databasen svarar inte"}
    assert "db.internal" not in response.content.decode()
    assert "db.internal" in caplog.text  # the operator finds the cause in the log


def test_livez_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("livez"))
    assert response.status_code == 200


def test_healthz_answers_as_readyz_for_monitors_set_up_before_the_split(client):
    old, new = client.get(reverse("healthz")).json(), client.get(reverse("readyz")).json()
    assert old["checks"].keys() == new["checks"].keys()


def test_embedded_default_needs_neither_redis_nor_worker(client, settings):
    settings.REDIS_URL = ""
    response = client.get(reverse("readyz"))
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["redis"]["needed"] is False
    assert body["checks"]["worker"]["needed"] is False


@pytest.mark.parametrize("name", ["livez", "readyz", "healthz"])
def test_health_needs_no_login_and_is_never_cached(client, name):
    response = client.get(reverse(name))
    assert response.status_code in (200, 503)
    assert "no-cache" in response.headers["Cache-Control"]
