"""Personal API keys (participants/api_keys.py): created on the "API-nyckel" page, shown once, stored
as a hash only, replaced, revoked, expiring, and refused once the user's roles change."""

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participants.api_keys import api_key_create, api_key_revoke
from participants.models import ApiKey, Membership, Role
from tests.factories import MembershipFactory, UserFactory, registry_world

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world():
    return registry_world()


def _create_key(client) -> str:  # noqa: ANN001
    response = client.post(reverse("api_token"), {"action": "create"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'value="([0-9a-f]{40})"', response.text).group(1)
    return key


def _api(key: str):  # noqa: ANN202
    """A client with no session: only the key can authenticate it."""
    return Client().get(reverse("api_insats_list"), HTTP_AUTHORIZATION=f"Token {key}")


def _refused(key: str) -> str:
    """The 401 a key gets, as its detail."""
    response = _api(key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"detail"}
    return response.json()["detail"]


def test_key_is_created_on_the_page_used_replaced_and_revoked(client, world):
    client.force_login(world.mentor_jonsbo)
    page = client.get(reverse("api_token"))
    assert page.status_code == 200
    assert "Du har ingen API-nyckel" in page.text

    key = _create_key(client)
    response = _api(key)
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["jonsbo"]  # the mentor's own scope

    page = client.get(reverse("api_token"))
    assert f"Du har en API-nyckel som börjar med <code>{key[:8]}</code>" in page.text
    assert key not in page.text  # shown once, when created
    assert "Gäller till" in page.text and "Senast använd" in page.text
    assert "Inte använd än" not in page.text  # it has just been used

    new_key = _create_key(client)
    assert new_key != key
    assert "okänd eller återkallad" in _refused(key)
    assert _api(new_key).status_code == 200
    assert ApiKey.objects.filter(user=world.mentor_jonsbo).count() == 1

    response = client.post(reverse("api_token"), {"action": "revoke"}, follow=True)
    assert "återkallad" in response.text
    assert not ApiKey.objects.filter(user=world.mentor_jonsbo).exists()
    assert "okänd eller återkallad" in _refused(new_key)


def test_only_the_keys_hash_is_stored(world):
    stored, key = api_key_create(user=world.mentor_jonsbo)
    row = ApiKey.objects.filter(pk=stored.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:8]
    assert not [name for name, value in row.items() if isinstance(value, str) and key in value]


def test_a_key_carries_its_users_scope_and_roles(client, world):
    client.force_login(world.coordinator_sco)
    key = _create_key(client)
    codes = [row["code"] for row in _api(key).json()["results"]]
    assert codes == ["backaberg", "jonsbo"]
    client.force_login(UserFactory(username="utan-roll"))
    assert _api(_create_key(client)).status_code == 403  # any logged-in user may hold a key; roles still apply


def test_a_key_expires_after_the_configured_lifetime(client, world, settings):
    settings.API_KEY_LIFETIME_DAYS = 30
    stored, key = api_key_create(user=world.mentor_jonsbo)
    assert abs(stored.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert _api(key).status_code == 200

    expired = timezone.now() - timedelta(minutes=1)
    ApiKey.objects.filter(pk=stored.pk).update(expires_at=expired)

    detail = _refused(key)
    assert detail == f"API-nyckeln gick ut {timezone.localdate(expired).isoformat()}; skapa en ny på sidan API-nyckel."
    client.force_login(world.mentor_jonsbo)
    assert detail in client.get(reverse("api_token")).text  # the page says so too


def test_a_key_stops_working_when_its_users_roles_change(client, world):
    """The issue's case: a mentor's key, made with a password only, must not carry the coordinator
    role given later (which needs the two-factor step), nor survive a role taken away."""
    _, key = api_key_create(user=world.mentor_jonsbo)
    assert _api(key).status_code == 200

    coordinator = MembershipFactory(user=world.mentor_jonsbo, role=Role.COORDINATOR, forbund=world.sco)
    expected = "API-nyckeln gäller inte längre eftersom dina behörigheter har ändrats; skapa en ny på sidan API-nyckel."
    client.force_login(world.mentor_jonsbo)
    assert expected in client.get(reverse("api_token")).text
    assert _refused(key) == expected

    coordinator.delete()  # the key was revoked, not suspended: the old roles coming back do not revive it
    assert _refused(key) == "API-nyckeln är okänd eller återkallad. Skapa en ny på sidan API-nyckel."
    assert not ApiKey.objects.filter(user=world.mentor_jonsbo).exists()
    _, key = api_key_create(user=world.mentor_jonsbo)
    Membership.objects.filter(user=world.mentor_jonsbo).update(can_read_identity=True)
    assert _refused(key) == expected
    world.mentor_jonsbo.is_superuser = True
    world.mentor_jonsbo.save()
    _, key = api_key_create(user=world.mentor_jonsbo)
    world.mentor_jonsbo.is_superuser = False
    world.mentor_jonsbo.save()
    assert _refused(key) == expected


def test_a_key_of_an_inactive_user_is_refused(world):
    _, key = api_key_create(user=world.mentor_jonsbo)
    world.mentor_jonsbo.is_active = False
    world.mentor_jonsbo.save()
    assert _refused(key) == "Användarkontot som API-nyckeln hör till är inaktiverat."


def test_last_used_is_written_at_most_once_an_hour(world):
    stored, key = api_key_create(user=world.mentor_jonsbo)
    assert stored.last_used_at is None
    _api(key)
    first = ApiKey.objects.get(pk=stored.pk).last_used_at
    assert first is not None
    _api(key)
    assert ApiKey.objects.get(pk=stored.pk).last_used_at == first

    ApiKey.objects.filter(pk=stored.pk).update(last_used_at=first - timedelta(hours=2))
    _api(key)
    assert ApiKey.objects.get(pk=stored.pk).last_used_at > first


def test_revoking_without_a_key_says_so(world):
    assert api_key_revoke(user=world.mentor_jonsbo) is False
    api_key_create(user=world.mentor_jonsbo)
    assert api_key_revoke(user=world.mentor_jonsbo) is True


def test_page_needs_a_login_and_the_nav_links_to_it(client, world):
    response = client.get(reverse("api_token"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    client.force_login(world.mentor_jonsbo)
    assert f'href="{reverse("api_token")}"' in client.get(reverse("mentor_home")).text


def test_page_explains_when_a_key_stops_working(client, world, settings):
    settings.API_KEY_LIFETIME_DAYS = 90
    client.force_login(world.mentor_jonsbo)
    text = client.get(reverse("api_token")).text
    assert "90 dagar" in text
    assert "behörigheter ändras" in text


def test_no_credentials_is_a_401_that_names_the_problem(world):
    """The tablet's outbox keeps its readings and asks the mentor to log in again on a 401."""
    response = Client().get(reverse("api_insats_list"))
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    assert response["WWW-Authenticate"] == "Token"
    assert Client().get(reverse("api_insats_list"), HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 401


@pytest.mark.two_factor
def test_a_coordinator_gets_a_key_only_after_the_two_factor_step_and_the_key_then_works(client, world):
    client.force_login(world.coordinator_sco)  # password only, no TOTP code yet
    for response in (client.get(reverse("api_token")), client.post(reverse("api_token"), {"action": "create"})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("two_factor"))
    assert not ApiKey.objects.exists()
    _, key = api_key_create(user=world.coordinator_sco)  # as if made after a verified login
    assert _api(key).status_code == 200


# --- The migration from DRF's plaintext tokens (participants/migrations/0006_api_keys_hashed.py) ----

MIGRATION = import_module("participants.migrations.0006_api_keys_hashed")


def test_migration_hashes_plaintext_tokens_drops_their_table_and_authtokens_history(world):
    """On PostgreSQL, with the table as DRF's authtoken migrations left it."""
    mentor, coordinator = world.mentor_jonsbo, world.coordinator_sco
    made = timezone.now() - timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL, "
            "user_id integer NOT NULL UNIQUE REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s), (%s, %s, %s)",
            ["a" * 40, made, mentor.pk, "b" * 40, made, coordinator.pk],
        )
        # Rows inserted in this same transaction leave FK checks pending, which DROP TABLE refuses;
        # a real database's tokens were inserted long before.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    MigrationRecorder(connection).record_applied("authtoken", "0001_initial")

    with connection.schema_editor() as editor:
        MIGRATION.hash_legacy_keys(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    assert not MigrationRecorder(connection).migration_qs.filter(app="authtoken").exists()
    key = ApiKey.objects.get(user=mentor)
    assert (key.key_hash, key.prefix) == (hashlib.sha256(b"a" * 40).hexdigest(), "a" * 8)
    assert key.created_at == made
    assert abs(key.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    # The copied fingerprint is access.roles_fingerprint's: a mentor's old key keeps working ...
    assert [row["code"] for row in _api("a" * 40).json()["results"]] == ["jonsbo"]
    # ... while a coordinator's, made before two-factor login was asked of them, does not.
    assert "behörigheter har ändrats" in _refused("b" * 40)


def test_migration_does_nothing_on_a_database_that_never_had_the_table(world):
    with connection.schema_editor() as editor:
        MIGRATION.hash_legacy_keys(apps, editor)
    assert not ApiKey.objects.exists()


SQLITE_SCRIPT = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.contrib.auth import get_user_model

call_command("migrate", verbosity=0)
call_command("migrate", "participants", "0005", verbosity=0)  # as a database from before this change
user = get_user_model().objects.create(username="integration")
with connection.cursor() as cursor:
    cursor.execute(
        'CREATE TABLE "authtoken_token" ("key" varchar(40) NOT NULL PRIMARY KEY, "created" datetime NOT NULL, '
        '"user_id" integer NOT NULL UNIQUE REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)'
    )
    cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", ["c" * 40, "2025-01-02 03:04:05", user.pk])
    cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001_initial', %s)",
                   ["2025-01-01 00:00:00"])
call_command("migrate", verbosity=0)
from participants.api_keys import api_key_authenticate
from participants.models import ApiKey
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'authtoken'")
    history = cursor.fetchone()[0]
key = ApiKey.objects.get()
print(json.dumps({
    "tables": "authtoken_token" in connection.introspection.table_names(),
    "history": history,
    "created": key.created_at.isoformat(),
    "user": api_key_authenticate(raw="c" * 40).username,
}))
"""


def test_migration_works_on_sqlite_as_the_embedded_demo_runs(tmp_path):
    database = tmp_path / "demo.sqlite3"
    env = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"tables": False, "history": 0, "created": "2025-01-02T03:04:05+00:00", "user": "integration"}
    assert b"c" * 40 not in database.read_bytes()  # no plaintext left in the file's free pages either
