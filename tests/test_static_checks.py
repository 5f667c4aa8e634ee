"""The style guide's tools run with the suite: mypy (with django-stubs and
djangorestframework-stubs, configured in pyproject.toml) at zero errors, ruff's lint and format
clean, and no model change without its migration."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).parent / "ruff"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_mypy_finds_no_errors_in_the_apps_and_config():
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-2_000:]
    assert "Success: no issues found" in result.stdout


def test_ruff_lint_and_format_are_clean():
    lint = _run(str(RUFF), "check", "--quiet", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = _run(str(RUFF), "format", "--check", "--quiet", ".")
    assert formatting.returncode == 0, "Kör ruff format:\n" + formatting.stdout + formatting.stderr


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail("Migration saknas (kör manage.py makemigrations):\n" + out.getvalue())
