"""Details of the report pages a board member reads: bar labels whole and inside the chart, chart
titles visible, Swedish decimal commas, areas by name, the dashboard's trend counted in participants.
tests/e2e/test_report_visuals.py checks every report page and the PDF pack as a whole."""

import re

from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.browsing import DESKTOP, PHONE, TABLET
from tests.e2e.helpers import TEXTS_OUTSIDE_CHART, page_as


def test_bar_chart_labels_are_whole_and_inside_the_chart(browsing, measured_world):
    page = page_as(browsing, measured_world.coordinator, "/rapporter/", DESKTOP)
    assert "Inskrivningar under perioden (registreringar)" in page.locator("svg.chart.bar").first.text_content()
    assert page.evaluate(TEXTS_OUTSIDE_CHART, "svg.chart.bar") == []


def test_dashboard_trend_counts_participants_not_dimensions(browsing, measured_world):
    page = page_as(browsing, measured_world.coordinator, "/rapporter/", DESKTOP)
    row = page.get_by_role("row").filter(has_text=measured_world.insats.name)
    assert re.fullmatch(rf"{timezone.localdate().year}: \d+ av 6", row.locator(".trend").inner_text().strip())


def test_progression_pages_name_areas_with_their_swedish_labels(browsing, measured_world):
    report = page_as(browsing, measured_world.coordinator, "/rapporter/progression/", DESKTOP)
    assert "Jobbsökande" in report.locator("svg.chart.radar").first.text_content()
    assert "Hälsa" in report.locator("table").first.inner_text()
    journey = page_as(browsing, measured_world.mentor, f"/resa/{measured_world.measured_enrolment.pk}/", TABLET)
    progression = journey.locator("section", has=journey.get_by_role("heading", name="Stegförflyttning"))
    assert "Hälsa" in progression.locator("table").inner_text()


def test_progression_report_charts_say_whose_readings_they_show(browsing, measured_world):
    page = page_as(browsing, measured_world.coordinator, "/rapporter/progression/", DESKTOP)
    figures = page.locator("figure.report-chart")
    expect(figures).to_have_count(2)
    # innerText is what is drawn: the SVG's <title> is not, though it is in the text content.
    assert "Deltagarnas självskattning" in figures.nth(0).inner_text()
    assert "Handledarnas bedömning" in figures.nth(1).inner_text()


def test_chart_values_use_swedish_decimal_commas(browsing, measured_world):
    page = page_as(browsing, measured_world.coordinator, "/rapporter/income-sources/", DESKTOP)
    values = page.locator("svg.chart.bar text").all_text_contents()
    assert "66,7" in values
    assert not [value for value in values if re.fullmatch(r"\d+\.\d+", value)]


def test_a_radar_on_a_phone_opens_at_its_centre_with_its_legend_there(browsing, measured_world):
    page = page_as(browsing, measured_world.coordinator, "/rapporter/progression/", PHONE)
    region = page.locator(".chart-scroll", has=page.locator("svg.chart.radar")).first
    page.wait_for_function(
        "region => region.scrollLeft > 0", arg=region.element_handle()
    )  # app.js scrolls it once loaded
    centred = region.evaluate(
        """region => {
            const view = region.getBoundingClientRect();
            const legend = [...region.querySelectorAll("svg.radar > text")].filter(
                text => ["Första", "Senaste"].includes(text.textContent));
            const top = region.querySelector("svg.radar .axis-label").getBoundingClientRect();
            return {
                legend: legend.length === 2 && legend.every(text => {
                    const box = text.getBoundingClientRect();
                    return box.left >= view.left && box.right <= view.right;
                }),
                topLabel: top.left >= view.left && top.right <= view.right,
            };
        }"""
    )
    assert centred == {"legend": True, "topLabel": True}
