"""The customer's widget on the demo site, desktop (1366×800) and phone (390×844): issue 15's usability.

The page, the widget and its styles are the real ones served by the backend; the socket.io client is
replaced by `fake_chat_server.js`, a server inside the page that keeps its conversation across
reloads, so each test sets exactly the state it looks at (a long history, a queue, a closed chat)
without Rasa. Assertions are about what a customer gets: geometry, focus, disabled buttons, DOM.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from testkit.axe import assert_no_serious_violations
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
    # The log follows on its next layout (a ResizeObserver): wait for it rather than a fixed time.
    page.wait_for_function(
        "() => { const all = document.querySelectorAll('.pl-msg'); const last = all[all.length - 1];"
        " const panel = document.querySelector('.pl-rating');"
        " return last.getBoundingClientRect().bottom <= panel.getBoundingClientRect().top + 1; }",
        timeout=10_000,
    )
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


# --- 3. ending asks first, and only with a person -------------------------------------------------


def test_ending_is_offered_with_a_person_and_confirmed_inline(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    type_and_enter(page, "hola")
    say(page, "bot", "¡Hola, Ana! Soy el asistente de Soporte Técnico de Promptlink.")
    end = page.locator(".pl-end")
    expect(end).to_be_hidden()  # with the assistant there is nothing to end

    emit(page, "handoff", {"tier": "L1", "position": 1, "eta_seconds": 300})
    expect(end).to_be_visible()
    expect(end).to_have_accessible_name("Terminar conversación")
    end.click()
    confirm = page.get_by_role("group", name="¿Terminar la conversación?")
    expect(confirm).to_be_visible()
    expect(end).to_have_attribute("aria-expanded", "true")
    no = confirm.get_by_role("button", name="No, seguir")
    expect(no).to_be_focused()
    page.keyboard.press("Enter")
    expect(confirm).to_be_hidden()
    expect(end).to_be_focused()
    assert sent(page, "end") == []

    emit(page, "agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})
    expect(end).to_be_visible()
    end.click()
    confirm.get_by_role("button", name="Sí, terminar").click()
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "closed")
    assert sent(page, "end") == [{}]
    expect(end).to_be_hidden()
    expect(confirm).to_be_hidden()


# --- 4. a compact header ------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_header_is_compact_and_readable(widget, phone: bool) -> None:  # type: ignore[no-untyped-def]
    page = widget(phone=phone)
    limit = 0.12 * PHONE["height"] if phone else 64
    title = page.locator(".pl-title")

    def check() -> None:
        assert box(page, ".pl-header")["height"] <= limit
        # Readable: the title is whole (not cut with an ellipsis) and at least 15 px.
        assert title.evaluate("t => t.scrollWidth <= t.clientWidth")
        assert float(title.evaluate("t => parseFloat(getComputedStyle(t).fontSize)")) >= 15

    type_and_enter(page, "quiero hablar con una persona")
    check()
    emit(page, "handoff", {"tier": "L1", "position": 2, "eta_seconds": 600})
    expect(page.locator(".pl-agent")).to_have_text("Soporte de Nivel 1")
    check()
    emit(page, "agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})
    expect(page.locator(".pl-agent")).to_have_text("Le atiende Laura Nivel Uno · Nivel 1")
    check()
    expect(page.locator(".pl-agent")).to_be_visible()
    expect(page.locator(".pl-end")).to_be_visible()


# --- 5. quick replies ---------------------------------------------------------------------------------

YES_NO = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
DEVICES = [{"title": "cmts-bog-01", "payload": "cmts-bog-01"}, {"title": "cmts-bog-02", "payload": "cmts-bog-02"}]


def test_answered_quick_replies_are_inactive_also_after_a_reload(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    say(page, "bot", "¿Está caída la producción?", buttons=YES_NO)
    first = page.locator(".pl-msg", has_text="¿Está caída la producción?").locator(".pl-button")
    expect(first).to_have_count(2)
    for button in first.all():
        expect(button).to_be_enabled()
    type_and_enter(page, "sí, todo caído")  # answered by typing
    for button in first.all():
        expect(button).to_be_disabled()

    say(page, "bot", "¿Qué equipo falla?", buttons=DEVICES)
    latest = page.locator(".pl-msg", has_text="¿Qué equipo falla?").locator(".pl-button")
    for button in latest.all():
        expect(button).to_be_enabled()

    reload(page)
    expect(page.locator(".pl-msg")).to_have_count(3)
    for button in page.locator(".pl-msg", has_text="¿Está caída la producción?").locator(".pl-button").all():
        expect(button).to_be_disabled()
    latest = page.locator(".pl-msg", has_text="¿Qué equipo falla?").locator(".pl-button")
    for button in latest.all():
        expect(button).to_be_enabled()

    # By keyboard: the choice is sent and the focus goes to the message box.
    latest.nth(1).focus()
    page.keyboard.press("Enter")
    expect(page.locator(".pl-input")).to_be_focused()
    expect(page.locator('.pl-msg[data-role="customer"]').last).to_contain_text("cmts-bog-02")
    for button in latest.all():
        expect(button).to_be_disabled()
    assert sent(page, "message")[-1]["payload"] == "cmts-bog-02"


# --- 6. the welcome of an empty chat ------------------------------------------------------------------


def test_an_empty_chat_welcomes_with_topics_that_send_themselves(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    welcome = page.locator(".pl-welcome")
    expect(welcome).to_be_visible()
    expect(welcome).to_contain_text("Escriba su consulta o elija un tema")
    topics = welcome.get_by_role("group", name=re.compile("elija un tema")).get_by_role("button")
    assert topics.all_text_contents() == TOPICS
    topics.nth(2).click()
    expect(page.locator('.pl-msg[data-role="customer"] .pl-msg-text')).to_have_text([TOPICS[2]])
    assert [m["text"] for m in sent(page, "message")] == [TOPICS[2]]
    expect(welcome).to_be_hidden()
    reload(page)
    expect(page.locator(".pl-msg")).to_have_count(1)
    expect(welcome).to_be_hidden()


# --- 7 and 8. lists and links, as text ----------------------------------------------------------------


def test_a_list_is_one_bubble_and_addresses_are_links_never_markup(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    say(
        page,
        "bot",
        "Su empresa tiene 3 tiquetes abiertos:\n"
        "• PL-2026-000001 — Enlace caído (Prioridad 1, abierto, Soporte de Nivel 3)\n"
        "• PL-2026-000002 — Error en el módulo de alarmas (Prioridad 2, en curso, Soporte de Nivel 2)\n"
        "• PL-2026-000003 — Consulta de configuración (Prioridad 4, abierto, Soporte de Nivel 1)",
    )
    bubble = page.locator('.pl-msg[data-role="bot"]')
    expect(bubble).to_have_count(1)
    expect(bubble.locator("ul > li")).to_have_count(3)
    expect(bubble.locator("ul > li").first).to_have_text(
        "PL-2026-000001 — Enlace caído (Prioridad 1, abierto, Soporte de Nivel 3)"
    )

    say(page, "bot", "Escríbanos a soporte@promptlink.example o vea https://promptlink.example/soporte?x=1.")
    links = page.locator('.pl-msg[data-role="bot"]').last.locator("a")
    expect(links).to_have_count(2)
    expect(links.first).to_have_attribute("href", "mailto:soporte@promptlink.example")
    expect(links.first).to_have_text("soporte@promptlink.example")
    expect(links.last).to_have_attribute("href", "https://promptlink.example/soporte?x=1")
    expect(links.last).to_have_attribute("target", "_blank")
    expect(links.last).to_have_attribute("rel", re.compile(r"\bnoopener\b"))

    attack = '<img src=x onerror="window.__xss=1"> http://x.example/<b>a</b> "><svg onload=window.__xss=1> a@b.co'
    say(page, "agent", attack, author_name="Laura")
    type_and_enter(page, attack)
    for role in ("agent", "customer"):
        message = page.locator(f'.pl-msg[data-role="{role}"] .pl-msg-text').last
        expect(message).to_have_text(attack)
        expect(message.locator("img, svg, b")).to_have_count(0)
    reload(page)
    expect(page.locator('.pl-msg[data-role="agent"] .pl-msg-text').last).to_have_text(attack)
    assert page.locator(".pl-chat img, .pl-chat svg, .pl-chat b").count() == 0
    assert page.evaluate("window.__xss") is None


# --- 9 and 12. the queue, and nobody online -----------------------------------------------------------

NOBODY = (
    "En este momento no hay especialistas de Soporte de Nivel 1 conectados. Su caso queda registrado en el "
    "tiquete PL-2026-000009, asignado a Soporte de Nivel 1."
)


def test_the_place_in_the_queue_is_said_once_and_kept_current(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    type_and_enter(page, "quiero hablar con una persona")
    queue = page.locator(".pl-queue")
    emit(page, "handoff", {"tier": "L1", "position": 2, "eta_seconds": 600})
    expect(queue).to_have_text("En cola para un especialista de Nivel 1. Posición: 2. Espera estimada: 10 min.")
    emit(page, "handoff", {"tier": "L1", "position": 1, "eta_seconds": 300})
    expect(queue).to_have_text("En cola para un especialista de Nivel 1. Posición: 1. Espera estimada: 5 min.")

    # Nobody online: the offer says how and when; no estimate contradicts it.
    emit(page, "no_agents", {"tier": "L1", "ticket": "PL-2026-000009", "priority": 3, "text": NOBODY})
    offer = page.locator(".pl-unavailable")
    expect(offer).to_be_visible()
    expect(queue).to_have_text("En cola para un especialista de Nivel 1. Posición: 1.")

    # A reload shows the same waiting state, the offer included.
    reload(page)
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("PL-2026-000009")
    emit(page, "handoff", {"tier": "L1", "position": 1, "eta_seconds": 300})
    expect(queue).to_have_text("En cola para un especialista de Nivel 1. Posición: 1.")
    page.get_by_role("button", name="Seguir esperando").click()
    expect(offer).to_be_hidden()
    reload(page)
    expect(page.locator(".pl-chat")).to_have_attribute("data-mode", "queued")
    expect(offer).to_be_hidden()

    emit(page, "agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})
    expect(queue).to_be_hidden()
    expect(offer).to_be_hidden()


# --- 10. the launcher -----------------------------------------------------------------------------


def test_the_launcher_opens_and_closes_the_chat_and_counts_unread(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    launcher = page.locator(".pl-launcher")
    chat = page.locator(".pl-chat")
    expect(launcher).to_be_visible()
    expect(chat).to_be_visible()  # open on the first visit
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(launcher).to_have_accessible_name("Cerrar el chat de soporte")
    bubble, view = box(page, ".pl-launcher"), DESKTOP
    assert bubble["x"] + bubble["width"] > view["width"] - 40 and bubble["y"] + bubble["height"] > view["height"] - 40
    panel = box(page, ".pl-chat")
    assert panel["y"] + panel["height"] <= bubble["y"]  # the chat sits above the button, not under it

    launcher.focus()
    page.keyboard.press("Enter")
    expect(chat).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()
    say(page, "bot", "Un aviso mientras estaba cerrado.")
    say(page, "agent", "Y otro más.", author_name="Laura")
    badge = page.locator(".pl-launcher-badge")
    expect(badge).to_have_text("2")
    expect(launcher).to_have_accessible_name("Abrir el chat de soporte (2 mensajes nuevos)")

    reload(page)  # closed stays closed
    expect(chat).to_be_hidden()
    page.keyboard.press("Tab")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(chat).to_be_visible()
    expect(badge).to_be_hidden()
    expect(page.locator(".pl-input")).to_be_focused()
    assert distance_from_bottom(page) <= 2


def test_on_a_phone_the_open_chat_fills_the_screen_and_closes_from_its_header(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget(phone=True)
    panel = box(page, ".pl-chat")
    assert panel["width"] >= PHONE["width"] - 1 and panel["height"] >= PHONE["height"] - 1
    expect(page.locator(".pl-launcher")).to_be_hidden()
    page.get_by_role("button", name="Minimizar el chat").click()
    expect(page.locator(".pl-chat")).to_be_hidden()
    expect(page.locator(".pl-launcher")).to_be_visible()
    page.locator(".pl-launcher").click()
    expect(page.locator(".pl-chat")).to_be_visible()


# --- 11. accessibility --------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_no_serious_axe_violations_with_the_bot_in_the_queue_and_with_an_agent(widget, phone: bool) -> None:  # type: ignore[no-untyped-def]
    page = widget(phone=phone)
    assert_no_serious_violations(page)  # the empty chat with its welcome
    type_and_enter(page, "hola")
    say(page, "bot", "¡Hola, Ana! ¿En qué le ayudo?", buttons=YES_NO)
    expect(page.locator(".pl-msg")).to_have_count(2)
    assert_no_serious_violations(page)
    emit(page, "handoff", {"tier": "L1", "position": 1, "eta_seconds": 300})
    emit(page, "no_agents", {"tier": "L1", "ticket": "PL-2026-000009", "priority": 3, "text": NOBODY})
    expect(page.locator(".pl-unavailable")).to_be_visible()
    assert_no_serious_violations(page)
    page.locator(".pl-end").click()
    expect(page.locator(".pl-confirm")).to_be_visible()
    assert_no_serious_violations(page)
    page.get_by_role("button", name="No, seguir").click()
    emit(page, "agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})
    say(page, "agent", "Hola Ana, escríbame a soporte@promptlink.example si lo prefiere.", author_name="Laura")
    assert_no_serious_violations(page)
    emit(page, "closed", {"rating_requested": True, "by": "agent"})
    expect(page.locator(".pl-rating")).to_be_visible()
    assert_no_serious_violations(page)


def test_keyboard_only_send_choose_and_rate(widget) -> None:  # type: ignore[no-untyped-def]
    page = widget()
    page.locator(".pl-input").focus()
    page.keyboard.type("hola")
    page.keyboard.press("Enter")
    expect(page.locator('.pl-msg[data-role="customer"]')).to_have_count(1)
    expect(page.locator(".pl-input")).to_be_focused()
    say(page, "bot", "¿Está caída la producción?", buttons=YES_NO)

    # Shift+Tab from the message box walks back to the newest choices.
    yes = page.get_by_role("button", name="Sí", exact=True)
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        if yes.evaluate("b => b === document.activeElement"):
            break
    expect(yes).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".pl-input")).to_be_focused()
    assert sent(page, "message")[-1] == {
        "client_msg_id": sent(page, "message")[-1]["client_msg_id"],
        "text": "Sí",
        "payload": "/affirm",
    }

    emit(page, "agent_joined", {"name": "Laura Nivel Uno", "tier": "L1"})
    emit(page, "closed", {"rating_requested": True, "by": "agent"})
    five = page.locator('.pl-rate[data-score="5"]')
    expect(five).to_be_visible()
    five.focus()
    page.keyboard.press("Enter")
    expect(five).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Tab")
    expect(page.locator(".pl-rating-comment")).to_be_focused()
    page.keyboard.type("Muy buena atención")
    page.keyboard.press("Tab")
    expect(page.locator(".pl-rating-send")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".pl-rating-thanks")).to_be_visible()
    assert sent(page, "rate") == [{"score": 5, "comment": "Muy buena atención"}]
