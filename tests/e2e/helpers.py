"""What a person does in the browser, written once for the flows: log in, answer an assessment form."""

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

# pick(item_code, offered_values) -> the value to answer
Pick = Callable[[str, list[str]], str]


def login(page: Page, username: str, password: str) -> None:
    """Log in on the login page, as a person does."""
    page.goto("/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    expect(page).not_to_have_url(re.compile(r"/logga-in/"))


def login_by_cookie(context: Any, user: Any, base_url: str) -> None:
    """A logged-in session without the login page, for tests about something else."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": base_url}])


def ladder_pick(base: int) -> Pick:
    """Ladder answers that vary per question around `base`; the first option on other scales."""
    counter = iter(range(1000))

    def pick(code: str, values: list[str]) -> str:
        index = next(counter)
        if len(values) == 10:
            return str(min(10, max(1, base + (index % 3) - 1)))
        return values[0]

    return pick


def step_counter(page: Page) -> tuple[int, int]:
    """(current, total) from the form's 'Steg x av n' (shown once the form has read its draft)."""
    expect(page.locator("[data-progress]")).to_have_text(re.compile(r"^Steg \d+ av \d+$"))
    text = page.locator("[data-progress]").inner_text()
    match = re.fullmatch(r"Steg (\d+) av (\d+)", text.strip())
    assert match, f"unexpected progress text {text!r}"
    return int(match[1]), int(match[2])


def answer_current_step(page: Page, pick: Pick) -> int:
    """Answer every choice question on the visible step by tapping its label; returns how many."""
    step = page.locator("[data-step]:not([hidden])")
    expect(step).to_have_count(1)
    return answer_questions(step, pick)


def answer_questions(step: Any, pick: Pick) -> int:
    """Answer every choice question in `step` (a locator) by tapping its label; returns how many."""
    answered = 0
    for fieldset in step.locator("fieldset.item").all():
        radios = fieldset.locator("input[type=radio]")
        if not radios.count():
            continue  # number questions (hours) are optional
        code = (fieldset.get_attribute("id") or "").removeprefix("item-")
        value = pick(code, [radio.get_attribute("value") or "" for radio in radios.all()])
        # The radio is a transparent layer over its label's button-like span: tap the label.
        fieldset.locator(f"label.option:has(input[value='{value}'])").click()
        expect(fieldset.locator(f"input[value='{value}']")).to_be_checked()
        answered += 1
    return answered


def answer_steps(page: Page, pick: Pick, *, until: int | None = None) -> int:
    """Answer the form step by step with Nästa, stopping on the last step (or after step `until`,
    without pressing Nästa). Returns the number of the step the form is on. The mentor's form has
    every area on one page: it is answered as one step."""
    if page.locator("form[data-single-page]").count():
        answer_questions(page.locator("form[data-single-page]"), pick)
        return 1
    while True:
        current, total = step_counter(page)
        answer_current_step(page, pick)
        if current in (total, until):
            return current
        page.get_by_role("button", name="Nästa").click()
        expect(page.locator("[data-progress]")).to_have_text(f"Steg {current + 1} av {total}")


# The texts of the first chart matching the selector that reach outside the chart's viewBox.
TEXTS_OUTSIDE_CHART = """selector => {
  const svg = document.querySelector(selector);
  const box = svg.viewBox.baseVal;
  return [...svg.querySelectorAll('text')].filter(text => {
    const b = text.getBBox();
    return b.x < box.x || b.y < box.y
      || b.x + b.width > box.x + box.width || b.y + b.height > box.y + box.height;
  }).map(text => text.textContent);
}"""


def page_as(browsing, user, path: str, viewport: dict[str, int]) -> Page:  # noqa: ANN001
    """A new page in a context of this size, logged in as the user, at the path."""
    context = browsing.context(viewport)
    login_by_cookie(context, user, browsing.base_url)
    page = context.new_page()
    page.goto(path)
    return page
