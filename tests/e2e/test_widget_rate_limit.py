"""In Chromium: messages the server refuses as too fast are kept by the widget and sent again, in order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.processes import Running, start_lone_backend

pytestmark = [pytest.mark.browser]

TEXTS = ["primero", "segundo", "tercero"]


@pytest.fixture(scope="module")
def strict_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One message at once, one more per second (the default allows a burst of 10)."""
    running = start_lone_backend(
        tmp_path_factory.mktemp("rate"), PROMPTLINK_CHAT_RATE_BURST="1", PROMPTLINK_CHAT_RATE_PER_SECOND="1"
    )
    yield running
    running.stop()


def stored_customer_texts(backend: Running) -> list[str]:
    with sqlite3.connect(backend.var_dir / "promptlink.db", timeout=30) as db:
        rows = db.execute("SELECT text FROM messages WHERE role = 'customer' ORDER BY id").fetchall()
    return [r[0] for r in rows]


def test_rate_limited_messages_wait_and_are_sent_again_in_order(strict_backend: Running, page: Page) -> None:
    page.goto(strict_backend.base_url + "/")
    expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)

    for text in TEXTS:  # typed faster than one a second
        page.fill(".pl-input", text)
        page.click(".pl-send")

    waiting = page.locator(".pl-msg--pending .pl-msg-meta", has_text="Demasiados mensajes seguidos")
    expect(waiting).to_have_count(1, timeout=5_000)
    sent = page.locator('.pl-msg[data-role="customer"]:not(.pl-msg--pending) .pl-msg-text')
    expect(sent).to_have_text(TEXTS, timeout=30_000)
    expect(page.locator(".pl-msg--failed")).to_have_count(0)
    expect(page.locator(".pl-msg--pending")).to_have_count(0)

    assert stored_customer_texts(strict_backend) == TEXTS  # each once, in the order typed
    assert "customer message rate-limited" in strict_backend.log()
    assert page.errors == []  # type: ignore[attr-defined]
