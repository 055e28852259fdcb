"""Real-browser helpers: Debian's chromium driven by Playwright (no browser download), and a factory of
fresh pages that fails the test on a JavaScript error or a dialog."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("PROMPTLINK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        import pytest

        pytest.fail(
            "Debian's chromium is not installed: `apt-get install chromium` (the test command does this as root)"
        )
    return path


@contextmanager
def page_factory(browser: Any, *, height: int = 800, csp: bool = False) -> Iterator[Callable[..., Any]]:
    """`open_page(**context_options)`: a page in a fresh Spanish context, 1280 px wide and `height` high.

    Every page's JS errors and dialogs (dismissed), and with `csp` its Content Security Policy reports,
    are collected; when the block ends the contexts are closed and the collection must be empty.
    """
    contexts: list[Any] = []
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def open_page(**options: Any) -> Any:
        context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        if csp:
            page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.on("dialog", on_dialog)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems == []
