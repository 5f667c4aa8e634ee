"""Read instrument definition files (YAML, see docs/instruments.md) into plain dataclasses.

Nothing here touches the database: parsing checks the whole definition and raises
InstrumentDefinitionError naming the file and the key, so an operator can fix the file before
anything is loaded. services.instrument_load writes a parsed definition.
"""

import hashlib
import json
import re
from collections.abc import Callable, Set
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from surveys.attachments import (
    PICTOGRAM_MAX_BYTES,
    PICTOGRAM_TYPES,
    RECORDING_MAX_BYTES,
    RECORDING_TYPES,
    Attachment,
    AttachmentError,
    attachment_check,
)
from surveys.models import LANGUAGES, AppliesTo, InstrumentPurpose, ScaleKind

CODE_PATTERN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
CODE_MAX_LENGTH = 60
WORDINGS = (AppliesTo.SELF.value, AppliesTo.MENTOR.value)
WORDING_SELF = AppliesTo.SELF.value  # the wording a participant reads, and hears
# The keys each kind of scale has besides code and kind (docs/instruments.md).
SCALE_KEYS: dict[str, set[str]] = {
    ScaleKind.LADDER: {"min", "max", "stages"},
    ScaleKind.CHOICE: {"options"},
    ScaleKind.YES_NO: set(),
    ScaleKind.NUMBER: {"min", "max"},
}


class InstrumentDefinitionError(ValueError):
    """A definition file is malformed; the message names the file and the key."""


# Field metadata for the content hash: NOT_HASHED fields (where an attached file is now, recorded
# audio, which belongs to a text rather than to a version) never count; OMITTED_WHEN_EMPTY fields
# count only when given, so a file without pictograms keeps the hash it had before they existed.
NOT_HASHED = {"hashed": False}
OMITTED_WHEN_EMPTY = {"omitted_when_empty": True}


@dataclass(frozen=True)
class PictogramDefinition:
    """A picture shown with an item or option; `file` is its stored, content-addressed name."""

    file: str
    alt: dict[str, str]
    source: Attachment = field(metadata=NOT_HASHED)


@dataclass(frozen=True)
class StageDefinition:
    first: int
    last: int
    label: dict[str, str]
    audio: dict[str, Attachment] = field(default_factory=dict, metadata=NOT_HASHED)


@dataclass(frozen=True)
class OptionDefinition:
    value: int
    label: dict[str, str]
    positive: bool
    pictogram: PictogramDefinition | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    audio: dict[str, Attachment] = field(default_factory=dict, metadata=NOT_HASHED)


# yes_no scales always answer 1 = Ja, 0 = Nej; "Ja" is the positive answer.
YES_NO_OPTIONS = (
    OptionDefinition(value=1, label={"sv": "Ja", "en": "Yes", "sv_lattlast": "Ja", "ar": "نعم"}, positive=True),
    OptionDefinition(value=0, label={"sv": "Nej", "en": "No", "sv_lattlast": "Nej", "ar": "لا"}, positive=False),
)


@dataclass(frozen=True)
class ScaleDefinition:
    code: str
    kind: str
    min_value: int | None
    max_value: int | None
    unit: dict[str, str]
    stages: tuple[StageDefinition, ...]
    options: tuple[OptionDefinition, ...]


@dataclass(frozen=True)
class ItemDefinition:
    code: str
    scale: str
    texts: dict[str, dict[str, str]]
    reverse_coded: bool
    required: bool
    pictogram: PictogramDefinition | None = field(default=None, metadata=OMITTED_WHEN_EMPTY)
    audio: dict[str, Attachment] = field(default_factory=dict, metadata=NOT_HASHED)

    @property
    def applies_to(self) -> str:
        """An item is asked in the perspectives it has a wording for."""
        if len(self.texts) == len(WORDINGS):
            return AppliesTo.BOTH
        return next(iter(self.texts))


@dataclass(frozen=True)
class DimensionDefinition:
    code: str
    label: dict[str, str]
    is_rating: bool
    items: tuple[ItemDefinition, ...]


