"""Read-aloud clips: an audio file for every text a participant sees, in every language it exists in.

Each clip belongs to a (language key, text) pair, not to an instrument version, so identical texts
share one file: MEDIA_ROOT/speech/<language>/<key>.mp3, where <key> is a hash of the text. Two kinds:

- *generated*, with Debian's espeak-ng (the voice of the language's `html` code in config/languages.py:
  lättläst is read by the Swedish voice) and converted to MP3 with lame, which every browser plays,
  iOS Safari included. Made after an instrument is loaded and by `manage.py speech_generate`;
  without espeak-ng or lame nothing is made (a warning is logged) and the page's "Lyssna" buttons
  rely on the device's own voice.
- *recorded* by a förbund and attached in the instrument file (docs/instruments.md):
  MEDIA_ROOT/speech/<language>/inspelat/<key>.<content hash>.<type>. A recording wins over a
  generated clip of the same text.

surveys.media serves the clips; the `speech_audio` template filter finds the one for a text.
"""

import hashlib
import logging
import os
import re
import shutil
import subprocess  # noqa: S404 - espeak-ng and lame, by absolute path, never through a shell
import time
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from config.languages import BY_KEY, DEFAULT, PARTICIPANT_LANGUAGES
from surveys.attachments import Attachment, write_atomically
from surveys.models import ITEMS_ASKED_IN, AppliesTo, InstrumentVersion, Perspective

logger = logging.getLogger(__name__)

SPEECH_DIR = "speech"
RECORDED_DIR = "inspelat"
GENERATED_NAME = re.compile(r"[0-9a-f]{24}\.mp3")
RECORDED_NAME = re.compile(r"([0-9a-f]{24})\.[0-9a-f]{12}\.(?:mp3|ogg|m4a|wav)")
SPEAKING_RATE = "150"  # words a minute; espeak-ng's default of 175 is quick for someone new to Swedish
MP3_BITRATE = "48"  # kbit/s, mono: clear speech, a few kB a second
TOOL_TIMEOUT_SECONDS = 60

# The instructions on the participant's pages that have a "Lyssna" button of their own
# (surveys/templates/surveys/capture.html); their clips are made per language by speech_generate.
PAGE_INSTRUCTIONS = (
    gettext_noop("Det finns inga rätta eller felaktiga svar. Ta den tid du behöver."),
    gettext_noop("Dina svar är anonyma. Ingen kan se vem som har svarat. Hoppa över frågor du inte vill svara på."),
)


@dataclass
class SpeechResult:
    created: int = 0
    existing: int = 0
    failed: int = 0
    tools_missing: bool = False


def text_key(text: str) -> str:
    """The file name stem of a text's clips: the same text always gets the same name."""
    return hashlib.sha256(unicodedata.normalize("NFC", text.strip()).encode()).hexdigest()[:24]


def speech_root() -> Path:
    return Path(settings.MEDIA_ROOT) / SPEECH_DIR


def speech_tools() -> tuple[str, str] | None:
    """Paths of espeak-ng and lame, or None when either is missing."""
    espeak, lame = shutil.which("espeak-ng"), shutil.which("lame")
    return (espeak, lame) if espeak and lame else None


# --- Finding a clip -------------------------------------------------------------------------

# Per process: the clips in each language folder, with the folders' modification times when listed.
# A new clip changes its folder's time, so every process sees it on its next look (one stat per
# folder; no database query per button). A listing made while a folder is still changing is not kept.
_listings: dict[Path, tuple[tuple[int, int], dict[str, str]]] = {}
SETTLED_NS = 2_000_000_000


def _modified_ns(folder: Path) -> int:
    try:
        return folder.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _names(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(folder) if entry.is_file()]
    except FileNotFoundError:
        return []


def _clips(language: str) -> dict[str, str]:
    """text key -> the clip's name inside the language folder, a recording before a generated clip."""
    folder = speech_root() / language
    stamp = (_modified_ns(folder), _modified_ns(folder / RECORDED_DIR))
    listed = _listings.get(folder)
    if listed is not None and listed[0] == stamp:
        return listed[1]
    clips = {name[:24]: name for name in _names(folder) if GENERATED_NAME.fullmatch(name)}
    for name in _names(folder / RECORDED_DIR):
        match = RECORDED_NAME.fullmatch(name)
        if match:
            clips[match[1]] = f"{RECORDED_DIR}/{name}"
    if time.time_ns() - max(stamp) > SETTLED_NS:
        _listings[folder] = (stamp, clips)
    return clips


def speech_clip_url(*, language: str, text: str) -> str:
    """The URL of the clip reading `text` in `language` (a language key), or "" when there is none.

    A page shows the Swedish text where its language has none, so the Swedish clip is the fallback."""
    if not text or not text.strip():
        return ""
    key = text_key(text)
    for candidate in dict.fromkeys((language, DEFAULT.key)):
        name = _clips(candidate).get(key) if candidate in BY_KEY else None
        if name:
            return reverse("speech_clip", args=[candidate, name])
    return ""


def speech_clip_path(*, language: str, name: str) -> Path | None:
    """The stored file of a clip named in a URL, or None when it is not one (surveys.media)."""
    if language not in BY_KEY:
        return None
    recorded = name.startswith(f"{RECORDED_DIR}/")
    if not (RECORDED_NAME if recorded else GENERATED_NAME).fullmatch(name.removeprefix(f"{RECORDED_DIR}/")):
        return None
    path = speech_root() / language / name
    return path if path.is_file() else None


# --- Making clips ---------------------------------------------------------------------------


def recording_store(*, language: str, text: str, recording: Attachment) -> Path:
    """Keep a förbund's recording of a text; it replaces an earlier recording of the same text."""
    folder = speech_root() / language / RECORDED_DIR
    key = text_key(text)
    target = folder / f"{key}.{recording.digest[:12]}.{recording.extension}"
    if not target.exists():
        write_atomically(target, recording.path.read_bytes())
    for name in _names(folder):
        if name.startswith(f"{key}.") and name != target.name:
            (folder / name).unlink(missing_ok=True)
    return target


def _generate(tools: tuple[str, str], voice: str, text: str, target: Path) -> None:
    espeak, lame = tools
    wave = subprocess.run(  # noqa: S603 - fixed arguments; the text goes in on stdin
        [espeak, "-v", voice, "-s", SPEAKING_RATE, "--stdin", "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=TOOL_TIMEOUT_SECONDS,
    ).stdout
    mp3 = subprocess.run(  # noqa: S603
        [lame, "--quiet", "-m", "m", "-b", MP3_BITRATE, "-", "-"],
        input=wave,
        capture_output=True,
        check=True,
        timeout=TOOL_TIMEOUT_SECONDS,
    ).stdout
    if not mp3:
        raise ValueError("lame gave no audio")
    write_atomically(target, mp3)


def speech_generate(texts: Iterable[tuple[str, str]]) -> SpeechResult:
    """Generate the missing clips for (language key, text) pairs; those already made are kept."""
    result = SpeechResult()
    wanted = {(language, text.strip()) for language, text in texts if language in BY_KEY and text.strip()}
    tools = speech_tools()
    if tools is None:
        if wanted:
            logger.warning(
                "espeak-ng or lame is missing: no read-aloud audio generated for %d texts "
                "(install the Debian packages espeak-ng and lame); the pages use the device's own voice",
                len(wanted),
            )
        result.tools_missing = True
        return result
    missing = []
    for language, text in sorted(wanted):
        target = speech_root() / language / f"{text_key(text)}.mp3"
        if target.exists():
            result.existing += 1
        else:
            missing.append((language, text, target))

    def make(language: str, text: str, target: Path) -> bool:
        try:
            _generate(tools, BY_KEY[language].html, text, target)
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            logger.warning("Could not generate read-aloud audio (%s) for %r: %s", language, text[:60], error)
            return False
        return True

    # espeak-ng and lame are separate processes: a few at a time use the machine's cores.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        made = list(pool.map(lambda job: make(*job), missing))
    result.created, result.failed = made.count(True), made.count(False)
    return result


def _labels(texts: dict[str, str]) -> set[tuple[str, str]]:
    return {(language, text) for language, text in texts.items()}


def version_texts(version: InstrumentVersion) -> set[tuple[str, str]]:
    """Every (language, text) a participant sees in a version: the self wording of the items they are
    asked, their areas' names, and the stage labels, option labels and units of their scales."""
    items = version.items.filter(applies_to__in=ITEMS_ASKED_IN[Perspective.SELF]).select_related("dimension", "scale")
    texts: set[tuple[str, str]] = set()
    for item in items:
        texts |= _labels(item.texts[AppliesTo.SELF]) | _labels(item.dimension.label) | _labels(item.scale.unit)
        for entry in (*item.scale.stages, *item.scale.options):
            texts |= _labels(entry["label"])
    return texts


def instruction_texts() -> set[tuple[str, str]]:
    """The page instructions in every participant language, as Django's catalogues translate them.
    A language without a translation shows the Swedish text, whose Swedish clip serves it."""
    texts = set()
    for language in PARTICIPANT_LANGUAGES:
        with translation.override(language.code):
            for message in PAGE_INSTRUCTIONS:
                text = gettext(message)
                if text != message or language.html == DEFAULT.html:
                    texts.add((language.key, text))
    return texts


def speech_generate_for_version(*, version: InstrumentVersion) -> SpeechResult:
    """The clips of one instrument version and of the pages' instructions, which its forms show
    (called when an instrument has been loaded)."""
    return speech_generate(version_texts(version) | instruction_texts())
