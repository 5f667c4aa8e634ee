from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def sqlite_median_register(sender: Any, connection: Any, **kwargs: Any) -> None:
    """The embedded SQLite database has no median; the stegförflyttning report asks for one."""
    if connection.vendor == "sqlite":
        from progression.reports.statistics import SqliteMedian

        connection.connection.create_aggregate("MEDIAN", 1, SqliteMedian)


class ProgressionConfig(AppConfig):
    name = "progression"
    verbose_name = "Stegförflyttning och rapporter"

    def ready(self) -> None:
        from participants import hooks as participant_hooks
        from progression import derived_tables, hooks, navigation
        from surveys import hooks as survey_hooks

        survey_hooks.SESSION_SUBMITTED_HANDLERS.append(hooks.enqueue_session_processing)
        participant_hooks.ENROLMENT_LINKS.append(navigation.journey_links)
        participant_hooks.EXPORT_SECTIONS.append(navigation.goals_export_section)
        participant_hooks.COORDINATOR_START.append(navigation.report_dashboard_url)
        participant_hooks.DERIVED_DATA_LOCKS.append(derived_tables.rebuild_lock)
        participant_hooks.PROGRESSION_WITHDRAWAL_HANDLERS.append(hooks.progression_after_withdrawal)
        participant_hooks.ERASURE_HANDLERS.append(hooks.plan_texts_erase)
        participant_hooks.FORBUND_TEXT_FIELDS.extend(hooks.forbund_text_fields())
        connection_created.connect(sqlite_median_register)
