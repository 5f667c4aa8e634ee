"""docs/instruments.md stays true: its example is a definition the loader accepts."""

import re
from pathlib import Path

from surveys.loading import parse_definition_text


def test_the_example_in_the_documentation_is_a_valid_definition():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "instruments.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", docs, re.DOTALL).group(1)
    parsed = parse_definition_text(example, source="docs/instruments.md")
    assert [d.code for d in parsed.dimensions] == ["halsa", "prognos", "aktivitet"]
    assert {s.code: s.kind for s in parsed.scales} == {
        "stege": "ladder",
        "timmar": "number",
        "prognos": "choice",
    }
