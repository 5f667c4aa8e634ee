from django.core.management.base import BaseCommand, CommandError, CommandParser

from surveys.models import InstrumentVersion, VersionStatus
from surveys.speech import instruction_texts, speech_generate, version_texts


class Command(BaseCommand):
    help = (
        "Generate the read-aloud audio (espeak-ng + lame) for the participant pages' instructions in every "
        "language and for every published instrument version; clips already made are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--instructions-only", action="store_true", help="Only the page instructions, not the instruments."
        )

    def handle(self, *args: object, **options: object) -> None:
        texts = instruction_texts()
        if not options["instructions_only"]:
            for version in InstrumentVersion.objects.filter(status=VersionStatus.PUBLISHED):
                texts |= version_texts(version)
        result = speech_generate(texts)
        if result.tools_missing:
            raise CommandError("espeak-ng eller lame saknas: installera Debianpaketen espeak-ng och lame")
        self.stdout.write(
            f"Uppläsning: {result.created} nya ljudfiler, {result.existing} fanns redan"
            + (f", {result.failed} misslyckades (se loggen)" if result.failed else "")
        )
        if result.failed:
            raise CommandError(f"{result.failed} ljudfiler kunde inte göras")
