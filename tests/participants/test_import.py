"""Importing participants and enrolments from CSV and XLSX."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from participants import crypto, importing, services
from participants.importing import COLUMNS, ImportFileError, import_enrolments
from participants.models import (
    AccessAction,
    AccessEvent,
    Consent,
    ConsentPurpose,
    Enrolment,
    IdentityRecord,
    ImportJob,
    Participant,
)
from participants.uploads import upload_exists
from tests.factories import confirm_import, register_identified, registry_world, synthetic_personnummer, upload_import

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "import-exempel.csv"
from datetime import date, timedelta  # noqa: E402

PNR_A = synthetic_personnummer(date(1990, 1, 1), "998")
PNR_B = synthetic_personnummer(date(1985, 7, 15), "997", digits=12, separator="")


def row(**values: str) -> list[str]:
    base = {c: "" for c in COLUMNS} | {
        "anonym": "nej",
        "kon": "kvinna",
        "insats": "jonsbo",
        "inskrivningsdatum": "2025-02-03",
        "samtycke": "ja",
        "personnummer": PNR_A,
    }
    base.update(values)
    return [base[c] for c in COLUMNS]


def csv_bytes(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    lines = [delimiter.join(COLUMNS)] + [delimiter.join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
def world():
    return registry_world()


def _import(world, content: bytes, *, dry_run: bool = False):
    return import_enrolments(content=content, forbund=world.sco, by=world.admin_sco, dry_run=dry_run)


def test_example_file_imports_and_a_second_import_changes_nothing(world):
    first = _import(world, EXAMPLE.read_bytes())
    assert first.ok, first.errors
    assert (first.rows, first.participants_created, first.enrolments_created) == (5, 4, 5)
    snapshot = list(Enrolment.objects.order_by("id").values())
    second = _import(world, EXAMPLE.read_bytes())
    assert (
        second.participants_created,
        second.enrolments_created,
        second.enrolments_updated,
        second.enrolments_unchanged,
    ) == (0, 0, 0, 5)
    assert list(Enrolment.objects.order_by("id").values()) == snapshot
    person = IdentityRecord.objects.get(pnr_index=crypto.pnr_index("199001019984")).participant
    assert sorted(person.enrolments.values_list("insats__code", flat=True)) == ["backaberg", "jonsbo"]
    assert Participant.objects.filter(is_anonymous=True).count() == 2


def test_dry_run_reports_and_stores_nothing(world):
    result = _import(world, EXAMPLE.read_bytes(), dry_run=True)
    assert result.ok and result.enrolments_created == 5
    assert not Participant.objects.exists() and not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"personnummer": "19900101-9985"}, "personnummer", "Kontrollsiffran stämmer inte"),
        ({"personnummer": ""}, "personnummer", "Ange ett personnummer"),
        ({"kon": "kvinnor"}, "kon", "Kön ska vara"),
        ({"insats": "okand"}, "insats", "Okänd insats"),
        ({"insats": "natursteget"}, "insats", "Okänd insats"),
        ({"inskrivningsdatum": "2025-02-30"}, "inskrivningsdatum", "ÅÅÅÅ-MM-DD"),
        ({"avslutsdatum": "2025-01-01", "avslutsanledning": "arbete"}, "avslutsdatum", "före inskrivningsdatum"),
        ({"avslutsdatum": "2025-06-01"}, "avslutsanledning", "avslutsanledning"),
        ({"forsorjning_fore": "bidrag"}, "forsorjning_fore", "Okänd kod"),
        ({"forsorjning_fore_omfattning": "0,6"}, "forsorjning_fore_omfattning", "Omfattningen"),
        ({"ar_i_offentlig_forsorjning": "många"}, "ar_i_offentlig_forsorjning", "som ett tal"),
        ({"samtycke": "nej"}, "samtycke", "anonym"),
        ({"anonym": "ja"}, "personnummer", "anonym rad får inte ha personnummer"),
        ({"fodelsear": "1991"}, "fodelsear", "stämmer inte med personnumret"),
    ],
)
def test_each_kind_of_bad_row_is_named_and_nothing_is_stored(world, values, column, message):
    good = row(personnummer=PNR_B, inskrivningsdatum="2025-03-01")
    result = _import(world, csv_bytes([good, row(**values)]))
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors if message in e.message] == [(3, column)]
    assert not Enrolment.objects.exists()


def test_duplicate_rows_in_one_file_are_refused(world):
    result = _import(world, csv_bytes([row(), row()]))
    assert [e.message for e in result.errors] == ["Samma person, insats och inskrivningsdatum finns redan på rad 2."]


def test_reimport_with_an_end_date_updates_the_same_enrolment(world):
    assert _import(world, csv_bytes([row(forsorjning_fore="forsorjningsstod")])).ok
    closed = row(
        forsorjning_fore="forsorjningsstod",
        avslutsdatum="2025-10-31",
        avslutsanledning="studier",
        forsorjning_efter="studiemedel",
        forsorjning_efter_omfattning="0,5",
    )
    result = _import(world, csv_bytes([closed]))
    assert (result.enrolments_created, result.enrolments_updated) == (0, 1)
    enrolment = Enrolment.objects.get()
    assert (
        str(enrolment.end_date),
        enrolment.exit_reason.code,
        enrolment.income_after.code,
        str(enrolment.income_after_extent),
    ) == ("2025-10-31", "studier", "studiemedel", "0.50")


def test_excel_semicolon_windows_1252_and_comma_utf8_and_xlsx(world):
    cp1252 = csv_bytes([row(kon="man", personnummer=PNR_B)], encoding="cp1252")
    assert _import(world, cp1252).ok
    comma = csv_bytes([row(insats="backaberg")], delimiter=",")
    assert _import(world, comma).enrolments_created == 1
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    sheet.append(row(anonym="ja", personnummer="", fodelsear="1980", samtycke="nej", kon="annat"))
    buffer = io.BytesIO()
    book.save(buffer)
    assert _import(world, buffer.getvalue()).enrolments_created == 1
    assert Participant.objects.filter(is_anonymous=True, kon="annat", birth_year=1980).count() == 1


def test_a_byte_windows_1252_cannot_read_is_an_error_of_its_row_and_column_not_a_500(
    world, client, django_capture_on_commit_callbacks
):
    """0x81 is undefined in Windows-1252 (and not UTF-8): the row is named, the good row and what
    is stored already are kept, and the page answers with the error instead of a 500."""
    good = csv_bytes([row(personnummer=PNR_B, insats="backaberg")], encoding="cp1252")
    assert _import(world, good).enrolments_created == 1
    stored = list(Enrolment.objects.values())
    bad = csv_bytes(
        [row(personnummer=PNR_B, insats="backaberg"), row(kon="kvinna", utbildning="XX")], encoding="cp1252"
    )
    bad = bad.replace(b"XX", b"gymn\x81sial")

    result = _import(world, bad)

    assert [(e.row, e.column) for e in result.errors] == [(3, "utbildning")]
    assert "varken UTF-8 eller Windows-1252" in result.errors[0].message
    assert list(Enrolment.objects.values()) == stored
    client.force_login(world.admin_sco)
    response = upload_import(client, django_capture_on_commit_callbacks, bad, name="deltagare.csv")
    assert response.status_code == 200
    assert "varken UTF-8 eller Windows-1252" in response.text
    assert "1 fel i 2 rader – inget har importerats." in response.text


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_file_over_the_row_limit_is_refused_before_its_rows_are_read(world, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    rows = [row(personnummer=synthetic_personnummer(date(1990, 1, day), "996")) for day in range(1, 5)]
    read = []
    monkeypatch.setattr(importing, "_cell", lambda value: read.append(value) or ("" if value is None else str(value)))

    with pytest.raises(ImportFileError, match="Filen har 4 rader; en import tar högst 3"):
        _import(world, _xlsx(rows))  # the sheet's size says so: no cell is read
    assert read == []
    with pytest.raises(ImportFileError, match="Filen har minst 4 rader"):
        _import(world, csv_bytes(rows))
    assert not Enrolment.objects.exists()
    # empty lines at the end of a CSV file do not count
    assert _import(world, csv_bytes(rows[:3]) + b";;;\r\n" * 10 + b"\r\n" * 10).enrolments_created == 3


def test_an_excel_file_that_unpacks_too_large_is_refused_before_it_is_opened(world, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UNPACKED_BYTES", 2_000)
    with pytest.raises(ImportFileError, match="Excelfilen packas upp till 0 MB; en import tar högst 0 MB"):
        _import(world, _xlsx([row()]))


def test_a_row_the_database_refuses_is_an_error_of_that_row_and_nothing_is_stored(world, monkeypatch):
    """A person with an open enrolment in the insats, and a check that misses it (as a registration
    made between the check and the write would): the database's rule refuses the row, and the import
    reports it as a row error instead of a 500."""
    assert _import(world, csv_bytes([row(inskrivningsdatum="2025-01-10")])).enrolments_created == 1
    stored = list(Enrolment.objects.values())
    monkeypatch.setattr(importing, "_new_enrolment_problem", lambda *args, **kwargs: None)
    rows = [row(personnummer=PNR_B, insats="backaberg"), row(inskrivningsdatum="2025-03-01")]

    result = _import(world, csv_bytes(rows))

    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "inskrivningsdatum", "Personen har redan en pågående inskrivning i insatsen.")
    ]
    assert list(Enrolment.objects.values()) == stored
    assert not IdentityRecord.objects.filter(pnr_index=crypto.pnr_index(PNR_B)).exists()


def test_a_sheet_declared_wide_and_long_is_read_at_the_imports_width_and_refused_at_its_length(world, monkeypatch):
    """A row formatted out to column XFD, and a cell far down: openpyxl pads every row to the
    declared width and fills the rows in between; a 1.6 KB file took 2.6 GB."""
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    sheet.append(row())
    sheet.cell(row=3, column=16_384, value=" ")
    sheet.cell(row=400, column=1, value=" ")
    buffer = io.BytesIO()
    book.save(buffer)

    rows = importing.read_rows(buffer.getvalue())
    assert len(rows) == 400 and max(len(cells) for cells in rows) == len(COLUMNS) + 1
    monkeypatch.setattr(importing, "MAX_READ_ROWS", 300)
    with pytest.raises(ImportFileError, match="fler än 300 rader, tomma inräknade"):
        importing.read_rows(buffer.getvalue())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'personnummer;anonym\n"' + b"x" * 200_000 + b'";nej\n', "en cell är längre än 131\u00a0072 tecken"),
        (b"PK\x03\x04 not really a workbook", "den är skadad eller inte en .xlsx-fil"),
    ],
)
def test_a_file_python_cannot_parse_is_refused_with_a_message_not_a_500(world, content, message):
    with pytest.raises(ImportFileError, match=message):
        _import(world, content)


def test_lines_ending_in_a_carriage_return_alone_import(world):
    """Excel for Mac's "CSV (Macintosh)" ends its lines in \\r."""
    content = csv_bytes([row(personnummer=PNR_B)]).replace(b"\r\n", b"\r")
    assert _import(world, content).enrolments_created == 1


