"""API keys move from DRF's authtoken (stored in plaintext, never expiring) to participants.ApiKey
(SHA-256 only, expiring, bound to the user's roles).

Where the table authtoken_token exists (a database from before this change), each key becomes an
ApiKey that keeps working for 90 days from now under the user's current roles (unless those roles
need two-factor login: then the user makes a new key), the plaintext keys
are deleted and the table dropped, and authtoken's rows in django_migrations go with it, since the
app is no longer installed. On a fresh database only the last step runs, and finds nothing."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

LEGACY_TABLE = "authtoken_token"
LIFETIME = timedelta(days=90)  # settings.API_KEY_LIFETIME_DAYS's default, fixed as of this migration
PREFIX_LENGTH = 8
TWO_FACTOR_ROLES = ("coordinator", "admin")  # participants.access.TWO_FACTOR_ROLES as of this migration


def roles_fingerprint(is_superuser, rows):
    """participants.access.roles_fingerprint over rows (role, forbund_id, insats_id,
    can_read_identity), copied because a migration must not import app code: keep the two alike."""
    text = f"superuser={bool(is_superuser)};" + ";".join(sorted(map(str, rows)))
    return hashlib.sha256(text.encode()).hexdigest()


def hash_legacy_keys(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE in connection.introspection.table_names():
        _convert(apps, connection)
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()


def _convert(apps, connection):
    ApiKey = apps.get_model("participants", "ApiKey")
    Membership = apps.get_model("participants", "Membership")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    quote = connection.ops.quote_name
    table = quote(LEGACY_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, {quote('user_id')} FROM {table}")
        tokens = cursor.fetchall()

    user_ids = {user_id for _, user_id in tokens}
    superuser = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "is_superuser"))
    roles = {user_id: [] for user_id in user_ids}
    for user_id, *row in Membership.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "role", "forbund_id", "insats_id", "can_read_identity"
    ):
        roles[user_id].append(tuple(row))

    expires_at = timezone.now() + LIFETIME
    keys = []
    for raw, user_id in tokens:
        # A key made before two-factor login was required of its user's roles must not carry them:
        # coordinators, admins and superusers make a new key (after two-factor login); a mentor's
        # key keeps working under the roles the mentor holds now.
        needs_two_factor = superuser[user_id] or any(role in TWO_FACTOR_ROLES for role, *_ in roles[user_id])
        fingerprint = "" if needs_two_factor else roles_fingerprint(superuser[user_id], roles[user_id])
        keys.append(
            ApiKey(
                user_id=user_id,
                key_hash=hashlib.sha256(raw.encode()).hexdigest(),
                prefix=raw[:PREFIX_LENGTH],
                roles_fingerprint=fingerprint,
                expires_at=expires_at,
            )
        )
    ApiKey.objects.bulk_create(keys, batch_size=500)

    with connection.cursor() as cursor:
        # The page shows when a key was made: the token's date, not this migration's.
        apikey = quote(ApiKey._meta.db_table)
        cursor.execute(
            f"UPDATE {apikey} SET {quote('created_at')} = (SELECT {quote('created')} FROM {table} "
            f"WHERE {table}.{quote('user_id')} = {apikey}.{quote('user_id')}) "
            f"WHERE {quote('user_id')} IN (SELECT {quote('user_id')} FROM {table})"
        )
        sqlite = connection.vendor == "sqlite"
        if sqlite:
            # SQLite keeps deleted rows in its free pages until overwritten; make it zero them.
            cursor.execute("PRAGMA secure_delete")
            secure_delete = cursor.fetchone()[0]
            cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"DROP TABLE {table}")
        if sqlite:
            cursor.execute(f"PRAGMA secure_delete = {int(secure_delete)}")


class Migration(migrations.Migration):

    dependencies = [
        ("participants", "0005_access_policy"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(hash_legacy_keys, migrations.RunPython.noop),
    ]
