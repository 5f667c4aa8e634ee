"""The README's first command, as a newcomer runs it: the embedded default (SQLite, Celery eager,
no Redis) migrated and seeded with the demo data, then the main pages as each demo role. The only
test on SQLite (the rest of the suite runs on PostgreSQL); it runs in processes of its own with a
database file of its own (STEGVIS_SQLITE_PATH), so the developer's db.sqlite3 is never touched."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
CONFIG_NAMES = ("DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def test_the_run_path_on_sqlite_migrates_seeds_and_serves_every_role_its_pages(tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in CONFIG_NAMES}
    env |= {"STEGVIS_SQLITE_PATH": str(tmp_path / "db.sqlite3"), "DEBUG": "1", "STEGVIS_REQUIRE_2FA": "0"}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(PROJECT)}
    own = PROJECT / "db.sqlite3"
    own_before = own.stat().st_mtime_ns if own.exists() else None

    _run(["manage.py", "migrate", "--no-input", "-v0"], env)
    seeded = _run(["manage.py", "seed_demo"], env)
    assert (tmp_path / "db.sqlite3").exists()
    plan = re.search(r"öppna (/min-plan/\S+/)", seeded)
    logins = re.findall(r"^  (\S+)\s+(handledare|samordnare|administratör)\s", seeded, re.MULTILINE)
    assert plan and len(logins) >= 3, seeded

    crawled = json.loads(_run(["tests/config/embedded_crawl.py", plan.group(1)], env).strip().splitlines()[-1])

    for username, role in logins:
        pages = crawled[username]["pages"]
        assert pages["/"] == 200, (username, role, pages)
        assert len(pages) >= 3, (username, role, pages)  # the start page and what its menu links to
        assert crawled[username]["failed"] == {}, (username, role, crawled[username]["failed"])
    assert crawled["(utan inloggning)"]["pages"] == {plan.group(1): 200}
    assert (own.stat().st_mtime_ns if own.exists() else None) == own_before  # the developer's file untouched
