"""Import participants and enrolments from CSV (comma or semicolon, UTF-8 or Windows-1252) or XLSX.

A dry run lists every problem with row, column and a Swedish message; a real import is all or
nothing; importing the same file twice changes nothing: the same personnummer + insats +
inskrivningsdatum updates that enrolment, and an anonymous row is recognised by its content."""

import csv
import hashlib
import io
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from config.numbers import swedish_number
from participants import access, crypto
from participants.models import (
    AccessAction,
    Consent,
    ConsentChannel,
    ConsentPurpose,
    EducationLevel,
    Enrolment,
    ExitReason,
    Forbund,
    IdentityRecord,
    IncomeSource,
    Insats,
    Kon,
    MeasurementMode,
    Participant,
)
from participants.personnummer import PersonnummerError, parse_personnummer
from participants.services import (
    NewIdentifiedPerson,
    ParticipantAlreadyRegistered,
    access_event_log,
    access_events_log,
    age_on,
    enrolment_age_errors,
    enrolment_age_problem,
    participant_create,
    participant_register,
    participants_create,
    participants_register_from_file,
)
from participants.uploads import imports_lock

COLUMNS = [
    "personnummer",
    "anonym",
    "kon",
    "fodelsear",
    "insats",
    "inskrivningsdatum",
    "avslutsdatum",
    "avslutsanledning",
    "forsorjning_fore",
    "forsorjning_fore_omfattning",
    "forsorjning_efter",
    "forsorjning_efter_omfattning",
    "utbildning",
    "ar_i_offentlig_forsorjning",
    "samtycke",
]
EXTENTS = {
    "1": Decimal("1"),
    "1.0": Decimal("1"),
    "0.75": Decimal("0.75"),
    "0.5": Decimal("0.5"),
    "0.50": Decimal("0.5"),
    "0.25": Decimal("0.25"),
}
IMPORT_CONSENT_TEXT = "import"
IMPORTED_NAME = "(namn saknas – importerad)"  # the file has no name column; rectify on the participant page
FILE_GONE = (
    "Filen raderades medan importen väntade, eftersom en person i den har fått sina uppgifter raderade. Ingenting "
    "importerades. Ta bort personen ur filen och ladda upp den igen."
)
GUARDIAN_NOT_IN_FILE = (
    " Filen har ingen kolumn för det: registrera personen på sidan Registrera deltagare och ta bort raden ur filen."
)
COLUMN_FOR_FIELD = {"birth_year": "fodelsear", "guardian_consent": "samtycke", "personnummer": "personnummer"}
logger = logging.getLogger(__name__)
MAX_ROWS = 50_000
MAX_CELL_LENGTH = 100  # characters; the longest code or value is far shorter
# How far an import has come when its rows are read, checked, and its new people and their enrolments stored
READ_PERCENT, PARSED_PERCENT, NEW_PEOPLE_PERCENT = 10, 20, 60
MAX_READ_ROWS = 2 * MAX_ROWS  # rows read in all, empty ones included (a sheet can declare a million)
MAX_UNPACKED_BYTES = 200 * 2**20  # an Excel file's parts unpacked; 50 000 rows take about 20 MB
UNREADABLE = "\ufffd"  # a byte read_rows could not turn into a character
UNREADABLE_MESSAGE = (
    "Ett tecken här kan inte läsas: filen är varken UTF-8 eller Windows-1252. Spara den som "
    "”CSV UTF-8 (kommaavgränsad)” i Excel och försök igen."
)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportRow:
    number: int
    anonymous: bool
    personnummer: str  # normalised, "" when anonymous
    kon: str
    birth_year: int
    insats: Insats
    start: date
    end: date | None
    exit_reason: ExitReason | None
    income_before: IncomeSource | None
    income_before_extent: Decimal
    income_after: IncomeSource | None
    income_after_extent: Decimal | None
    education: EducationLevel | None
    years_in_public_support: Decimal | None


