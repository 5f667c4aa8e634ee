"""/healthz: is the database, Redis and a Celery worker up? JSON, 200 or 503."""

from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app

CHECK_TIMEOUT_SECONDS = 1.0


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the message says why
        return {"ok": False, "needed": True, "error": str(exc)}
    return {"ok": True, "needed": True, "engine": connection.vendor}


def check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "needed": False, "detail": "ingen Redis i inbäddat läge"}
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
        )
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "needed": True, "error": str(exc)}
    return {"ok": True, "needed": True}


def check_worker(*, redis_ok: bool) -> dict[str, Any]:
    if celery_app.conf.task_always_eager:
        return {"ok": True, "needed": False, "detail": "uppgifter körs direkt i processen"}
    needed = settings.HEALTHZ_REQUIRE_WORKER
    if not redis_ok:
        return {"ok": False, "needed": needed, "error": "Redis svarar inte"}
    try:
        replies = celery_app.control.ping(timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # broker errors surface as several exception types
        return {"ok": False, "needed": needed, "error": str(exc)}
    return {"ok": bool(replies), "needed": needed, "workers": len(replies)}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "redis": check_redis()}
    checks["worker"] = check_worker(redis_ok=checks["redis"]["ok"])
    healthy = all(check["ok"] for check in checks.values() if check["needed"])
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
