"""manage.py load_instrument FILE [FILE ...]"""

from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from surveys.models import Instrument, InstrumentVersion
from tests.surveys.factories import definition_data, item_data

pytestmark = pytest.mark.django_db


def _write(path, data):
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _run(*paths):
    out = StringIO()
    call_command("load_instrument", *[str(path) for path in paths], stdout=out)
    return out.getvalue()


def test_load_reports_published_then_unchanged_then_a_new_version(tmp_path):
    path = _write(tmp_path / "test.yaml", definition_data())
    assert _run(path) == "test-instrument: version 1 publicerad (2 dimensioner, 5 frågor)\n"
    assert _run(path) == "test-instrument: oförändrad (version 1)\n"
    data = definition_data()
    item_data(data, "kontakt")["required"] = False
    _write(path, data)
    assert _run(path) == "test-instrument: version 2 publicerad (2 dimensioner, 5 frågor)\n"


def test_one_bad_file_stops_the_command_before_anything_is_loaded(tmp_path):
    good = _write(tmp_path / "bra.yaml", definition_data())
    broken = definition_data(code="annat")
    del broken["scales"][0]["stages"]
    bad = _write(tmp_path / "fel.yaml", broken)
    with pytest.raises(CommandError, match=r"fel\.yaml: scales\[stege\]: saknar nyckeln 'stages'"):
        _run(good, bad)
    assert not Instrument.objects.exists()
    assert not InstrumentVersion.objects.exists()
