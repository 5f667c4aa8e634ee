import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from progression import rebuild
from progression.models import RebuildJob, RebuildPhase


class Command(BaseCommand):
    help = (
        "Recompute every dimension score, progression row and insats summary. Runs inline, or as a "
        "Celery group on the workers with --workers (progress is shown either way). With "
        "--recompute-reference and a --reason, a new norm set is made from the data first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recompute-reference",
            action="store_true",
            help="Make a new norm set (baseline SD, reliability) from the data before reclassifying.",
        )
        parser.add_argument("--reason", default="", help="Why new norms are made (stored with the norm set).")
        parser.add_argument("--by", default="", help="The username the new norm set is recorded as made by.")
        parser.add_argument("--chunk-size", type=int, default=rebuild.DEFAULT_CHUNK_SIZE)
        parser.add_argument("--workers", action="store_true", help="Run the chunks on the Celery workers.")

    def handle(
        self,
        *args: object,
        recompute_reference: bool,
        reason: str,
        by: str,
        chunk_size: int,
        workers: bool,
        **options: object,
    ) -> None:
        reason = reason.strip()
        if recompute_reference and not reason:
            raise CommandError('Nya normer kräver ett skäl: --reason "…" (det sparas med normversionen).')
        if reason and not recompute_reference:
            raise CommandError("--reason hör till --recompute-reference.")
        user = None
        if by:
            user = get_user_model().objects.filter(username=by).first()
            if user is None:
                raise CommandError(f"Okänd användare: {by}")
        try:
            job = rebuild.rebuild_run(
                new_norms_reason=reason if recompute_reference else "",
                new_norms_by=user,
                chunk_size=chunk_size,
                workers=workers,
                report=self.stdout.write,
            )
        except rebuild.PhaseOver as exc:
            raise CommandError(str(exc)) from exc
        if job is None:
            self.stdout.write(self.style.SUCCESS("Omräkningen är klar."))
            return
        while True:
            job = RebuildJob.objects.get(pk=job.pk)
            self.stdout.write(f"{job.get_phase_display()}: {job.chunks_done}/{job.chunks_total}")
            if job.phase in (RebuildPhase.DONE, RebuildPhase.FAILED, RebuildPhase.SUPERSEDED):
                break
            time.sleep(2)
        self.stdout.write(self.style.SUCCESS(f"Omräkningen är {job.get_phase_display().lower()}."))
