"""The self-assessment with the keyboard only: Tab into each question, Space and the arrow keys to
answer, Enter on Nästa and Skicka. No mouse, no taps."""

from typing import Any

from playwright.sync_api import Page, expect

from surveys.models import AssessmentSession, Perspective
from surveys.sessions import self_link_create
from tests.e2e.browsing import TABLET
from tests.e2e.helpers import step_counter

FOCUSED = """() => {
  const el = document.activeElement;
  const label = el.closest('label');
  const face = label ? label.querySelector('span') : null;
  return {
    tag: el.tagName, type: el.type || '', name: el.name || '', value: el.value || '',
    checked: !!el.checked, text: (el.innerText || '').trim(),
    outline: face ? getComputedStyle(face).outlineStyle : getComputedStyle(el).outlineStyle,
  };
}"""


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def tab_until(page: Page, wanted: Any, *, limit: int = 60) -> dict[str, Any]:
    """Press Tab until the focused element is the wanted one; fail if it never gets focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"Tab never reached the element; focus is on {focused(page)}")


def test_self_assessment_with_the_keyboard_only(browsing, world):
    _, token = self_link_create(
        enrolment=world.fresh_enrolment, version=world.version, created_by=world.mentor, language="sv", days=7
    )
    page = browsing.page(TABLET)
    page.goto(f"/s/{token}/")
    expect(page.get_by_role("heading", name="Hur går det för dig?")).to_be_visible()
    browsing.audit(page, "Självskattning (tangentbord)")

    answered: dict[str, str] = {}
    while True:
        current, total = step_counter(page)
        groups = page.locator("[data-step]:not([hidden]) fieldset.item:has(input[type=radio][required])")
        for code in [fieldset.get_attribute("id").removeprefix("item-") for fieldset in groups.all()]:
            name = f"item-{code}"
            now = tab_until(page, lambda f, name=name: f["name"] == name)
            assert now["outline"] not in ("", "none"), f"no visible focus on {name}"
            page.keyboard.press("Space")  # answers the first option (1)
            for _ in range(2 + len(answered) % 6):
                page.keyboard.press("ArrowRight")  # moves to and answers the next option
            now = focused(page)
            assert now["checked"] and now["name"] == name
            answered[code] = now["value"]
        if current == total:
            tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Skicka")
            page.keyboard.press("Enter")
            break
        tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Nästa")
        page.keyboard.press("Enter")
        expect(page.locator("[data-progress]")).to_have_text(f"Steg {current + 1} av {total}")

    expect(page.get_by_role("heading", name="Tack för dina svar!")).to_be_visible()
    session = AssessmentSession.objects.get(enrolment=world.fresh_enrolment, perspective=Perspective.SELF)
    stored = {answer.item.code: str(answer.value) for answer in session.answers.select_related("item")}
    assert stored == answered
    assert not browsing.blocking_violations(), "\n".join(browsing.blocking_violations())
