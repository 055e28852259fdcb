"""The customer's widget on the demo site, desktop (1366×800) and phone (390×844): issue 15's usability.

The page, the widget and its styles are the real ones served by the backend; the socket.io client is
replaced by `fake_chat_server.js`, a server inside the page that keeps its conversation across
reloads, so each test sets exactly the state it looks at (a long history, a queue, a closed chat)
without Rasa. Assertions are about what a customer gets: geometry, focus, disabled buttons, DOM.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from testkit.processes import Running

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ANA = "ana.gomez@cableandina.example"
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
FAKE_SERVER = (Path(__file__).with_name("fake_chat_server.js")).read_text(encoding="utf-8")
TOPICS = [
    "¿Qué cubre el plan de soporte?",
    "Reportar una incidencia",
    "¿Cuáles son las prioridades?",
    "¿Dan cursos de formación?",
    "¿Cubren el reemplazo de hardware?",
]


@pytest.fixture
def widget(browser, lone_backend: Running) -> Iterator[Callable[..., Page]]:  # type: ignore[no-untyped-def]
    """`widget(phone=False)`: the demo site as Ana, its socket talking to the in-page fake server."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_widget(*, phone: bool = False) -> Page:
        options: dict[str, Any] = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {}
        context = browser.new_context(locale="es-ES", **({"viewport": DESKTOP} | options))
        contexts.append(context)
        context.route(
            "**/webchat/vendor/socket.io.min.js",
            lambda route: route.fulfill(body=FAKE_SERVER, content_type="application/javascript"),
        )
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.add_init_script(f"window.localStorage.setItem('promptlink.demo.contact', {json.dumps(ANA)})")
        page.goto(lone_backend.base_url + "/")
        expect(page.locator('.pl-status[data-state="online"]')).to_be_attached(timeout=20_000)
        return page

    yield open_widget
    for context in contexts:
        context.close()
    assert errors == []


def reload(page: Page) -> None:
    page.reload()
    expect(page.locator('.pl-status[data-state="online"]')).to_be_attached(timeout=20_000)


def say(page: Page, role: str, text: str, **extra: Any) -> None:
    page.evaluate("([r, t, e]) => window.__plFake.say(r, t, e)", [role, text, extra])


def emit(page: Page, event: str, data: dict[str, Any]) -> None:
    page.evaluate("([e, d]) => window.__plFake.emit(e, d)", [event, data])


def sent(page: Page, event: str) -> list[dict[str, Any]]:
    return list(page.evaluate("(e) => window.__plFake.sent(e)", event))


def type_and_enter(page: Page, text: str) -> None:
    page.locator(".pl-input").fill(text)
    page.locator(".pl-input").press("Enter")


def long_history(page: Page, n: int = 24) -> None:
    for i in range(n):
        say(page, "bot", f"Respuesta número {i + 1} del asistente, con algo de texto para ocupar espacio.")


def distance_from_bottom(page: Page) -> float:
    return float(
        page.evaluate(
            "() => { const m = document.querySelector('.pl-messages');"
            " return m.scrollHeight - m.scrollTop - m.clientHeight; }"
        )
    )


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not visible"
    return found


def fully_visible_in_log(page: Page, selector: str) -> bool:
    """`selector` lies entirely inside the log's visible area."""
    item, log = box(page, selector), box(page, ".pl-messages")
    return item["y"] >= log["y"] - 1 and item["y"] + item["height"] <= log["y"] + log["height"] + 1


# --- 1. messages are seen ---------------------------------------------------------------------------


def test_the_log_follows_new_messages_and_offers_a_way_down(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    long_history(page)
    expect(page.locator(".pl-msg")).to_have_count(24)
    assert distance_from_bottom(page) <= 2

    # After a reload (a person attends the chat now) the last message is in view.
    emit(page, "agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})
    say(page, "system", "Le atiende Laura Nivel Uno.")
    reload(page)
    expect(page.locator(".pl-msg")).to_have_count(25)
    page.wait_for_timeout(300)
    assert distance_from_bottom(page) <= 2
    assert fully_visible_in_log(page, ".pl-msg >> nth=-1")

    # Scrolled up, a new message does not pull the customer down: «Nuevos mensajes ↓» appears.
    page.locator(".pl-messages").evaluate("m => { m.scrollTop = 0; }")
    page.wait_for_timeout(100)
    say(page, "agent", "¿Puede indicarme el equipo?", author_name="Laura Nivel Uno")
    newer = page.get_by_role("button", name="Nuevos mensajes ↓")
    expect(newer).to_be_visible()
    assert distance_from_bottom(page) > 100
    newer.click()
    expect(newer).to_be_hidden()
    assert distance_from_bottom(page) <= 2
    assert fully_visible_in_log(page, ".pl-msg >> nth=-1")

    # At the bottom, the next one scrolls into view by itself.
    say(page, "agent", "Gracias, lo reviso.", author_name="Laura Nivel Uno")
    expect(page.locator(".pl-msg").last).to_contain_text("Gracias, lo reviso.")
    page.wait_for_timeout(100)
    assert distance_from_bottom(page) <= 2
    expect(newer).to_be_hidden()


# --- 2. the rating panel ----------------------------------------------------------------------------


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_rating_panel_leaves_the_last_message_visible_and_one_send_button(widget, phone: bool) -> None:  # type: ignore[no-untyped-def]
    page = widget(phone=phone)
    long_history(page, 16)
    emit(page, "agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})
    say(page, "agent", "Listo, quedó resuelto.", author_name="Laura Nivel Uno")
    emit(page, "closed", {"rating_requested": True, "by": "agent"})
    say(page, "system", "La conversación terminó. ¿Cómo calificaría la atención recibida?")
    rating = page.locator(".pl-rating")
    expect(rating).to_be_visible()
    page.wait_for_timeout(300)
    last = box(page, ".pl-msg >> nth=-1")
    assert last["y"] + last["height"] <= box(page, ".pl-rating")["y"] + 1
    assert fully_visible_in_log(page, ".pl-msg >> nth=-1")

    send_buttons = page.get_by_role("button", name="Enviar", exact=True)
    expect(send_buttons).to_have_count(1)
    page.locator('.pl-rate[data-score="4"]').click()
    page.locator(".pl-rating-send").click()
    expect(page.locator(".pl-rating-thanks")).to_be_visible()
    visible = [
        b for b in page.get_by_role("button").all() if b.is_visible() and (b.text_content() or "").strip() == "Enviar"
    ]
    assert len(visible) == 1
    assert sent(page, "rate") == [{"score": 4}]