@dataclass(frozen=True)
class InstrumentDefinition:
    code: str
    name: str
    purpose: str
    scales: tuple[ScaleDefinition, ...]
    dimensions: tuple[DimensionDefinition, ...]
    source: str

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the scales, dimensions and items as canonical JSON.

        Comments, layout, key order and the instrument's name do not change it; any text,
        value, flag or order that a session depends on does.
        """
        content = {"scales": _hashed(self.scales), "dimensions": _hashed(self.dimensions)}
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def item_count(self) -> int:
        return sum(len(dimension.items) for dimension in self.dimensions)

    def pictograms(self) -> list[PictogramDefinition]:
        """Every pictogram the definition attaches, to items and options."""
        attached = [item.pictogram for dimension in self.dimensions for item in dimension.items]
        attached += [option.pictogram for scale in self.scales for option in scale.options]
        return [pictogram for pictogram in attached if pictogram is not None]

    def recordings(self) -> list[tuple[str, str, Attachment]]:
        """(language, text, file) for every recorded reading the definition attaches."""
        recorded = []
        for dimension in self.dimensions:
            for item in dimension.items:
                wording = item.texts.get(WORDING_SELF, {})
                recorded += [(language, wording[language], file) for language, file in item.audio.items()]
        for scale in self.scales:
            labelled: tuple[StageDefinition | OptionDefinition, ...] = (*scale.stages, *scale.options)
            for entry in labelled:
                recorded += [(language, entry.label[language], file) for language, file in entry.audio.items()]
        return recorded


def _hashed(value: Any) -> Any:
    """The content as asdict() gives it, without the fields the content hash leaves out."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _hashed(getattr(value, f.name))
            for f in fields(value)
            if f.metadata.get("hashed", True)
            and not (f.metadata.get("omitted_when_empty") and getattr(value, f.name) in (None, {}, ()))
        }
    if isinstance(value, list | tuple):
        return [_hashed(entry) for entry in value]
    if isinstance(value, dict):
        return {key: _hashed(entry) for key, entry in value.items()}
    return value


def load_summary(*, definition: InstrumentDefinition, version_number: int, created: bool) -> str:
    """One line for the operator on what loading a definition did."""
    if not created:
        return f"{definition.code}: oförändrad (version {version_number})"
    dimensions, items = len(definition.dimensions), definition.item_count
    return (
        f"{definition.code}: version {version_number} publicerad "
        f"({dimensions} {'dimension' if dimensions == 1 else 'dimensioner'}, "
        f"{items} {'fråga' if items == 1 else 'frågor'})"
    )


