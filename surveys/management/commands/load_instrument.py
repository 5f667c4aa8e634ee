from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.loading import InstrumentDefinitionError, load_summary, read_definition_file
from surveys.services import instrument_load


class Command(BaseCommand):
    help = "Load instrument definition files (YAML, docs/instruments.md); a changed file becomes a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="Instrument definition file (.yaml)")

    def handle(self, *args: object, files: list[str], **options: object) -> None:
        try:
            # Check every file before loading any, so a typo in one file leaves the database as it was.
            definitions = [read_definition_file(path) for path in files]
            for definition in definitions:
                version, created = instrument_load(definition=definition)
                self.stdout.write(load_summary(definition=definition, version_number=version.number, created=created))
        except InstrumentDefinitionError as error:
            raise CommandError(str(error)) from error
