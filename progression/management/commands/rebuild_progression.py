import time

from django.core.management.base import BaseCommand, CommandParser

from config.celery import app as celery_app
from progression import rebuild
from progression.models import RebuildJob, RebuildPhase


class Command(BaseCommand):
    help = (
        "Recompute every dimension score, progression row and insats summary. Runs inline, or as a "
        "Celery group on the workers with --workers (progress is shown either way)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recompute-reference",
            action="store_true",
            help="Also recompute the reference statistics (baseline SD, α) first.",
        )
        parser.add_argument("--chunk-size", type=int, default=rebuild.DEFAULT_CHUNK_SIZE)
        parser.add_argument("--workers", action="store_true", help="Run the chunks on the Celery workers.")

    def handle(
        self, *args: object, recompute_reference: bool, chunk_size: int, workers: bool, **options: object
    ) -> None:
        if not workers or celery_app.conf.task_always_eager:
            rebuild.progression_rebuild_inline(
                recompute_reference=recompute_reference, chunk_size=chunk_size, report=self.stdout.write
            )
            self.stdout.write(self.style.SUCCESS("Omräkningen är klar."))
            return
        job = rebuild.rebuild_start(recompute_reference=recompute_reference, chunk_size=chunk_size)
        while True:
            job = RebuildJob.objects.get(pk=job.pk)
            self.stdout.write(f"{job.get_phase_display()}: {job.chunks_done}/{job.chunks_total}")
            if job.phase in (RebuildPhase.DONE, RebuildPhase.FAILED, RebuildPhase.SUPERSEDED):
                break
            time.sleep(2)
        self.stdout.write(self.style.SUCCESS(f"Omräkningen är {job.get_phase_display().lower()}."))