def test_wrong_header_is_refused_before_any_row(world):
    with pytest.raises(ImportFileError, match="Rubrikraden stämmer inte"):
        _import(world, b"namn;personnummer\nAnna;19900101-9984\n")


def test_command_dry_run_and_import_as_a_named_user_with_their_access(world, capsys):
    command = ["import_enrolments", str(EXAMPLE), "--forbund", "sco", "--user", "admin-sco"]
    call_command(*command, "--dry-run")
    assert "Provkörning, inget sparades. 5 rader" in capsys.readouterr().out
    assert not Enrolment.objects.exists()
    call_command(*command)
    assert Enrolment.objects.count() == 5
    with pytest.raises(CommandError, match="Okänt förbund"):
        call_command("import_enrolments", str(EXAMPLE), "--forbund", "finns-inte", "--user", "admin-sco")
    with pytest.raises(CommandError, match="Ingen aktiv användare heter vem"):
        call_command("import_enrolments", str(EXAMPLE), "--forbund", "sco", "--user", "vem")
    with pytest.raises(CommandError, match="behörighet till identitetsuppgifter"):
        call_command("import_enrolments", str(EXAMPLE), "--forbund", "sco", "--user", "samordnare-sco")
    with pytest.raises(CommandError, match="Du kan inte importera till"):
        call_command("import_enrolments", str(EXAMPLE), "--forbund", "sco", "--user", "mentor-jonsbo")