@dataclass
class ImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    participants_created: int = 0
    enrolments_created: int = 0
    enrolments_updated: int = 0
    enrolments_unchanged: int = 0
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, header)."""


def _too_many(rows: int, *, at_least: bool = False) -> ImportFileError:
    count = f"minst {swedish_number(rows)}" if at_least else swedish_number(rows)
    return ImportFileError(
        f"Filen har {count} rader; en import tar högst {swedish_number(MAX_ROWS)}. Dela upp filen (och ta "
        "bort tomma rader i slutet, om den har sådana)."
    )


def _cell(value: object) -> str:
    text = "" if value is None else (value.isoformat()[:10] if hasattr(value, "isoformat") else str(value))
    return text.replace("\x00", UNREADABLE)  # a NUL is no character of a file typed by a person


def _rows_up_to_limit(rows: Iterable[Sequence[Any]]) -> list[list[str]]:
    """The header and the rows after it, as strings (the import's columns, no more); refused as
    soon as there are more than MAX_ROWS rows with content, or MAX_READ_ROWS rows in all, before
    the rest of the file is read."""
    kept: list[list[str]] = []
    with_content = 0
    for row in rows:
        cells = [_cell(value) for value in row[: len(COLUMNS) + 1]]  # one more: a stray column is seen
        with_content += any(cell.strip() for cell in cells)
        if with_content > MAX_ROWS + 1:  # the header is a row with content too
            raise _too_many(MAX_ROWS + 1, at_least=True)
        if len(kept) >= MAX_READ_ROWS:
            raise ImportFileError(
                f"Filen har fler än {swedish_number(MAX_READ_ROWS)} rader, tomma inräknade. Ta bort de tomma "
                "raderna i slutet, eller dela upp filen."
            )
        kept.append(cells)
    return kept


ROW_TAG = re.compile(rb"<(?:[^\s<>/:]+:)?row[\s>/]")  # <row …>, <x:row …>, <row\t…>, any prefix
SPREADSHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    """Where the workbook's first sheet lies in the archive ("xl/worksheets/sheet1.xml"), read from
    the workbook and its relationships (small parts); "" when they are not where Excel puts them.
    openpyxl itself reads a sheet that does not state its size to the end when the book is opened
    (18 s for 300 000 rows), so the rows are counted before that."""
    try:
        # ElementTree resolves no external entities, and expat ≥ 2.4 stops entity expansion bombs.
        sheets = ElementTree.fromstring(archive.read("xl/workbook.xml")).find(f"{SPREADSHEET}sheets")  # noqa: S314
        first = sheets[0].get(f"{RELATIONSHIP}id") if sheets is not None and len(sheets) else None
        for relation in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")):  # noqa: S314
            if relation.get("Id") == first:
                target = relation.get("Target", "")
                return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    except (KeyError, ElementTree.ParseError):
        pass
    return ""


def _sheet_row_count(archive: zipfile.ZipFile, path: str) -> int:
    """The <row> elements of a sheet, counted in its XML without parsing it (half a second for
    300 000 rows); 0 when the sheet is not found (the rows are then counted as they are read)."""
    if path not in archive.namelist():
        return 0
    count, tail = 0, b""
    with archive.open(path) as part:
        while chunk := part.read(2**20):
            data = tail + chunk
            # the tail is the last tag begun, whole or split between two chunks: a split one is
            # counted in the second, one wholly in the tail was counted in the first
            count += sum(1 for tag in ROW_TAG.finditer(data) if tag.end() > len(tail))
            tail = data[max(data.rfind(b"<"), 0) :]
    return count


def read_rows(content: bytes) -> list[list[str]]:
    """The file's rows as lists of strings: XLSX, or CSV in UTF-8 or Windows-1252, comma or semicolon.
    A file with more than MAX_ROWS rows is refused before its rows are read: an Excel file by its
    unpacked size (a small file can unpack to gigabytes) and the rows its sheet has, a CSV file as
    soon as the limit is passed."""
    if content[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
                if unpacked > MAX_UNPACKED_BYTES:
                    raise ImportFileError(
                        f"Excelfilen packas upp till {unpacked // 2**20} MB; en import tar högst "
                        f"{MAX_UNPACKED_BYTES // 2**20} MB. Dela upp filen."
                    )
                rows = _sheet_row_count(archive, _first_sheet_path(archive))
            if rows - 1 > MAX_ROWS:
                raise _too_many(rows - 1)
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            # At most the import's columns: openpyxl pads each row to the width the sheet declares
            # (a row formatted to column XFD would be 16 384 cells).
            return _rows_up_to_limit(sheet.iter_rows(values_only=True, max_col=len(COLUMNS) + 1))
        except ImportFileError:
            raise
        except zipfile.BadZipFile:
            raise ImportFileError("Excelfilen kan inte läsas: den är skadad eller inte en .xlsx-fil.") from None
        except Exception as exc:  # openpyxl raises many kinds, in English, quoting cells: not logged
            logger.info("Excelfil som inte gick att läsa: %s", type(exc).__name__)
            raise ImportFileError(
                "Excelfilen kan inte läsas: den är skadad eller inte sparad som Excel-arbetsbok. Öppna den i "
                "Excel, spara den som .xlsx och försök igen."
            ) from None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV (semikolonavgränsad)" on Swedish Windows. The five bytes Windows-1252 leaves
        # undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) become UNREADABLE, which parse() reports as an
        # error of the row and column they are in.
        text = content.decode("cp1252", errors="replace")
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        # newline=None: lines may end in \r\n, \n or \r alone (Excel for Mac's "CSV (Macintosh)")
        return _rows_up_to_limit(csv.reader(io.StringIO(text, newline=None), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"CSV-filen kan inte läsas: {_csv_problem(exc)}") from None


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"en cell är längre än {swedish_number(csv.field_size_limit())} tecken."
    return "en rad är felformad (till exempel ett citattecken som inte avslutas)."


def _code(codes: dict[str, Any], value: str, column: str, errors: list, row: int) -> Any:
    """The code list entry a cell names (codes: one code list, read once per import), or a row error."""
    if not value:
        return None
    found = codes.get(value)
    if found is None:
        errors.append(RowError(row, column, f"Okänd kod '{value}'."))
    return found


def _decimal(value: str) -> Decimal:
    return Decimal(value.replace(",", ".").replace(" ", ""))


def parse(
    content: bytes, *, forbund: Forbund, progress: Callable[[int], None] = lambda percent: None
) -> tuple[list[ImportRow], list[RowError], int]:
    """Validate every row; returns (rows, errors, number of data rows)."""
    raw = read_rows(content)
    progress(READ_PERCENT)
    if not raw:
        raise ImportFileError("Filen är tom.")
    header = [cell.strip().lower() for cell in raw[0]]
    while header and header[-1] == "":
        header.pop()
    if header != COLUMNS:
        raise ImportFileError("Rubrikraden stämmer inte. Kolumnerna ska vara, i denna ordning: " + ", ".join(COLUMNS))
    data = [(number, row) for number, row in enumerate(raw[1:], start=2) if any(cell.strip() for cell in row)]
    insatser = {i.code: i for i in Insats.objects.filter(forbund=forbund)}
    exit_reasons = {c.code: c for c in ExitReason.objects.all()}
    income_sources = {c.code: c for c in IncomeSource.objects.all()}
    education_levels = {c.code: c for c in EducationLevel.objects.all()}
    today = timezone.localdate()
    latest_start = today + timedelta(days=31)  # as on the registration page
    errors: list[RowError] = []
    rows: list[ImportRow] = []
    seen: dict[tuple, int] = {}
    open_seen: dict[tuple, int] = {}
    step = max(1, len(data) // 10)
    for checked, (number, cells) in enumerate(data):
        if checked % step == 0:
            progress(READ_PERCENT + (PARSED_PERCENT - READ_PERCENT) * checked // len(data))
        value = {column: (cells[i].strip() if i < len(cells) else "") for i, column in enumerate(COLUMNS)}
        row_errors: list[RowError] = []

        def fail(column: str, message: str, number: int = number, row_errors: list = row_errors) -> None:
            row_errors.append(RowError(number, column, message))

        unreadable = [column for column in COLUMNS if UNREADABLE in value[column]]
        if unreadable:
            errors += [RowError(number, column, UNREADABLE_MESSAGE) for column in unreadable]
            continue  # the row's other checks would only repeat the same problem
        too_long = [column for column in COLUMNS if len(value[column]) > MAX_CELL_LENGTH]
        if too_long:  # no code, date or number is this long; the messages below would repeat it
            errors += [
                RowError(
                    number,
                    column,
                    f"Värdet har {swedish_number(len(value[column]))} tecken; en cell här har högst {MAX_CELL_LENGTH}.",
                )
                for column in too_long
            ]
            continue

        anonymous = value["anonym"].lower() in ("ja", "j", "1")
        if value["anonym"] and value["anonym"].lower() not in ("ja", "nej", "j", "n", "0", "1"):
            fail("anonym", "Skriv ja eller nej.")
        personnummer, birth_year, birth_date = "", None, None
        if value["fodelsear"]:
            if (
                value["fodelsear"].isascii()
                and value["fodelsear"].isdigit()
                and 1900 <= int(value["fodelsear"]) <= 2100
            ):
                birth_year = int(value["fodelsear"])
            else:
                fail("fodelsear", "Födelseåret ska vara fyra siffror, t.ex. 1990.")
        if anonymous:
            if value["personnummer"]:
                fail("personnummer", "En anonym rad får inte ha personnummer.")
            if birth_year is None and not value["fodelsear"]:
                fail("fodelsear", "Ange födelseår för en anonym deltagare.")
        else:
            try:
                parsed = parse_personnummer(value["personnummer"])
                personnummer, birth_date = parsed.normalised, parsed.birth_date
                if birth_year and birth_year != parsed.birth_year:
                    fail("fodelsear", f"Födelseåret stämmer inte med personnumret ({parsed.birth_year}).")
                birth_year = parsed.birth_year
            except PersonnummerError as exc:
                fail("personnummer", str(exc))
            if value["samtycke"].lower() not in ("ja", "j"):
                fail("samtycke", "Utan samtycke ska raden vara anonym (anonym = ja, inget personnummer).")
        if value["kon"] not in Kon.values:
            fail("kon", f"Kön ska vara en av {', '.join(Kon.values)}.")
        insats = insatser.get(value["insats"])
        if insats is None:
            fail("insats", f"Okänd insats '{value['insats']}' i förbundet.")
        elif insats.measurement_mode != MeasurementMode.PER_PERSON:
            fail("insats", "Insatsen mäts bara som volym.")
        start = end = None
        for column in ("inskrivningsdatum", "avslutsdatum"):
            if value[column]:
                try:
                    parsed_date = date.fromisoformat(value[column])
                except ValueError:
                    fail(column, f"Datumet ska skrivas ÅÅÅÅ-MM-DD, inte '{value[column]}'.")
                    continue
                if column == "inskrivningsdatum":
                    start = parsed_date
                else:
                    end = parsed_date
        if not value["inskrivningsdatum"]:
            fail("inskrivningsdatum", "Inskrivningsdatum saknas.")
        elif start and start > latest_start:
            fail("inskrivningsdatum", "Inskrivningsdatumet ligger mer än en månad fram i tiden.")
        if start and end and end < start:
            fail("avslutsdatum", "Avslutsdatum ligger före inskrivningsdatum.")
        if end and end > today:
            fail("avslutsdatum", "Avslutsdatum kan inte ligga i framtiden.")
        # By the year only, as for anonymous people elsewhere; with a personnummer by the date of birth, on
        # every row of the person (the registration checks only the row it registers them by).
        if anonymous and birth_year and start and (problem := enrolment_age_problem(start.year - birth_year)):
            fail("fodelsear", problem)
        if birth_date and start and start < birth_date:
            fail("inskrivningsdatum", "Inskrivningsdatumet ligger före personens födelsedatum.")
        elif birth_date and start and (problem := enrolment_age_problem(age_on(birth_date, start))):
            fail("inskrivningsdatum", problem)
        exit_reason = _code(exit_reasons, value["avslutsanledning"], "avslutsanledning", row_errors, number)
        if end and not value["avslutsanledning"]:
            fail("avslutsanledning", "Ett avslutat deltagande behöver en avslutsanledning.")
        if value["avslutsanledning"] and not value["avslutsdatum"]:
            fail("avslutsdatum", "Avslutsanledning utan avslutsdatum.")
        income_before = _code(income_sources, value["forsorjning_fore"], "forsorjning_fore", row_errors, number)
        income_after = _code(income_sources, value["forsorjning_efter"], "forsorjning_efter", row_errors, number)
        extents = {}
        for column in ("forsorjning_fore_omfattning", "forsorjning_efter_omfattning"):
            raw_extent = value[column].replace(",", ".") or "1"
            extents[column] = EXTENTS.get(raw_extent)
            if extents[column] is None:
                fail(column, "Omfattningen ska vara 1, 0,75, 0,5 eller 0,25.")
        education = _code(education_levels, value["utbildning"], "utbildning", row_errors, number)
        years = None
        if value["ar_i_offentlig_forsorjning"]:
            try:
                years = _decimal(value["ar_i_offentlig_forsorjning"])
                if not 0 <= years <= 60:
                    fail("ar_i_offentlig_forsorjning", "Antal år ska vara mellan 0 och 60.")
            except InvalidOperation:
                fail("ar_i_offentlig_forsorjning", "Ange antal år som ett tal, t.ex. 2,5.")
        if personnummer and insats and start:
            key = (personnummer, insats.code, start)
            if key in seen:
                fail("inskrivningsdatum", f"Samma person, insats och inskrivningsdatum finns redan på rad {seen[key]}.")
            seen.setdefault(key, number)
            if end is None and seen[key] == number:
                open_key = (personnummer, insats.code)
                if open_key in open_seen and open_seen[open_key] != number:
                    fail(
                        "avslutsdatum",
                        f"Personen har redan en pågående inskrivning i insatsen på rad {open_seen[open_key]}.",
                    )
                open_seen.setdefault(open_key, number)
        errors += row_errors
        if not row_errors:
            income_before_extent = extents["forsorjning_fore_omfattning"]
            if birth_year is None or insats is None or start is None or income_before_extent is None:
                raise RuntimeError(f"Row {number} passed every check without a value the checks require.")
            rows.append(
                ImportRow(
                    number=number,
                    anonymous=anonymous,
                    personnummer=personnummer,
                    kon=value["kon"],
                    birth_year=birth_year,
                    insats=insats,
                    start=start,
                    end=end,
                    exit_reason=exit_reason,
                    income_before=income_before,
                    income_before_extent=income_before_extent,
                    income_after=income_after,
                    income_after_extent=extents["forsorjning_efter_omfattning"] if income_after else None,
                    education=education,
                    years_in_public_support=years,
                )
            )
    return rows, errors, len(data)


def _anonymous_keys(rows: list[ImportRow], forbund: Forbund) -> dict[int, str]:
    """A stable key per anonymous row: its content, and which occurrence of that content it is."""
    occurrences: Counter = Counter()
    keys = {}
    for row in rows:
        if not row.anonymous:
            continue
        content = f"{forbund.pk}|{row.insats.code}|{row.start}|{row.kon}|{row.birth_year}"
        occurrences[content] += 1
        keys[row.number] = hashlib.sha256(f"{content}|{occurrences[content]}".encode()).hexdigest()
    return keys


ENROLMENT_FIELDS = [
    "end_date",
    "exit_reason_id",
    "income_before_id",
    "income_before_extent",
    "income_after_id",
    "income_after_extent",
    "education_id",
    "years_in_public_support",
]


def _apply(enrolment: Enrolment, row: ImportRow) -> bool:
    """Bring an existing enrolment in line with the row; True if anything changed."""
    wanted = {
        "end_date": row.end,
        "exit_reason_id": row.exit_reason.pk if row.exit_reason else None,
        "income_before_id": row.income_before.pk if row.income_before else None,
        "income_before_extent": row.income_before_extent,
        "income_after_id": row.income_after.pk if row.income_after else None,
        "income_after_extent": row.income_after_extent,
        "education_id": row.education.pk if row.education else None,
        "years_in_public_support": row.years_in_public_support,
    }
    changed = [name for name, value in wanted.items() if getattr(enrolment, name) != value]
    for name in changed:
        setattr(enrolment, name, wanted[name])
    if changed:
        enrolment.save(update_fields=changed)
    return bool(changed)


def import_enrolments(
    *,
    content: bytes,
    forbund: Forbund,
    by: User,
    dry_run: bool,
    progress: Callable[[int], None] = lambda percent: None,
    file_still_waiting: Callable[[], bool] = lambda: True,
) -> ImportResult:
    """Validate and (unless dry_run) import; a dry run performs the same work and rolls it back.
    progress hears how far it has come, in percent (the rows are read by 10, checked by 20, the new
    people and their enrolments stored by 60, then the other rows one by one).
    file_still_waiting says, once the import holds the förbund's import lock, whether its upload is
    still there: an erasure deletes the uploads that name the person, and the file read before must
    not register them again.

    For coordinators and admins of the whole förbund. Rows with a personnummer look people up, so
    they need identity access in the förbund; without it the file is refused before anyone is looked
    up, and nothing about who is registered is revealed. Every hit is logged, in a dry run too; an
    existing person enrolled anew gets the file's consent and an access event."""
    access.require(
        access.forbund_for_import(by).filter(pk=forbund.pk).exists(),
        f"Du kan inte importera till {forbund.name}.",
    )
    progress(1)
    rows, errors, count = parse(content, forbund=forbund, progress=progress)
    progress(PARSED_PERCENT)
    identified = [row.number for row in rows if not row.anonymous]
    if identified and not access.can_look_up_personnummer(by, forbund):
        listed = ", ".join(map(str, identified[:5])) + (" …" if len(identified) > 5 else "")
        raise ImportFileError(
            f"Filen har personnummer (rad {listed}). Du har inte behörighet till identitetsuppgifter i "
            f"{forbund.name} och kan bara importera anonyma rader. Be en användare med identitetsbehörighet "
            "att importera filen."
        )
    # The rows without errors go on to the checks against the register even when others have errors (and
    # then nothing is stored), so that one report names every bad row.
    result = ImportResult(rows=count, errors=errors, dry_run=dry_run)
    anonymous_keys = _anonymous_keys(rows, forbund)
    found: dict[int, Participant] = {}  # people registered before the import, by id
    people: dict[str, Participant] = {}  # everyone met so far, by personnummer
    created_here: set[int] = set()  # people this import registered, by id
    registered: dict[str, Participant] = {}  # the file's people registered before it, read under the lock
    # What the rows may update, read under the lock: the anonymous rows imported before, by their key, and
    # the enrolments of the people registered before, by (person, insats, inskrivningsdatum).
    imported_before: dict[str, Enrolment] = {}
    enrolled_before: dict[tuple[int, int, date], Enrolment] = {}

    def import_row(row: ImportRow) -> None:
        if row.anonymous:
            key = anonymous_keys[row.number]
            enrolment = imported_before.get(key)
            if enrolment is None:
                anonymous_person = participant_create(
                    forbund=forbund, kon=row.kon, birth_year=row.birth_year, is_anonymous=True
                )
                result.participants_created += 1
                _create(row, anonymous_person, key)
                result.enrolments_created += 1
            else:
                _update(enrolment, row, result)
            return
        person = people.get(row.personnummer)
        if person is None:
            person = registered.get(row.personnummer)
            if person is not None:
                found[person.pk] = person
            else:
                try:
                    person = participant_register(
                        forbund=forbund,
                        registered_by=by,
                        kon=row.kon,
                        personnummer=row.personnummer,
                        name=IMPORTED_NAME,
                        consent_channel=ConsentChannel.WRITTEN,
                        consent_text_version=IMPORT_CONSENT_TEXT,
                        today=row.start,
                        from_file=True,
                    )
                except ValidationError as exc:
                    result.errors += [
                        RowError(
                            row.number,
                            COLUMN_FOR_FIELD.get(name, name),
                            " ".join(messages) + (GUARDIAN_NOT_IN_FILE if name == "guardian_consent" else ""),
                        )
                        for name, messages in exc.message_dict.items()
                    ]
                    return
                except ParticipantAlreadyRegistered as exc:  # just now, on the registration page
                    person = exc.participant
                    found[person.pk] = person
                    enrolled_before.update(_enrolments_by_start([person]))
                else:
                    result.participants_created += 1
                    created_here.add(person.pk)
            people[row.personnummer] = person
        if person.pk in created_here:
            # New in this import: no enrolments but this file's, and parse has refused a second row of
            # theirs with the same insats and date, and a second ongoing one in the same insats.
            _create(row, person, None)
            result.enrolments_created += 1
            return
        enrolment = enrolled_before.get((person.pk, row.insats.pk, row.start))
        if enrolment is not None:
            _update(enrolment, row, result)
        elif problem := _new_enrolment_problem(row, person, existing=person.pk in found):
            result.errors.append(problem)
        else:
            _create(row, person, None)
            result.enrolments_created += 1
            if person.pk in found:
                _record_enrolment_of_existing(row, person, by)

    try:
        with transaction.atomic():
            imports_lock(forbund)
            if not file_still_waiting():
                raise ImportFileError(FILE_GONE)
            registered.update(_registered_people(rows, forbund))
            imported_before.update(_imported_before(anonymous_keys))
            stored = _store_new_people(rows, forbund, by, registered, anonymous_keys, set(imported_before), progress)
            enrolled_before.update(_enrolments_by_start(registered.values()))
            people.update(stored.identified)
            created_here.update(person.pk for person in stored.identified.values())
            result.participants_created += len(stored.identified) + stored.anonymous
            result.enrolments_created += len(stored.rows)
            progress(NEW_PEOPLE_PERCENT)
            remaining = [row for row in rows if row.number not in stored.rows]
            step = max(1, len(remaining) // 50)
            for done, row in enumerate(remaining):
                if done % step == 0:
                    progress(NEW_PEOPLE_PERCENT + (99 - NEW_PEOPLE_PERCENT) * done // len(remaining))
                known = row.personnummer in people
                try:
                    with transaction.atomic():  # a row the database refuses undoes only itself
                        import_row(row)
                except IntegrityError as exc:
                    if not known:  # a person made in the undone row does not exist
                        people.pop(row.personnummer, None)
                    result.errors.append(_refused_by_database(row, exc))
            if dry_run or result.errors:
                transaction.set_rollback(True)
    finally:  # every hit is logged, whatever became of the import
        what = "Importens förhandsgranskning" if dry_run else "Import"
        access_events_log(
            user=by,
            participants=list(found.values()),
            action=AccessAction.SEARCH_HIT,
            reason=f"{what}: personnumret fanns redan",
        )
    if result.errors:  # nothing was stored
        result.participants_created = result.enrolments_created = result.enrolments_updated = 0
        result.errors.sort(key=lambda error: error.row)
    return result


def _imported_before(anonymous_keys: dict[int, str]) -> dict[str, Enrolment]:
    """The anonymous rows' enrolments from earlier imports of the file, by their key: one query."""
    enrolments = Enrolment.objects.filter(import_key__in=anonymous_keys.values()).select_related("exit_reason")
    return {enrolment.import_key: enrolment for enrolment in enrolments if enrolment.import_key}


def _enrolments_by_start(people: Iterable[Participant]) -> dict[tuple[int, int, date], Enrolment]:
    """The people's enrolments by (person, insats, inskrivningsdatum), the latest made where several
    share them: one query."""
    enrolments = Enrolment.objects.filter(participant__in=[person.pk for person in people]).select_related(
        "exit_reason"
    )
    found: dict[tuple[int, int, date], Enrolment] = {}
    for enrolment in enrolments.order_by("-id"):
        found.setdefault((enrolment.participant_id, enrolment.insats_id, enrolment.start_date), enrolment)
    return found


def _registered_people(rows: list[ImportRow], forbund: Forbund) -> dict[str, Participant]:
    """The people of the file already registered in the förbund, by personnummer: one query."""
    wanted = {crypto.pnr_index(row.personnummer): row.personnummer for row in rows if not row.anonymous}
    records = IdentityRecord.objects.filter(forbund=forbund, pnr_index__in=wanted).select_related("participant")
    return {wanted[record.pnr_index]: record.participant for record in records}


def _update(enrolment: Enrolment, row: ImportRow, result: ImportResult) -> None:
    """Bring an existing enrolment in line with its row, unless that would reopen a closed enrolment or
    touch one closed as a felregistrering (either would give mentors access again without a reason)."""
    if enrolment.end_date is not None and row.end is None:
        result.errors.append(
            RowError(
                row.number,
                "avslutsdatum",
                f"Inskrivningen avslutades {enrolment.end_date:%Y-%m-%d} i Stegvis; en import öppnar den inte igen.",
            )
        )
    elif enrolment.exit_reason is not None and enrolment.exit_reason.excluded_from_reports:
        result.errors.append(
            RowError(
                row.number,
                "avslutsanledning",
                "Inskrivningen är avslutad som felregistrering i Stegvis; en import ändrar den inte.",
            )
        )
    elif _apply(enrolment, row):
        result.enrolments_updated += 1
    else:
        result.enrolments_unchanged += 1


def _refused_by_database(row: ImportRow, exc: IntegrityError) -> RowError:
    """A row the database refused (a rule the checks above missed, or a registration made at the
    same moment): an error of the row in Swedish, never a 500."""
    text = str(exc)
    if "one_open_enrolment_per_insats" in text or "participants_enrolment.participant_id" in text:
        return RowError(row.number, "inskrivningsdatum", "Personen har redan en pågående inskrivning i insatsen.")
    return RowError(
        row.number,
        "",
        "Raden kunde inte sparas: den strider mot det som redan finns i Stegvis. Kontrollera raden och "
        "personens inskrivningar.",
    )


def _new_enrolment_problem(row: ImportRow, person: Participant, *, existing: bool) -> RowError | None:
    """Why the row cannot become a new enrolment of the person: an ongoing one in the same insats, or,
    for a person already registered, an age outside 16–67 on the inskrivningsdatum."""
    if row.end is None:
        ongoing = Enrolment.objects.filter(participant=person, insats=row.insats, end_date__isnull=True).first()
        if ongoing is not None:
            return RowError(
                row.number,
                "inskrivningsdatum",
                f"Personen har redan en pågående inskrivning i insatsen från {ongoing.start_date:%Y-%m-%d}.",
            )
    if existing:
        for message in enrolment_age_errors(participant=person, start_date=row.start).values():
            return RowError(row.number, "inskrivningsdatum", message)
    return None


def _record_enrolment_of_existing(row: ImportRow, person: Participant, by: User) -> None:
    """The file's row carries the person's consent (samtycke = ja); the new enrolment opens their
    identity to the insats' mentors, so it is logged like one made on the page."""
    Consent.objects.create(
        participant=person,
        purpose=ConsentPurpose.REGISTRATION,
        granted=True,
        channel=ConsentChannel.WRITTEN,
        text_version=IMPORT_CONSENT_TEXT,
        recorded_by=by,
    )
    access_event_log(
        user=by,
        participant=person,
        action=AccessAction.ENROL_EXISTING,
        reason=f"Import rad {row.number}: befintlig deltagare inskriven i {row.insats.name} från {row.start:%Y-%m-%d}",
    )


@dataclass
class _StoredAtOnce:
    """What an import stores in a few statements before it goes through the other rows one by one."""

    identified: dict[str, Participant] = field(default_factory=dict)  # new people with a personnummer, by it
    anonymous: int = 0  # new anonymous participants
    rows: set[int] = field(default_factory=set)  # the rows whose enrolment is stored, by number


def _store_new_people(
    rows: list[ImportRow],
    forbund: Forbund,
    by: User,
    registered: dict[str, Participant],
    anonymous_keys: dict[int, str],
    imported_before: set[str],
    progress: Callable[[int], None],
) -> _StoredAtOnce:
    """The file's new people and their enrolments, a few statements in all: the rows that touch no one
    registered before the import, so no rule about earlier enrolments applies. A person registered on
    the registration page meanwhile makes the database refuse the batch: it is undone, the registered
    people are read again (into registered) and the batch is tried once more without them. A person
    the registration rules refuse, and a batch refused again, are left to the row-by-row way, which
    names the row and the reason."""
    stored = _StoredAtOnce()
    for attempt in range(2):
        new_people = {}
        for row in rows:
            if not row.anonymous and row.personnummer not in registered and row.personnummer not in new_people:
                new_people[row.personnummer] = (
                    NewIdentifiedPerson(
                        kon=row.kon,
                        personnummer=row.personnummer,
                        name=IMPORTED_NAME,
                        consent_channel=ConsentChannel.WRITTEN,
                        consent_text_version=IMPORT_CONSENT_TEXT,
                    ),
                    row.start,
                )
        if not new_people:
            break
        try:
            with transaction.atomic():
                stored.identified = participants_register_from_file(
                    forbund=forbund, registered_by=by, people=list(new_people.values())
                )
            break
        except IntegrityError:
            if attempt == 0:
                registered.update(_registered_people(rows, forbund))
    progress((PARSED_PERCENT + NEW_PEOPLE_PERCENT) // 2)
    new_anonymous = [row for row in rows if row.anonymous and anonymous_keys[row.number] not in imported_before]
    of_new_people = [row for row in rows if not row.anonymous and row.personnummer in stored.identified]
    try:
        with transaction.atomic():
            anonymous_people = participants_create(
                forbund=forbund,
                participants=[
                    Participant(kon=row.kon, birth_year=row.birth_year, is_anonymous=True) for row in new_anonymous
                ],
            )
            Enrolment.objects.bulk_create(
                [
                    *(
                        _enrolment(row, person, anonymous_keys[row.number])
                        for row, person in zip(new_anonymous, anonymous_people, strict=True)
                    ),
                    *(_enrolment(row, stored.identified[row.personnummer], None) for row in of_new_people),
                ]
            )
    except IntegrityError:
        return stored
    stored.anonymous = len(anonymous_people)
    stored.rows = {row.number for row in [*new_anonymous, *of_new_people]}
    return stored


def _create(row: ImportRow, person: Participant, import_key: str | None) -> Enrolment:
    enrolment = _enrolment(row, person, import_key)
    enrolment.save()
    return enrolment


def _enrolment(row: ImportRow, person: Participant, import_key: str | None) -> Enrolment:
    return Enrolment(
        participant=person,
        insats=row.insats,
        start_date=row.start,
        end_date=row.end,
        exit_reason=row.exit_reason,
        income_before=row.income_before,
        income_before_extent=row.income_before_extent,
        income_after=row.income_after,
        income_after_extent=row.income_after_extent,
        education=row.education,
        years_in_public_support=row.years_in_public_support,
        import_key=import_key,
    )
