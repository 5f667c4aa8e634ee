"""Reading configuration from the environment.

Plain functions over a mapping so that settings can be tested with any environment,
not only the one the process was started with.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
from dj_database_url import DBConfig
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    if name not in env or env[name] == "":
        return default
    return env[name].strip().lower() in TRUE_WORDS


def env_list(env: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    raw = env.get(name, "")
    if not raw.strip():
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def database_config(env: Mapping[str, str], base_dir: Path) -> DBConfig:
    """PostgreSQL from DATABASE_URL, else the embedded SQLite file: db.sqlite3 in the project folder,
    or STEGVIS_SQLITE_PATH (the test of the embedded default uses a file of its own)."""
    url = env.get("DATABASE_URL", "").strip()
    if url:
        return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env.get("STEGVIS_SQLITE_PATH", "").strip() or str(base_dir / "db.sqlite3"),
        # A transaction takes the write lock when it begins, and waits up to 20 s for it: answers
        # sent at the same moment queue instead of failing with "database is locked", and a count
        # taken in a transaction (a survey's responses) holds until it commits.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }


def databases_config(env: Mapping[str, str], base_dir: Path) -> dict[str, DBConfig]:
    """The primary, and the read replica reports and exports read when DATABASE_REPLICA_URL names
    one (config/replica.py). In tests the replica alias mirrors the primary's test database."""
    databases = {"default": database_config(env, base_dir)}
    url = env.get("DATABASE_REPLICA_URL", "").strip()
    if url:
        replica = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if "postgresql" not in replica["ENGINE"] or "postgresql" not in databases["default"]["ENGINE"]:
            raise ImproperlyConfigured(
                "DATABASE_REPLICA_URL names a streaming replica of the PostgreSQL database in DATABASE_URL "
                "(postgresql://…); leave it unset otherwise."
            )
        # A replica that does not answer within seconds is passed over for the primary (config/replica.py).
        replica["OPTIONS"] = {**replica.get("OPTIONS", {}), "connect_timeout": 3}
        databases["replica"] = {**replica, "TEST": {"MIRROR": "default"}}
    return databases


def celery_config(env: Mapping[str, str]) -> dict[str, Any]:
    """Redis broker from REDIS_URL, else eager in-process tasks (the embedded default)."""
    url = env.get("REDIS_URL", "").strip()
    if url:
        return {"broker_url": url, "task_always_eager": False}
    return {"broker_url": "memory://localhost/", "task_always_eager": True}