def test_a_coordinator_without_identity_access_learns_nothing_from_the_preview(
    client, world, django_capture_on_commit_callbacks
):
    """The file is refused before any look-up: no counts, no "finns redan", nothing to log."""
    person = _import(world, csv_bytes([row()]))
    assert person.enrolments_created == 1
    events = AccessEvent.objects.count()
    client.force_login(world.coordinator_sco)
    response = upload_import(client, django_capture_on_commit_callbacks, csv_bytes([row()]))
    assert response.status_code == 200
    assert "Granskningen kunde inte göras: Filen har personnummer (rad 2)" in response.text
    assert "Du har inte behörighet till identitetsuppgifter" in response.text
    assert "oförändrade" not in response.text and "uppdaterade" not in response.text
    assert 'value="import"' not in response.text
    assert AccessEvent.objects.count() == events
    job = ImportJob.objects.get()
    assert not upload_exists(forbund=world.sco, token=job.upload_token)  # a file that cannot be imported goes


def test_every_personnummer_hit_is_logged_in_a_preview_too(world):
    _import(world, csv_bytes([row()]))
    assert not AccessEvent.objects.filter(action=AccessAction.SEARCH_HIT).exists()
    preview = _import(world, csv_bytes([row(), row(inskrivningsdatum="2026-01-10", insats="backaberg")]), dry_run=True)
    assert (preview.enrolments_unchanged, preview.enrolments_created) == (1, 1)
    hit = AccessEvent.objects.get(action=AccessAction.SEARCH_HIT)
    assert (hit.user, hit.forbund, hit.reason) == (
        world.admin_sco,
        world.sco,
        "Importens förhandsgranskning: personnumret fanns redan",
    )
    assert not AccessEvent.objects.filter(action=AccessAction.ENROL_EXISTING).exists()  # rolled back with the preview
    _import(world, csv_bytes([row(), row(inskrivningsdatum="2026-01-10", insats="backaberg")]))
    existing = AccessEvent.objects.get(action=AccessAction.ENROL_EXISTING)
    assert "Backaberg" in existing.reason
    assert existing.participant.consents.filter(text_version="import").count() == 2


