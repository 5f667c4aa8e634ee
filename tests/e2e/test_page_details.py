"""Details of the mentor's pages a browser shows and a screen reader reads: messages as a list,
wide tables reachable by keyboard, the compare radar's labels inside the chart and its series told
apart by shape, help texts tied to their fields."""

from playwright.sync_api import Page, expect

from tests.e2e.browsing import TABLET, Browsing
from tests.e2e.helpers import TEXTS_OUTSIDE_CHART, login_by_cookie, page_as


def _violations(browsing: Browsing, rule: str) -> list[str]:
    return browsing.blocking_violations(ignore=lambda v: v["rule"] != rule)


def _compare_page(browsing: Browsing, world) -> Page:  # noqa: ANN001
    page = page_as(browsing, world.mentor, f"/samtal/{world.measured_enrolment.pk}/jamforelse/", TABLET)
    expect(page.locator("svg.chart.radar")).to_be_visible()
    return page


def test_flash_messages_are_a_list_screen_readers_can_read(browsing, world):
    context = browsing.context(TABLET)
    login_by_cookie(context, world.mentor, browsing.base_url)
    page = context.new_page()
    page.goto(f"/resa/{world.fresh_enrolment.pk}/")
    page.get_by_label("Målbild").fill("Börja studera på Komvux")
    page.get_by_role("button", name="Spara målbild").click()
    expect(page.locator(".messages")).to_contain_text("Planen är uppdaterad")
    browsing.audit(page, "Deltagarens resa (meddelande)")
    assert not _violations(browsing, "listitem")


def test_wide_tables_can_be_scrolled_with_the_keyboard(browsing, measured_world):
    page = _compare_page(browsing, measured_world)
    browsing.audit(page, "Jämförelse")
    assert not _violations(browsing, "scrollable-region-focusable")


def test_radar_axis_labels_fit_inside_the_chart(browsing, measured_world):
    page = _compare_page(browsing, measured_world)
    assert page.evaluate(TEXTS_OUTSIDE_CHART, "svg.chart.radar") == []


def test_radar_points_differ_by_shape_as_the_caption_says(browsing, measured_world):
    page = _compare_page(browsing, measured_world)
    expect(page.locator("figcaption")).to_contain_text("Deltagaren: fyrkant")
    radar = page.locator("svg.chart.radar")
    axes = radar.locator("text.axis-label").count()
    assert radar.locator("circle.series-0").count() == 0
    assert radar.locator("rect.series-0").count() == axes + 1  # one per axis, one in the legend


def test_help_texts_are_tied_to_their_fields(browsing, world):
    page = page_as(browsing, world.mentor, "/deltagare/ny/", TABLET)
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(el =>
             el.getAttribute('aria-describedby').split(/\\s+/).filter(id => !document.getElementById(id))
               .map(id => `${el.name || el.id} -> #${id}`))"""
    )
    assert dangling == []
