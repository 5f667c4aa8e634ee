"""The instruments Stegvis ships, loaded for the demo (and for a fresh installation). Idempotent."""

from pathlib import Path

from surveys.loading import load_summary, read_definition_file
from surveys.services import instrument_load

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
SHIPPED_INSTRUMENTS = ("stegvis-progression.yaml", "nns-pagaende.yaml", "nns-avslut.yaml")


def seed_instruments() -> list[str]:
    """Load the shipped instrument files; returns one summary line per instrument."""
    definitions = [read_definition_file(INSTRUMENTS_DIR / name) for name in SHIPPED_INSTRUMENTS]
    lines = []
    for definition in definitions:
        version, created = instrument_load(definition=definition)
        lines.append(load_summary(definition=definition, version_number=version.number, created=created))
    return lines
