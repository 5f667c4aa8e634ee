"""Health for operators, in two questions:

- /livez: does this web process answer? 200 without touching anything else. For the load balancer:
  a database, Redis or Celery outage must not take every web process out of service.
- /readyz: are the database, Redis and (when tasks run on workers) a Celery worker up? JSON, 200 or
  503. For monitoring. The response names the part that is down in words, never the exception's
  text (which can carry host names, users or paths); the exception goes to the log.

/healthz answers as /readyz, for monitors set up before the split."""

import logging
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app

CHECK_TIMEOUT_SECONDS = 1.0
DOWN = "svarar inte"

logger = logging.getLogger(__name__)


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "down"; the log says why
        logger.warning("readyz: databasen svarar inte", exc_info=True)
        return {"ok": False, "needed": True, "error": f"Databasen {DOWN}"}
    return {"ok": True, "needed": True, "engine": connection.vendor}


def check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "needed": False, "detail": "ingen Redis i inbäddat läge"}
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
        )
        client.ping()
    except redis.RedisError:
        logger.warning("readyz: Redis svarar inte", exc_info=True)
        return {"ok": False, "needed": True, "error": f"Redis {DOWN}"}
    return {"ok": True, "needed": True}


def check_worker(*, redis_ok: bool) -> dict[str, Any]:
    if celery_app.conf.task_always_eager:
        return {"ok": True, "needed": False, "detail": "uppgifter körs direkt i processen"}
    needed = settings.HEALTHZ_REQUIRE_WORKER
    if not redis_ok:
        return {"ok": False, "needed": needed, "error": f"Redis {DOWN}, så ingen arbetare kan nås"}
    try:
        # The first reply is enough: without a limit ping waits out the whole timeout every time.
        replies = celery_app.control.ping(timeout=CHECK_TIMEOUT_SECONDS, limit=1)
    except Exception:  # broker errors surface as several exception types
        logger.warning("readyz: arbetarna kunde inte frågas", exc_info=True)
        return {"ok": False, "needed": needed, "error": f"Kön {DOWN}"}
    return {"ok": bool(replies), "needed": needed, "workers": len(replies)}


@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "redis": check_redis()}
    checks["worker"] = check_worker(redis_ok=checks["redis"]["ok"])
    ready = all(check["ok"] for check in checks.values() if check["needed"])
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
