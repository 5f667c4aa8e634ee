from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from participants.importing import ImportFileError, import_enrolments
from participants.models import Forbund


class Command(BaseCommand):
    help = "Import participants and enrolments from CSV or XLSX (docs/import.md). All rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--forbund", required=True, help="The förbund's code, e.g. sco.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and report; store nothing.")
        parser.add_argument(
            "--user",
            required=True,
            help="The user who imports: their access applies (coordinator or admin of the whole förbund, and "
            "identity access for rows with a personnummer), and they are recorded as who registered the consents.",
        )

    def handle(self, *args: object, file: Path, forbund: str, dry_run: bool, user: str, **options: object) -> None:
        target = Forbund.objects.filter(code=forbund).first()
        if target is None:
            raise CommandError(f"Okänt förbund: {forbund}")
        if not file.exists():
            raise CommandError(f"Filen finns inte: {file}")
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"Ingen aktiv användare heter {user}.")
        shown = [0]

        def show_progress(percent: int) -> None:  # every tenth on stderr, so that stdout stays the result
            if percent >= shown[0] + 10:
                shown[0] = percent - percent % 10
                self.stderr.write(f"{'Granskar' if dry_run else 'Importerar'} … {shown[0]} %")

        try:
            result = import_enrolments(
                content=file.read_bytes(), forbund=target, by=actor, dry_run=dry_run, progress=show_progress
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        for error in result.errors:
            self.stdout.write(f"Rad {error.row}, {error.column}: {error.message}")
        if result.errors:
            raise CommandError(f"{len(result.errors)} fel i {result.rows} rader. Inget importerades.")
        prefix = "Provkörning, inget sparades. " if dry_run else "Importerat. "
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}{result.rows} rader: {result.participants_created} nya deltagare, "
                f"{result.enrolments_created} nya inskrivningar, {result.enrolments_updated} uppdaterade, "
                f"{result.enrolments_unchanged} oförändrade."
            )
        )