def test_upload_page_checks_then_imports_and_mentors_cannot_use_it(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.mentor_jonsbo)
    assert client.get(reverse("import_page")).status_code == 403
    client.force_login(world.admin_sco)
    response = upload_import(client, django_capture_on_commit_callbacks, EXAMPLE.read_bytes(), name="exempel.csv")
    assert "Import av exempel.csv" in response.text
    assert "Filen är granskad: 5 rader utan fel." in response.text
    assert "Importen ger 4 nya deltagare, 5 nya inskrivningar" in response.text
    assert not Enrolment.objects.exists()
    response = confirm_import(client, django_capture_on_commit_callbacks, response)
    assert "Importen är klar." in response.text
    assert "4 nya deltagare, 5 nya och 0 uppdaterade inskrivningar" in response.text
    assert Enrolment.objects.count() == 5
    again = client.post(response.wsgi_request.path, {"action": "import"}, follow=True)
    assert "Filen är redan importerad eller importeras just nu." in again.text
    assert Enrolment.objects.count() == 5
    listed = client.get(reverse("import_page"))
    assert "exempel.csv" in listed.text and "Importerad" in listed.text
    participants_page = client.get(reverse("insats_detail", args=["jonsbo"]))
    assert participants_page.status_code == 200


def test_anonymous_rows_keep_the_age_rule_and_no_row_ends_in_the_future(world):
    anonymous = {"personnummer": "", "anonym": "ja", "samtycke": "nej"}
    result = _import(
        world,
        csv_bytes(
            [
                row(**anonymous, fodelsear="2020", inskrivningsdatum="2025-02-03"),
                row(**anonymous, fodelsear="1901", inskrivningsdatum="2025-02-03"),
                row(**anonymous, fodelsear="1990", inskrivningsdatum="0001-01-01"),
                row(**anonymous, fodelsear="1990", avslutsdatum="9999-12-31", avslutsanledning="arbete"),
                row(**anonymous, fodelsear="2009", inskrivningsdatum="2025-02-03"),  # 16 that year
            ]
        ),
        dry_run=True,
    )
    assert [(error.row, error.column, error.message) for error in result.errors] == [
        (2, "fodelsear", "Deltagaren är 5 år vid inskrivningen; deltagare ska vara 16–67 år."),
        (3, "fodelsear", "Deltagaren är 124 år vid inskrivningen; deltagare ska vara 16–67 år."),
        (4, "fodelsear", "Deltagaren är -1989 år vid inskrivningen; deltagare ska vara 16–67 år."),
        (5, "avslutsdatum", "Avslutsdatum kan inte ligga i framtiden."),
    ]


