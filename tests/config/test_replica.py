"""The read replica (config/replica.py): DATABASE_REPLICA_URL, the router, and a real streaming
replica that serves the reports while the tablets write to the primary."""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS

from config.env import databases_config
from config.replica import REPLICA, ReplicaRouter, reading_alias, replica_reads

PROJECT = Path(__file__).resolve().parents[2]
PRIMARY = "postgresql://app:hemligt@db1.example.internal:5432/stegvis"


def test_without_database_replica_url_there_is_only_the_primary():
    assert set(databases_config({"DATABASE_URL": PRIMARY}, PROJECT)) == {"default"}
    assert set(databases_config({"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": " "}, PROJECT)) == {"default"}


def test_database_replica_url_adds_a_replica_that_mirrors_the_primary_in_tests():
    databases = databases_config(
        {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "postgresql://app:hemligt@db2.example.internal:5433/stegvis"},
        PROJECT,
    )
    replica = databases[REPLICA]
    assert (replica["HOST"], replica["PORT"], replica["NAME"]) == ("db2.example.internal", 5433, "stegvis")
    assert replica["TEST"] == {"MIRROR": DEFAULT_DB_ALIAS}
    assert replica["OPTIONS"]["connect_timeout"] == 3


def test_a_replica_beside_sqlite_or_of_another_kind_is_refused_with_a_message():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL"):
        databases_config({"DATABASE_REPLICA_URL": "postgresql://db2.example.internal/stegvis"}, PROJECT)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL"):
        databases_config({"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "sqlite:///kopia.sqlite3"}, PROJECT)


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_the_router_sends_reads_in_a_report_to_the_replica_and_every_write_to_the_primary(settings):
    router = ReplicaRouter()
    settings.DATABASES = {**settings.DATABASES, REPLICA: {**settings.DATABASES["default"]}}
    assert router.db_for_read(None) == DEFAULT_DB_ALIAS
    with replica_reads():
        assert router.db_for_read(None) == REPLICA == reading_alias()
        assert router.db_for_write(None) == DEFAULT_DB_ALIAS
    assert router.db_for_read(None) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "participants") and not router.allow_migrate(REPLICA, "participants")


def test_without_a_replica_reads_in_a_report_stay_on_the_primary():
    with replica_reads():
        assert reading_alias() == DEFAULT_DB_ALIAS


def _postgres_bin() -> Path | None:
    found = os.environ.get("STEGVIS_PG_BIN") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:]), None)
    if found and (Path(found) / "pg_basebackup").exists():
        return Path(found)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Clusters:
    """A throw-away primary (initdb) and its streaming standby (pg_basebackup -R), run as the
    postgres user when the tests run as root (PostgreSQL refuses to run as root)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="stegvis-replica-"))
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.root, "postgres")
        self.primary_port, self.standby_port = _free_port(), _free_port()

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_owner, *command], check=True, capture_output=True, text=True, timeout=120)

    def start(self, data: str, port: int) -> None:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c hot_standby_feedback=on"
        self.run(str(self.bin / "pg_ctl"), "-D", data, "-l", f"{data}.log", "-w", "-o", options, "start")

    def stop_command(self, data: str) -> list[str]:
        return [*self.as_owner, str(self.bin / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]

    def up(self) -> None:
        primary, standby = str(self.root / "primary"), str(self.root / "standby")
        self.run(str(self.bin / "initdb"), "-D", primary, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start(primary, self.primary_port)
        self.run(
            str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", standby, "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        self.start(standby, self.standby_port)

    def down(self) -> None:
        for data in ("standby", "primary"):
            subprocess.run(self.stop_command(str(self.root / data)), capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def test_a_real_streaming_replica_serves_the_reports_and_the_tablets_write_to_the_primary():
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server programs (pg_basebackup, initdb) are needed for the replica test")
        pytest.skip("PostgreSQL's server programs (pg_basebackup, initdb) are not installed")
    clusters = Clusters(bin_dir)
    try:
        clusters.up()
        env = {
            **os.environ,
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{clusters.primary_port}/stegvis",
            "DATABASE_REPLICA_URL": f"postgresql://postgres@127.0.0.1:{clusters.standby_port}/stegvis",
            "STEGVIS_TEST_STANDBY_STOP": json.dumps(clusters.stop_command(str(clusters.root / "standby"))),
        }
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/config/replica_scenario.py", "-p", "no:cacheprovider", "-s"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        assert " passed" in result.stdout and " skipped" not in result.stdout, result.stdout[-3000:]
        print(next(line for line in result.stdout.splitlines() if line.startswith("readings:")))
    finally:
        clusters.down()
