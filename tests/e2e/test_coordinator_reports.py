"""A coordinator at the office: two-factor login, the report dashboard, two reports with charts, an
Excel export with its progress page and the PDF report pack."""

import io
import re

import openpyxl
import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from participants.models import AccessAction, AccessEvent
from progression.models import ExportJob, ExportStatus
from tests.e2e.browsing import DESKTOP
from tests.e2e.helpers import login


def _download(page) -> tuple[str, bytes]:  # noqa: ANN001
    """Wait for the export's progress page to offer the file, then download it; returns its bytes."""
    expect(page.get_by_role("heading", name=re.compile(r"^Export: "))).to_be_visible()
    expect(page.locator("progress#export-progress")).to_be_attached()
    link = page.locator("[data-job-download]")
    expect(link).to_be_visible(timeout=60_000)
    expect(page.locator("progress#export-progress")).to_have_attribute("value", "100")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    return download.suggested_filename, download.path().read_bytes()


@pytest.mark.two_factor
def test_coordinator_reads_reports_and_exports_excel_and_pdf(browsing, measured_world, media):
    world = measured_world
    page = browsing.page(DESKTOP)
    login(page, world.coordinator.username, world.password)

    # First login with the coordinator role: set up the authenticator app, then enter its code.
    expect(page.get_by_role("heading", name="Tvåstegsverifiering")).to_be_visible()
    expect(page.get_by_role("img", name="QR-kod för autentiseringsappen")).to_be_visible()
    browsing.audit(page, "Tvåstegsverifiering")
    device = TOTPDevice.objects.get(user=world.coordinator)
    page.get_by_label("Sexsiffrig kod").fill(f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}")
    page.get_by_role("button", name="Fortsätt").click()

    expect(page).to_have_url(re.compile(r"/rapporter/$"))
    expect(page.get_by_role("heading", name="Rapporter", level=1)).to_be_visible()
    expect(page.locator(".kpi").first).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    browsing.audit(page, "Rapporter (översikt)")
    browsing.screenshot(page, "report-dashboard-desktop", top="p.lead")

    nav = page.get_by_role("navigation", name="Rapporter")
    nav.get_by_role("link", name="Stegförflyttning").click()
    expect(page.get_by_role("heading", name="Stegförflyttning", level=1)).to_be_visible()
    expect(page.locator("svg.chart.radar")).to_have_count(2)  # participants' and mentors' perspective
    expect(page.locator("table").first).to_contain_text("Handledaren")
    browsing.audit(page, "Rapport: Stegförflyttning")
    browsing.screenshot(page, "report-progression-desktop", top="p.lead")

    nav = page.get_by_role("navigation", name="Rapporter")
    nav.get_by_role("link", name="Försörjning före och efter").click()
    expect(page.get_by_role("heading", name="Försörjning före och efter", level=1)).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("table").first).to_contain_text("Försörjningsstöd")
    browsing.audit(page, "Rapport: Försörjning före och efter")
    browsing.screenshot(page, "report-income-sources-desktop", top="p.lead")
    report_url = page.url

    # The same report as it would leave the förbund: protected figures, said on the page and below it.
    page.get_by_role("link", name="Visa som vid extern spridning").click()
    expect(page.locator("p.lead")).to_contain_text("Skyddade tal, som vid extern spridning")
    expect(page.locator("ul.definitions")).to_contain_text("antal 1–4 visas som 0 eller 5")
    browsing.audit(page, "Rapport: Försörjning före och efter (extern)")
    browsing.screenshot(page, "report-external-desktop", top="p.lead")

    page.get_by_role("button", name="Excel (XLSX)").click()
    browsing.audit(page, "Export (XLSX)")
    browsing.screenshot(page, "export-progress-desktop")
    name, content = _download(page)
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    cells = [str(value) for row in sheet.iter_rows(values_only=True) for value in row if value is not None]
    assert "Försörjningsstöd" in cells

    page.goto(report_url)
    page.get_by_role("button", name="Rapportbilaga (PDF)").click()
    name, content = _download(page)
    assert name.endswith(".pdf")
    assert content.startswith(b"%PDF")
    browsing.audit(page, "Export (PDF)")

    jobs = ExportJob.objects.filter(user=world.coordinator).order_by("id")
    assert [(job.file_format, job.status) for job in jobs] == [("xlsx", ExportStatus.DONE), ("pdf", ExportStatus.DONE)]
    assert AccessEvent.objects.filter(user=world.coordinator, action=AccessAction.EXPORT).count() == 2
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())
