"""Helpers of the browser tests: Chromium, watched browser contexts, the API, amounts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.local_stack import http

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_VARIABLE = "NAVIGATOR_SKIP_E2E"
# The domain's "today" for the whole stack: inside the demo period, a month into the season.
TODAY = "2026-12-02"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "e2e"


def need_chromium() -> str:
    """Debian's chromium, or a failure that says how to get it (a skip only when asked for)."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"{CHROMIUM} is missing and {SKIP_VARIABLE}=1")
    pytest.fail(
        f"The browser test needs Chromium at {CHROMIUM}: run "
        "`apt-get install -y --no-install-recommends chromium` (.ci/run does this), "
        f"or set {SKIP_VARIABLE}=1 to skip the browser tests.",
        pytrace=False,
    )


class Watched:
    """A browser context whose pages must load nothing from elsewhere and raise no errors."""

    def __init__(self, browser: Any, base_url: str, **options: Any) -> None:
        self.base_url = base_url
        self.context = browser.new_context(locale="ru-RU", **options)
        self.context.set_default_timeout(15_000)
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", self._request)
        self.context.on("response", self._response)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("console", self._console)

    def _request(self, request: Any) -> None:
        url = request.url
        if not (url.startswith(self.base_url + "/") or url.startswith("data:")):
            self.foreign.append(url)

    def _response(self, response: Any) -> None:
        # The API's refusals are part of the walk; a page's own file must always load, and
        # nothing may answer 5xx.
        path = urlsplit(response.url).path
        own_file = path == "/" or path.startswith(("/portal/", "/docs")) or path == "/openapi.json"
        if (own_file and response.status >= 400) or response.status >= 500:
            self.errors.append(f"{response.status} for {response.url}")

    def _console(self, message: Any) -> None:
        text = message.text
        # Chromium logs every non-2xx fetch as "Failed to load resource"; the refusals that
        # the tests provoke on purpose are shown on the page, so those lines are expected.
        if message.type == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(f"console: {text}")

    def check(self) -> None:
        assert self.foreign == [], f"requests left the local server: {self.foreign}"
        assert self.errors == [], self.errors

    def close(self) -> None:
        self.context.close()


def api(
    stack: Any,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    status, _, payload = http(stack.url, method, path, body, token, headers)
    return status, payload


def roubles(kopecks: int) -> str:
    """The portal's rendering of an amount: "1 234,56 ₽" with no-break spaces."""
    sign = "−" if kopecks < 0 else ""
    whole, rest = divmod(abs(kopecks), 100)
    return f"{sign}{whole:,}".replace(",", "\u00a0") + f",{rest:02d}\u00a0₽"


def valid_snils(seed: int) -> str:
    """A SNILS with a valid checksum from a 9-digit seed."""
    from navigator.domain.snils import control_number

    digits = f"{seed:09d}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {control_number(digits):02d}"
