"""Embedded default vs DATABASE_URL/REDIS_URL, and production settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from config.env import celery_config, database_config, env_bool, env_list

PROJECT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL}))"
)
CONFIG_NAMES = (
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "STEGVIS_FIELD_KEYS",
    "STEGVIS_PNR_PEPPER",
)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_NAMES and k != "DJANGO_SETTINGS_MODULE"}
    return {**env, **extra}


def _settings_in_subprocess(**extra: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=PROJECT,
        env=_clean_env(DJANGO_SETTINGS_MODULE="config.settings", **extra),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_is_sqlite_in_project_folder_and_eager_celery():
    loaded = _settings_in_subprocess()
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(PROJECT / "db.sqlite3")
    assert loaded["eager"] is True
    assert loaded["broker"] == "memory://localhost/"


def test_database_url_and_redis_url_switch_to_postgresql_and_a_real_broker():
    loaded = _settings_in_subprocess(
        DATABASE_URL="postgresql://stegvis:hemligt@db.example.internal:5433/stegvis_prod",
        REDIS_URL="redis://cache.example.internal:6379/2",
    )
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "stegvis_prod"
    assert loaded["eager"] is False
    assert loaded["broker"] == "redis://cache.example.internal:6379/2"


def test_database_config_parses_every_part_of_the_url():
    config = database_config({"DATABASE_URL": "postgresql://u:p@h:5433/db"}, PROJECT)
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "u",
        "p",
        "h",
        5433,
        "db",
    )
    assert database_config({"DATABASE_URL": "  "}, PROJECT)["ENGINE"] == "django.db.backends.sqlite3"


def test_celery_config_and_env_helpers():
    assert celery_config({}) == {"broker_url": "memory://localhost/", "task_always_eager": True}
    assert celery_config({"REDIS_URL": "redis://x:1/0"})["task_always_eager"] is False
    assert env_bool({"DEBUG": "yes"}, "DEBUG", False) is True
    assert env_bool({"DEBUG": ""}, "DEBUG", True) is True
    assert env_bool({"DEBUG": "0"}, "DEBUG", True) is False
    assert env_list({"HOSTS": "a, b,,c"}, "HOSTS", []) == ["a", "b", "c"]


def _production_env() -> dict[str, str]:
    return _clean_env(
        DJANGO_SETTINGS_MODULE="config.settings_production",
        SECRET_KEY=Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        STEGVIS_FIELD_KEYS=Fernet.generate_key().decode(),
        STEGVIS_PNR_PEPPER="prod-pepper-" + Fernet.generate_key().decode(),
        DATABASE_URL="postgresql://stegvis@127.0.0.1:5432/stegvis",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="stegvis.example.se",
    )


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=_production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_development_keys():
    env = _production_env()
    del env["STEGVIS_FIELD_KEYS"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "STEGVIS_FIELD_KEYS must be set in production" in result.stderr
