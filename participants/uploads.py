"""Import files between the preview and the import: encrypted at rest with the identity vault's keys
(they hold personnummer), readable by the server process only (mode 0600), deleted after the import,
on Avbryt, after UPLOAD_LIFETIME, and when a person in them is erased."""

import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import connection
from django.utils import timezone

from participants import crypto
from participants.models import Forbund
from participants.personnummer import PersonnummerError, parse_personnummer

UPLOAD_LIFETIME = timedelta(hours=24)


def _directory() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _path(forbund_id: int, token: str) -> Path:
    if not token.isalnum():
        raise ValueError("Ogiltig importnyckel.")
    return _directory() / f"{forbund_id}-{token}.upload"


def upload_store(*, forbund: Forbund, content: bytes) -> str:
    """Keep an uploaded file until the importer confirms; returns the token naming it."""
    token = secrets.token_hex(16)
    path = _path(forbund.pk, token)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(crypto.encrypt_bytes(content))
    return token


def upload_read(*, forbund: Forbund, token: str) -> bytes | None:
    """The file's content, or None when it is gone (imported, cancelled, expired or erased)."""
    path = _path(forbund.pk, token)
    try:
        return crypto.decrypt_bytes(path.read_bytes())
    except (FileNotFoundError, InvalidToken):
        return None


def upload_delete(*, forbund: Forbund, token: str) -> None:
    _path(forbund.pk, token).unlink(missing_ok=True)


def uploads_expire(*, now: datetime | None = None) -> int:
    """Delete uploads older than UPLOAD_LIFETIME (a preview never imported); returns how many."""
    cutoff = (now or timezone.now()).timestamp() - UPLOAD_LIFETIME.total_seconds()
    expired = [path for path in _directory().glob("*.upload") if path.stat().st_mtime < cutoff]
    for path in expired:
        path.unlink(missing_ok=True)
    return len(expired)


def uploads_erase_person(*, forbund: Forbund, normalised_personnummer: str) -> int:
    """Delete the förbund's waiting uploads that hold the person's personnummer (erasure)."""
    from participants.importing import ImportFileError, read_rows

    erased = 0
    for path in _directory().glob(f"{forbund.pk}-*.upload"):
        try:
            rows = read_rows(crypto.decrypt_bytes(path.read_bytes()))
        except (ImportFileError, ValueError, InvalidToken):
            rows = []
        for row in rows[1:]:
            try:
                found = row and parse_personnummer(row[0]).normalised == normalised_personnummer
            except PersonnummerError:
                found = False
            if found:
                path.unlink(missing_ok=True)
                erased += 1
                break
    return erased


def imports_lock(forbund: Forbund) -> None:
    """One import per förbund at a time, and no erasure in the förbund while one runs (a PostgreSQL
    advisory lock, released at commit): two uploads of the same file cannot both create the same
    people, and a person erased while an import waits is not registered again from its file."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7301, forbund.pk])


def upload_exists(*, forbund: Forbund, token: str) -> bool:
    return _path(forbund.pk, token).exists()


def upload_touch(*, forbund: Forbund, token: str) -> None:
    """The file counts as uploaded now (uploads_expire keeps it UPLOAD_LIFETIME from here)."""
    os.utime(_path(forbund.pk, token))
