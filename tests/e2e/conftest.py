"""The portal in headless Chromium: a local stack, Debian's chromium, Playwright's sync API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import CHROMIUM_ARGS, SCREENSHOTS, TODAY, need_chromium


@pytest.fixture(scope="module")
def stack() -> Iterator[Any]:
    from infra.local.stack import LocalStack

    saved = dict(os.environ)
    os.environ.pop("DYNAMODB_ENDPOINT", None)
    os.environ["NAVIGATOR_TODAY"] = TODAY
    local = LocalStack(port=0, workers=2, demo=True)
    try:
        local.start()
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        from navigator.settings import reset_settings
        from navigator.store.base import reset_connections

        reset_settings()
        reset_connections()


@pytest.fixture(scope="module")
def browser(stack: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=need_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS
