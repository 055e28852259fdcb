"""Chat-widget browser fixtures; the `browser` fixture (Debian's chromium) lives in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    yield page
    context.close()