def test_rows_counted_in_a_sheet_whatever_prefix_its_tags_have():
    prefix = "p" * 300
    rows = "".join(f'<{prefix}:row r="{n}"><{prefix}:c/></{prefix}:row>' for n in range(1, 40_001))
    sheet = f'<{prefix}:worksheet xmlns:{prefix}="urn:x"><{prefix}:sheetData>{rows}</{prefix}:sheetData>'
    sheet += f"</{prefix}:worksheet>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    with zipfile.ZipFile(buffer) as archive:
        assert importing._sheet_row_count(archive, "xl/worksheets/sheet1.xml") == 40_000  # over several chunks


# --- New people in a few statements ----------------------------------------------------------------


def _new_people_rows(count: int) -> list[list[str]]:
    births = [date(1962, 1, 1) + timedelta(days=61 * n) for n in range(count)]
    return [
        row(
            personnummer=synthetic_personnummer(birth, f"{200 + n % 700:03d}"),
            insats="jonsbo" if n % 2 else "backaberg",
        )
        for n, birth in enumerate(births)
    ] + [row(personnummer="", anonym="ja", fodelsear=str(1960 + n % 40), kon="man") for n in range(count)]


def test_a_file_of_new_people_is_stored_in_a_few_statements_with_all_a_registration_records(
    world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(60, info="Frågor"):  # row by row it took 14 a row
        result = _import(world, csv_bytes(_new_people_rows(150)))

    assert result.ok, result.errors
    assert (result.participants_created, result.enrolments_created) == (300, 300)
    people = Participant.objects.filter(forbund=world.sco)
    assert people.count() == 300 and len({p.pseudonym for p in people}) == 300
    assert all(p.pseudonym.startswith(f"{world.sco.pseudonym_prefix}-") for p in people)
    identified = people.filter(is_anonymous=False)
    assert identified.count() == IdentityRecord.objects.filter(forbund=world.sco).count() == 150
    consents = Consent.objects.filter(participant__in=identified)
    assert set(consents.values_list("purpose", "granted", "channel", "text_version", "recorded_by")) == {
        (ConsentPurpose.REGISTRATION, True, "written", importing.IMPORT_CONSENT_TEXT, world.admin_sco.pk)
    }
    assert consents.count() == 150
    assert Enrolment.objects.filter(participant__in=people).count() == 300
    first = IdentityRecord.objects.get(
        pnr_index=crypto.pnr_index(synthetic_personnummer(date(1962, 1, 1), "200", separator=""))
    )
    assert crypto.decrypt(first.name_encrypted) == importing.IMPORTED_NAME
    with django_assert_max_num_queries(2 * 300 + 50):  # a savepoint a row, and no look-up a row
        again = _import(world, csv_bytes(_new_people_rows(150)))
    assert (again.participants_created, again.enrolments_created, again.enrolments_unchanged) == (0, 0, 300)


def test_a_new_person_the_rules_refuse_is_still_named_by_row(world):
    too_young = synthetic_personnummer(date(2015, 3, 1), "331")
    result = _import(world, csv_bytes([*_new_people_rows(3), row(personnummer=too_young)]))
    assert [(e.row, e.column) for e in result.errors] == [(8, "inskrivningsdatum")]
    assert "16–67 år" in result.errors[0].message
    assert not Participant.objects.exists()


@pytest.mark.parametrize("read_late", [1, 2], ids=["batch-tried-again", "row-by-row"])
def test_a_person_registered_on_the_page_while_the_file_is_imported_is_enrolled_as_existing(
    world, monkeypatch, read_late
):
    person = register_identified(forbund=world.sco, by=world.admin_sco, personnummer=PNR_A)
    reads = []
    real_read = importing._registered_people

    def read_before_they_registered(rows, forbund):  # noqa: ANN001, ANN202
        reads.append(1)
        return {} if len(reads) <= read_late else real_read(rows, forbund)

    monkeypatch.setattr(importing, "_registered_people", read_before_they_registered)

    result = _import(world, csv_bytes([row(), *_new_people_rows(2)]))

    assert result.ok, result.errors
    assert (result.participants_created, result.enrolments_created) == (4, 5)
    assert person.enrolments.get().insats.code == "jonsbo"
    assert AccessEvent.objects.filter(participant=person, action=AccessAction.ENROL_EXISTING).exists()
    assert IdentityRecord.objects.filter(forbund=world.sco).count() == 3


def test_a_pseudonym_already_taken_is_drawn_again(world, monkeypatch):
    taken = register_identified(forbund=world.sco, by=world.admin_sco, personnummer=PNR_A).pseudonym
    drawn = iter([taken, taken, f"{world.sco.pseudonym_prefix}-AAAA-BBBB", f"{world.sco.pseudonym_prefix}-CCCC-DDDD"])
    monkeypatch.setattr(services, "pseudonym_generate", lambda forbund: next(drawn))

    made = services.participants_create(
        forbund=world.sco, participants=[Participant(kon="man", birth_year=1980) for _ in range(2)]
    )

    assert sorted(p.pseudonym for p in made) == [
        f"{world.sco.pseudonym_prefix}-AAAA-BBBB",
        f"{world.sco.pseudonym_prefix}-CCCC-DDDD",
    ]


def test_every_row_of_a_new_person_keeps_the_age_rule(world):
    born = date(1990, 4, 1)
    pnr = synthetic_personnummer(born, "441")
    result = _import(
        world,
        csv_bytes(
            [
                row(personnummer=pnr, inskrivningsdatum="2025-02-03"),
                row(
                    personnummer=pnr,
                    insats="backaberg",
                    inskrivningsdatum="2001-05-01",
                    avslutsdatum="2001-06-01",
                    avslutsanledning="arbete",
                ),
                row(
                    personnummer=pnr,
                    insats="backaberg",
                    inskrivningsdatum="1985-05-01",
                    avslutsdatum="1985-06-01",
                    avslutsanledning="arbete",
                ),
            ]
        ),
    )
    assert [(e.row, e.column) for e in result.errors] == [(3, "inskrivningsdatum"), (4, "inskrivningsdatum")]
    assert "Deltagaren är 11 år vid inskrivningen" in result.errors[0].message
    assert result.errors[1].message == "Inskrivningsdatumet ligger före personens födelsedatum."
    assert not Participant.objects.exists()


def test_one_report_names_both_the_rows_with_bad_values_and_the_rows_the_register_refuses(world):
    too_young = synthetic_personnummer(date(2014, 6, 1), "331")
    _import(world, csv_bytes([row()]))  # an ongoing enrolment in Jonsbo
    result = _import(
        world,
        csv_bytes(
            [
                row(personnummer=too_young, inskrivningsdatum="2025-02-03"),
                row(inskrivningsdatum="2025-03-01"),  # a second ongoing one in Jonsbo: refused by the register
                row(personnummer=PNR_B, kon="okänd"),
            ]
        ),
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "inskrivningsdatum"),
        (3, "inskrivningsdatum"),
        (4, "kon"),
    ]
    assert "pågående inskrivning i insatsen från 2025-02-03" in result.errors[1].message
    assert Participant.objects.count() == 1 and Enrolment.objects.count() == 1


def test_a_seventeen_year_old_is_sent_to_the_registration_page_for_the_guardians_consent(world):
    seventeen = synthetic_personnummer(date(2008, 6, 1), "331")
    result = _import(world, csv_bytes([row(personnummer=seventeen, inskrivningsdatum="2025-09-01")]))
    assert [(e.row, e.column) for e in result.errors] == [(2, "samtycke")]
    assert "vårdnadshavares samtycke krävs" in result.errors[0].message
    assert "registrera personen på sidan Registrera deltagare" in result.errors[0].message
