"""The stegförflyttning report on the embedded SQLite database that scripts/run starts: its median
(a registered aggregate), dates and the statement the report runs work there too, not only on
PostgreSQL (a subprocess with its own database, like the token migration's test)."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SQLITE_SCRIPT = r"""
import json
from datetime import UTC, datetime, timedelta, date

import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)

import numpy as np
from progression import scoring
from progression.reports.filters import ReportFilter
from progression.reports.registry import build_report
from tests.progression.helpers import enrol, item_infos, norms_now, rating_answers, submit, world_create
from tests.surveys.factories import shipped_version, valid_answers

rng = np.random.default_rng(3)
version = shipped_version("stegvis-progression")
infos = item_infos(version)
world = world_create(insatser=1)
enrolments = [enrol(world, world.insatser[0]) for _ in range(6)]
for days, later in ((0, False), (40, False), (400, True)):
    for index, enrolment in enumerate(enrolments):
        for perspective in ("self", "mentor"):
            answers = valid_answers(version, perspective)
            effects = {info.dimension: 0.0 for info in infos}
            answers.update(rating_answers(rng, infos, perspective, index * 0.3 + days / 100, effects))
            moment = datetime(2025, 3, 1, 9, tzinfo=UTC) + timedelta(days=days + index)
            scoring.session_process(session_id=submit(world, enrolment, version, perspective, answers, moment).pk)
    if days == 0:
        norms_now(minimum_n=5)
# Half an hour into New Year's Day in Stockholm (still 31 December in UTC): after the period.
late = valid_answers(version, "mentor")
late.update(rating_answers(rng, infos, "mentor", 3.0, {info.dimension: 0.0 for info in infos}))
scoring.session_process(
    session_id=submit(world, enrolments[0], version, "mentor", late, datetime(2025, 12, 31, 23, 30, tzinfo=UTC)).pk
)
filters = ReportFilter(
    forbund=world.forbund, insatser=tuple(world.insatser), date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)
)
line = build_report("progression", filters=filters).data["dimensions"][0]
print(json.dumps({"n": line["n"], "months": line["months_median"], "classified": line["classified"]}))
"""


def test_the_progression_report_runs_on_the_embedded_sqlite_database(tmp_path):
    env = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Six enrolments measured twice in 2025 (40 days apart, median 1.3 months) and again in 2026,
    # counted in 2025 as they stood at its end; a reading at 00:30 on 1 January (local time) is not in 2025.
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"n": 6, "months": 1.3, "classified": 6}
