"""An admin imports a file in the browser: the check on the job's own page, the import, and a file
with errors; each page checked with axe."""

from datetime import date

from playwright.sync_api import expect

from participants.importing import COLUMNS
from participants.models import Enrolment, Role
from tests.e2e.browsing import PHONE, TABLET
from tests.e2e.helpers import login
from tests.factories import synthetic_personnummer, user_with_role


def _csv(tmp_path, name: str, rows: list[dict[str, str]]):  # noqa: ANN001, ANN202
    base = {column: "" for column in COLUMNS} | {"anonym": "nej", "kon": "kvinna", "insats": "jonsbo", "samtycke": "ja"}
    lines = [";".join(COLUMNS)] + [";".join((base | row)[column] for column in COLUMNS) for row in rows]
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_an_admin_checks_then_imports_a_file_and_sees_the_errors_of_another(browsing, world, media, tmp_path):
    admin = user_with_role(Role.ADMIN, forbund=world.forbund, can_read_identity=True, username="admin")
    good = _csv(
        tmp_path,
        "deltagare.csv",
        [
            {"personnummer": synthetic_personnummer(date(1990, 3, 1), "998"), "inskrivningsdatum": "2025-02-03"},
            {"personnummer": synthetic_personnummer(date(1985, 6, 2), "997"), "inskrivningsdatum": "2025-03-10"},
        ],
    )
    page = browsing.page(TABLET)
    login(page, admin.username, world.password)
    page.goto("/import/")
    page.get_by_label("Fil (CSV eller XLSX)").set_input_files(good)
    page.get_by_role("button", name="Granska filen").click()
    expect(page.get_by_role("heading", name="Import av deltagare.csv")).to_be_visible()
    expect(page.get_by_role("heading", name="Filen är granskad: 2 rader utan fel.")).to_be_visible()
    browsing.audit(page, "Importens granskning")
    assert not Enrolment.objects.filter(insats=world.insats, start_date__year=2025).exists()
    page.get_by_role("button", name="Importera").click()
    expect(page.get_by_role("heading", name="Importen är klar.")).to_be_visible()
    expect(page.get_by_text("2 nya deltagare, 2 nya och 0 uppdaterade inskrivningar")).to_be_visible()
    assert Enrolment.objects.filter(insats=world.insats, start_date__year=2025).count() == 2

    phone = browsing.page(PHONE)
    login(phone, admin.username, world.password)
    phone.goto("/import/")
    bad = _csv(tmp_path, "fel.csv", [{"personnummer": "19900101-9985", "inskrivningsdatum": "2025-02-03"}])
    phone.get_by_label("Fil (CSV eller XLSX)").set_input_files(bad)
    phone.get_by_role("button", name="Granska filen").click()
    expect(phone.get_by_role("heading", name="1 fel i 1 rad – inget har importerats.")).to_be_visible()
    expect(phone.get_by_role("cell", name="personnummer")).to_be_visible()
    browsing.audit(phone, "Importens fel")
    phone.get_by_role("link", name="Ladda upp en rättad fil").click()
    expect(phone.get_by_role("cell", name="fel.csv")).to_be_visible()  # the day's imports, with this one
    browsing.audit(phone, "Importsidan med dagens importer")
    assert browsing.blocking_violations() == []