@dataclass(frozen=True)
class _Where:
    """A location in a definition file, for error messages: `file.yaml: dimensions[halsa].items[#2]`."""

    source: str
    path: str = ""
    base_dir: Path = Path()  # attached files are named relative to the definition file

    def key(self, name: str) -> "_Where":
        return _Where(self.source, f"{self.path}.{name}" if self.path else name, self.base_dir)

    def entry(self, label: str) -> "_Where":
        return _Where(self.source, f"{self.path}[{label}]", self.base_dir)

    def error(self, message: str) -> InstrumentDefinitionError:
        location = f"{self.source}: {self.path}" if self.path else self.source
        return InstrumentDefinitionError(f"{location}: {message}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nyckeln '{key}' förekommer två gånger", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_definition_file(path: str | Path) -> InstrumentDefinition:
    """Parse and check one YAML definition file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InstrumentDefinitionError(f"{path}: kan inte läsas ({error.strerror})") from error
    return parse_definition_text(text, source=str(path), base_dir=path.parent)


def parse_definition_text(text: str, *, source: str, base_dir: Path | None = None) -> InstrumentDefinition:
    """Parse and check a definition given as YAML text; attached files are relative to base_dir."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is None:
            raise InstrumentDefinitionError(f"{source}: ogiltig YAML: {error}") from error
        problem = getattr(error, "problem", None) or "fel i strukturen"
        raise InstrumentDefinitionError(
            f"{source}: ogiltig YAML på rad {mark.line + 1}, kolumn {mark.column + 1}: {problem}"
        ) from error
    return parse_definition(data, source=source, base_dir=base_dir)


def parse_definition(data: object, *, source: str, base_dir: Path | None = None) -> InstrumentDefinition:
    """Check a definition already read from YAML (nested dicts and lists) and return it as dataclasses.
    Files it attaches are named relative to base_dir (default: the folder of `source`)."""
    where = _Where(source, base_dir=Path(source).parent if base_dir is None else base_dir)
    data = _mapping(data, where, required={"code", "name", "purpose", "scales", "dimensions"})
    code = _code(data["code"], where.key("code"))
    name = _text(data["name"], where.key("name"))
    purpose = _text(data["purpose"], where.key("purpose"))
    if purpose not in InstrumentPurpose.values:
        raise where.key("purpose").error(f"okänt syfte '{purpose}' (tillåtna: {', '.join(InstrumentPurpose.values)})")
    scales = _entries(data["scales"], where.key("scales"), _scale)
    scale_kinds = {scale.code: scale.kind for scale in scales}
    dimensions = _entries(
        data["dimensions"], where.key("dimensions"), lambda value, at: _dimension(value, at, scale_kinds)
    )
    _unique([item.code for dimension in dimensions for item in dimension.items], where.key("dimensions"), "frågekoden")
    used = {item.scale for dimension in dimensions for item in dimension.items}
    for scale in scales:
        if scale.code not in used:
            raise where.key("scales").entry(scale.code).error("skalan används inte av någon fråga")
    return InstrumentDefinition(
        code=code, name=name, purpose=purpose, scales=scales, dimensions=dimensions, source=source
    )


def _scale(data: object, where: _Where) -> ScaleDefinition:
    kind = _text(_mapping(data, where, required={"kind"}, optional=None)["kind"], where.key("kind"))
    if kind not in SCALE_KEYS:
        raise where.key("kind").error(f"okänd skaltyp '{kind}' (tillåtna: {', '.join(ScaleKind.values)})")
    optional = {"unit"} if kind == ScaleKind.NUMBER else set()
    data = _mapping(data, where, required={"code", "kind", *SCALE_KEYS[kind]}, optional=optional)
    min_value = max_value = None
    if "min" in data:
        min_value, max_value = _integer(data["min"], where.key("min")), _integer(data["max"], where.key("max"))
        if min_value >= max_value:
            raise where.key("max").error(f"måste vara större än min ({min_value})")
    stages: tuple[StageDefinition, ...] = ()
    options: tuple[OptionDefinition, ...] = ()
    if kind == ScaleKind.LADDER:
        if min_value is None or max_value is None:  # required of a ladder (SCALE_KEYS), so never None here
            raise where.error("en stege behöver min och max")
        stages = _stages(data["stages"], where.key("stages"), min_value, max_value)
    elif kind == ScaleKind.CHOICE:
        options = _options(data["options"], where.key("options"))
    elif kind == ScaleKind.YES_NO:
        options = YES_NO_OPTIONS
    return ScaleDefinition(
        code=_code(data["code"], where.key("code")),
        kind=kind,
        min_value=min_value,
        max_value=max_value,
        unit=_labels(data["unit"], where.key("unit")) if "unit" in data else {},
        stages=stages,
        options=options,
    )


def _stages(data: object, where: _Where, min_value: int, max_value: int) -> tuple[StageDefinition, ...]:
    """Stages must cover min..max in order, without gaps or overlaps."""
    if not isinstance(data, list) or not data:
        raise where.error("ska vara en lista med minst ett steg")
    stages = []
    expected_first = min_value
    for number, entry in enumerate(data, start=1):
        at = where.entry(f"#{number}")
        entry = _mapping(entry, at, required={"from", "to", "label"}, optional={"audio"})
        first, last = _integer(entry["from"], at.key("from")), _integer(entry["to"], at.key("to"))
        if first != expected_first:
            raise at.key("from").error(
                f"ska vara {expected_first} (stegen ska täcka {min_value}–{max_value} i ordning)"
            )
        if last < first or last > max_value:
            raise at.key("to").error(f"ska vara mellan {first} och {max_value}")
        label = _labels(entry["label"], at.key("label"))
        audio = _audio(entry["audio"], at.key("audio"), label) if "audio" in entry else {}
        stages.append(StageDefinition(first=first, last=last, label=label, audio=audio))
        expected_first = last + 1
    if expected_first != max_value + 1:
        raise where.error(f"stegen slutar på {expected_first - 1} men skalan går till {max_value}")
    return tuple(stages)


def _options(data: object, where: _Where) -> tuple[OptionDefinition, ...]:
    if not isinstance(data, list) or len(data) < 2:
        raise where.error("ska vara en lista med minst två svarsalternativ")
    options = []
    for number, entry in enumerate(data, start=1):
        at = where.entry(f"#{number}")
        entry = _mapping(entry, at, required={"value", "label"}, optional={"positive", "pictogram", "audio"})
        label = _labels(entry["label"], at.key("label"))
        options.append(
            OptionDefinition(
                value=_integer(entry["value"], at.key("value")),
                label=label,
                positive=_boolean(entry.get("positive", False), at.key("positive")),
                pictogram=_pictogram(entry["pictogram"], at.key("pictogram")) if "pictogram" in entry else None,
                audio=_audio(entry["audio"], at.key("audio"), label) if "audio" in entry else {},
            )
        )
    _unique([option.value for option in options], where, "värdet")
    return tuple(options)


def _dimension(data: object, where: _Where, scale_kinds: dict[str, str]) -> DimensionDefinition:
    data = _mapping(data, where, required={"code", "label", "items"}, optional={"is_rating"})
    dimension = DimensionDefinition(
        code=_code(data["code"], where.key("code")),
        label=_labels(data["label"], where.key("label")),
        is_rating=_boolean(data.get("is_rating", True), where.key("is_rating")),
        items=_entries(data["items"], where.key("items"), lambda value, at: _item(value, at, scale_kinds)),
    )
    if dimension.is_rating:
        for item in dimension.items:
            if scale_kinds[item.scale] != ScaleKind.LADDER:
                raise where.key("items").error(
                    f"{item.code}: en skattningsdimension räknas om till 0–100 och kräver skalor av typen ladder "
                    "(sätt is_rating: false för andra frågor)"
                )
    return dimension


def _item(data: object, where: _Where, scale_kinds: dict[str, str]) -> ItemDefinition:
    data = _mapping(
        data, where, required={"code", "scale", "texts"}, optional={"reverse_coded", "required", "pictogram", "audio"}
    )
    scale = _text(data["scale"], where.key("scale"))
    if scale not in scale_kinds:
        defined = ", ".join(scale_kinds) or "inga"
        raise where.key("scale").error(f"okänd skala '{scale}' (definierade skalor: {defined})")
    reverse_coded = _boolean(data.get("reverse_coded", False), where.key("reverse_coded"))
    if reverse_coded and scale_kinds[scale] != ScaleKind.LADDER:
        raise where.key("reverse_coded").error("omvänd kodning kräver en skala av typen ladder")
    texts_at = where.key("texts")
    texts = _mapping(data["texts"], texts_at, required=set(), optional=set(WORDINGS))
    if not texts:
        raise texts_at.error(f"behöver minst en formulering ({' eller '.join(WORDINGS)})")
    wordings = {wording: _labels(texts[wording], texts_at.key(wording)) for wording in WORDINGS if wording in texts}
    audio: dict[str, Attachment] = {}
    if "audio" in data:
        if WORDING_SELF not in wordings:
            raise where.key("audio").error(
                "inspelat ljud läser deltagarens formulering, men frågan har ingen (texts.self saknas)"
            )
        audio = _audio(data["audio"], where.key("audio"), wordings[WORDING_SELF])
    return ItemDefinition(
        code=_code(data["code"], where.key("code")),
        scale=scale,
        texts=wordings,
        reverse_coded=reverse_coded,
        required=_boolean(data.get("required", True), where.key("required")),
        pictogram=_pictogram(data["pictogram"], where.key("pictogram")) if "pictogram" in data else None,
        audio=audio,
    )


def _attachment(data: object, where: _Where, *, types: dict[str, str], max_bytes: int) -> Attachment:
    """A file named relative to the definition file, checked (exists, allowed type, not too large)."""
    name = _text(data, where)
    try:
        return attachment_check(where.base_dir / name, types=types, max_bytes=max_bytes)
    except AttachmentError as error:
        raise where.error(f"'{name}': {error}") from error


def _audio(data: object, where: _Where, texts: dict[str, str]) -> dict[str, Attachment]:
    """Recorded readings per language, of the text in that language: `{sv: audio/fraga.sv.mp3}`."""
    data = _mapping(data, where, required=set(), optional=set(LANGUAGES))
    audio = {}
    for language in LANGUAGES:
        if language not in data:
            continue
        if language not in texts:
            raise where.key(language).error(f"det finns ingen text på '{language}' att läsa in")
        audio[language] = _attachment(
            data[language], where.key(language), types=RECORDING_TYPES, max_bytes=RECORDING_MAX_BYTES
        )
    return audio


def _pictogram(data: object, where: _Where) -> PictogramDefinition:
    """`{file: pictograms/halsa.svg, alt: {sv: …}}`: the alt text says what the picture shows."""
    data = _mapping(data, where, required={"file", "alt"})
    source = _attachment(data["file"], where.key("file"), types=PICTOGRAM_TYPES, max_bytes=PICTOGRAM_MAX_BYTES)
    return PictogramDefinition(file=source.name, alt=_labels(data["alt"], where.key("alt")), source=source)


def _entries(data: object, where: _Where, parse: Callable[[object, _Where], Any]) -> tuple[Any, ...]:
    """A non-empty list of mappings that each have a unique `code`; errors name the entry by its code."""
    if not isinstance(data, list) or not data:
        raise where.error("ska vara en lista med minst en post")
    entries = []
    for number, entry in enumerate(data, start=1):
        at = where.entry(f"#{number}")
        code = _code(_mapping(entry, at, required={"code"}, optional=None)["code"], at.key("code"))
        entries.append(parse(entry, where.entry(code)))
    _unique([entry.code for entry in entries], where, "koden")
    return tuple(entries)


def _mapping(data: object, where: _Where, *, required: Set[str], optional: Set[str] | None = frozenset()) -> dict:
    """Check a mapping's keys. optional=None allows any further key (the caller checks again later)."""
    if not isinstance(data, dict):
        raise where.error("ska vara en mappning (nyckel: värde)")
    missing = sorted(required - data.keys())
    if missing:
        raise where.error(f"saknar {'nyckeln' if len(missing) == 1 else 'nycklarna'} {_quoted(missing)}")
    if optional is not None:
        allowed = required | optional
        unknown = sorted(str(key) for key in data.keys() - allowed)
        if unknown:
            raise where.error(f"okänd nyckel {_quoted(unknown)} (tillåtna: {', '.join(sorted(allowed))})")
    return data


def _quoted(keys: list[str]) -> str:
    return ", ".join(f"'{key}'" for key in keys)


def _labels(data: object, where: _Where) -> dict[str, str]:
    """A text per language: Swedish required, English and lättläst optional."""
    data = _mapping(data, where, required={"sv"}, optional=set(LANGUAGES))
    return {language: _text(data[language], where.key(language)) for language in LANGUAGES if language in data}


def _text(data: object, where: _Where) -> str:
    if isinstance(data, bool):
        # YAML 1.1 reads an unquoted yes, no, on or off as a boolean.
        raise where.error(f"ska vara en text, inte {data!r} (skriv ord som yes, no, on och off inom citattecken)")
    if not isinstance(data, str) or not data.strip():
        raise where.error(f"ska vara en text, inte {data!r}")
    return data.strip()


def _code(data: object, where: _Where) -> str:
    code = _text(data, where)
    if not CODE_PATTERN.fullmatch(code) or len(code) > CODE_MAX_LENGTH:
        raise where.error(
            f"'{code}' är ingen giltig kod (gemena a–z, siffror, - och _, högst {CODE_MAX_LENGTH} tecken)"
        )
    return code


def _integer(data: object, where: _Where) -> int:
    if not isinstance(data, int) or isinstance(data, bool):
        raise where.error(f"ska vara ett heltal, inte {data!r}")
    return data


def _boolean(data: object, where: _Where) -> bool:
    if not isinstance(data, bool):
        raise where.error(f"ska vara true eller false, inte {data!r}")
    return data


def _unique(values: list[Any], where: _Where, what: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise where.error(f"{what} '{value}' förekommer mer än en gång")
        seen.add(value)
