"""Files an instrument definition attaches: recorded audio and pictograms (docs/instruments.md).

The loader checks each file when it reads the definition (it exists, has an allowed type by its
name *and* its content, and is not too large); the services copy it into Stegvis' own storage under
MEDIA_ROOT, named by a hash of its content, and surveys.media serves it from there. Nothing is ever
fetched from anywhere else.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# Audio every browser plays, iOS Safari included, by file name ending -> content type.
RECORDING_TYPES = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "m4a": "audio/mp4", "wav": "audio/wav"}
RECORDING_MAX_BYTES = 5 * 1024 * 1024  # a read question is seconds long; 5 MB is minutes of MP3
# SVGs are only ever shown through <img> and served with a sandboxing policy, so no script in one runs.
PICTOGRAM_TYPES = {"svg": "image/svg+xml", "png": "image/png", "webp": "image/webp"}
PICTOGRAM_MAX_BYTES = 512 * 1024
PICTOGRAM_DIR = "pictograms"


class AttachmentError(ValueError):
    """A file named in a definition cannot be used; the loader adds the file and key."""


@dataclass(frozen=True)
class Attachment:
    """A checked file: where it is now and the content-addressed name it is stored under."""

    path: Path
    digest: str  # SHA-256 of the content
    extension: str

    @property
    def name(self) -> str:
        return f"{self.digest[:24]}.{self.extension}"


def _looks_like(extension: str, head: bytes) -> bool:
    """The first bytes match the type the name claims (a renamed file is refused)."""
    if extension == "mp3":
        return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    if extension == "ogg":
        return head.startswith(b"OggS")
    if extension == "m4a":
        return head[4:8] == b"ftyp"
    if extension == "wav":
        return head.startswith(b"RIFF") and head[8:12] == b"WAVE"
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension == "webp":
        return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    if extension == "svg":
        text = head.decode("utf-8", errors="replace").lower()
        return "<svg" in text and "<script" not in text
    return False


def attachment_check(path: Path, *, types: dict[str, str], max_bytes: int) -> Attachment:
    """Check a named file; AttachmentError says what is wrong in Swedish."""
    extension = path.suffix.lower().removeprefix(".")
    if extension not in types:
        raise AttachmentError(f"filtypen '.{extension}' är inte tillåten (tillåtna: {', '.join(types)})")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise AttachmentError(f"{path} är ingen fil")
        if size > max_bytes:
            raise AttachmentError(f"{path} är för stor ({size // 1024} kB; högst {max_bytes // 1024} kB)")
        content = path.read_bytes()
    except FileNotFoundError as error:
        raise AttachmentError(f"filen {path} finns inte") from error
    except OSError as error:
        raise AttachmentError(f"{path} kan inte läsas ({error.strerror})") from error
    # An SVG is text: read it whole for the script check; binary types declare themselves up front.
    if not content or not _looks_like(extension, content if extension == "svg" else content[:16]):
        raise AttachmentError(f"{path} är ingen giltig .{extension}-fil")
    return Attachment(path=path, digest=hashlib.sha256(content).hexdigest(), extension=extension)


def write_atomically(target: Path, content: bytes) -> None:
    """Write a stored file so that a reader never sees half of it (a temporary file, then a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def pictogram_root() -> Path:
    return Path(settings.MEDIA_ROOT) / PICTOGRAM_DIR


def pictogram_store(attachment: Attachment) -> str:
    """Copy a checked pictogram into storage (once: the name is its content); returns the stored name."""
    target = pictogram_root() / attachment.name
    if not target.exists():
        write_atomically(target, attachment.path.read_bytes())
    return attachment.name
