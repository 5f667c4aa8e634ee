from django.core.management.base import BaseCommand, CommandParser

from participants.services import identity_retention_erase


class Command(BaseCommand):
    help = "Erase identity data N years after the last avslut (per förbund). Use --dry-run to list first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only list who would be erased.")

    def handle(self, *args: object, dry_run: bool = False, **options: object) -> None:
        pseudonyms = identity_retention_erase(dry_run=dry_run)
        verb = "skulle raderas" if dry_run else "raderade"
        for pseudonym in pseudonyms:
            self.stdout.write(f"  {pseudonym}")
        self.stdout.write(f"{len(pseudonyms)} identiteter {verb}.")
