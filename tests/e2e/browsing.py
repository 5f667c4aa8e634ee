"""The browser session of one test: contexts at a given viewport, screenshots into test-artifacts/,
axe-core checks, and the JavaScript errors or CSP violations seen on the way."""

import contextlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("STEGVIS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# axe-core impacts that fail a test; minor and moderate findings are written to the report only.
BLOCKING_IMPACTS = ("serious", "critical")


class Browsing:
    """Contexts, pages, screenshots and axe-core checks for one test."""

    def __init__(self, browser: Any, base_url: str, name: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.name = name
        self.contexts: list[Any] = []
        self.page_errors: list[str] = []
        self.audits: list[dict[str, Any]] = []

    def context(self, viewport: dict[str, int], **options: Any) -> Any:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport,
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(20_000)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def page(self, viewport: dict[str, int], **options: Any) -> Any:
        return self.context(viewport, **options).new_page()

    def _watch(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.page_errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )

    def screenshot(self, page: Any, name: str, *, full_page: bool = False, top: str | None = None) -> Path:
        """test-artifacts/e2e/<name>.png (gitignored); the best ones are copied to docs/screenshots/.
        `top`: a selector to scroll to the top of the window first."""
        if top:
            page.locator(top).first.evaluate("element => element.scrollIntoView({block: 'start'})")
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    def audit(self, page: Any, label: str) -> list[dict[str, Any]]:
        """Run axe-core on the page as it is now and keep every violation for the report."""
        from axe_playwright_python.base import AXE_SCRIPT

        page.evaluate(AXE_SCRIPT)
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        url = re.sub(r"/s/[^/]+/", "/s/<token>/", page.url.removeprefix(self.base_url))  # no live tokens in files
        violations = [
            {
                "page": label,
                "url": url,
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [", ".join(map(str, node["target"])) for node in v["nodes"]],
                "html": [node["html"][:200] for node in v["nodes"]],
            }
            for v in result["violations"]
        ]
        self.audits.append({"page": label, "url": url, "violations": violations})
        return violations

    def blocking_violations(self, *, ignore: Callable[[dict[str, Any]], bool] = lambda violation: False) -> list[str]:
        """Serious or critical axe-core violations on every page audited so far, as readable lines
        (but those `ignore` picks out: a test of one rule looks at that rule only)."""
        return [
            f"{v['page']} ({v['url']}): {v['rule']} [{v['impact']}] {v['help']} – {'; '.join(v['targets'][:5])}"
            for audit in self.audits
            for v in audit["violations"]
            if v["impact"] in BLOCKING_IMPACTS and not ignore(v)
        ]

    def close(self, failed: bool) -> None:
        for index, context in enumerate(self.contexts):
            if failed:
                for number, page in enumerate(context.pages):
                    with contextlib.suppress(Exception):  # a crashed page has nothing left to show
                        page.screenshot(path=str(ARTIFACTS / f"FAILED-{self.name}-{index}-{number}.png"))
            context.close()
        if self.audits:
            (ARTIFACTS / f"axe-{self.name}.json").write_text(
                json.dumps(self.audits, ensure_ascii=False, indent=2), encoding="utf-8"
            )
