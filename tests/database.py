"""The test database as migrations left it, for test modules that run their own live server and
commit rows (the browser tests, the API fuzzing, the visual test of the reports)."""


def reseed_migration_data() -> None:
    """Put back what data migrations seed (code lists, default cost parameters, studiemedel's).

    pytest-django's live_server helper asks for transactional_db before the suite's autouse fixtures
    run, so its flush comes *after* tests/conftest.py's reseed of the code lists."""
    from importlib import import_module

    from django.apps import apps

    import_module("participants.migrations.0002_seed_code_lists").seed(apps, None)
    import_module("progression.migrations.0004_default_cost_parameter").seed(apps, None)
    import_module("progression.migrations.0009_cost_public_share").studiemedel(apps, None)


def restore_migrated_database() -> None:
    """Empty every table, then put back the very rows Django serialized after migrating when it did
    (some test asked for serialized_rollback: content types and permissions keep their ids), else
    reseed what data migrations seed."""
    from django.core.management import call_command
    from django.db import connection

    snapshot = getattr(connection, "_test_serialized_contents", None)
    if snapshot:
        call_command("flush", verbosity=0, interactive=False, reset_sequences=False, inhibit_post_migrate=True)
        connection.creation.deserialize_db_from_string(snapshot)
    else:
        call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
        reseed_migration_data()
