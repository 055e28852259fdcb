"""The administration pages in Chromium against a lone backend: access, dashboard, users, audit, XSS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from testkit.axe import assert_no_serious_violations
from testkit.browser import page_factory
from testkit.databases import stored_customer_message
from testkit.demo import DEMO_PASSWORDS
from testkit.processes import Running

pytestmark = [pytest.mark.browser]


@pytest.fixture
def admin_page(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A page factory (1280x900); a JS error, a CSP report or a dialog in any page fails the test."""
    with page_factory(browser, height=900, csp=True) as open_page:
        yield open_page


def log_in(page: Page, backend: Running, email: str, hash_: str = "") -> None:
    page.goto(backend.base_url + "/admin" + hash_)
    page.fill("#login-email", email)
    page.fill("#login-password", DEMO_PASSWORDS[email])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#whoami-name")).to_be_visible()


def test_only_administrators_get_in(lone_backend: Running, admin_page) -> None:
    page = admin_page()
    log_in(page, lone_backend, "supervisor@promptlink.example")
    expect(page.locator("#denied-view")).to_be_visible()
    expect(page.locator("#denied-title")).to_have_text("Acceso no permitido")
    expect(page.locator("#nav")).to_be_hidden()


def test_dashboard_users_and_audit(lone_backend: Running, admin_page) -> None:
    page = admin_page()
    log_in(page, lone_backend, "admin@promptlink.example", "#/panel")
    expect(page.locator("#panel-view")).to_be_visible()
    expect(page.locator(".panel-table")).to_have_count(9)
    expect(page.locator('.panel-table[data-table="tickets_by_channel"] canvas')).to_be_visible()
    assert page.evaluate("typeof window.Chart") == "function"  # Chart.js from npm, served by the backend
    link = page.locator('.panel-table[data-table="waits"] .csv-link')
    assert link.get_attribute("href") == "/api/v1/admin/stats/waits.csv?days=30"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "promptlink-waits.csv"
    expect(page.locator('.summary-item[data-figure="tickets"] dd')).to_have_text(__import__("re").compile(r"^\d+$"))

    email = f"nuevo.{uuid.uuid4().hex[:6]}@promptlink.example"
    page.click('a[data-nav="usuarios"]')
    page.click("#user-create-open")
    page.fill("#user-email", email)
    page.fill("#user-name", "Nuevo Agente")
    page.check('#user-form input[name="tier"][value="L2"]')
    page.fill("#user-password", "corta")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#user-form .form-msg")).to_have_text("La contraseña debe tener al menos 10 caracteres.")
    page.fill("#user-password", "una-clave-segura")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#user-form .form-msg")).to_have_text(f"Cuenta creada: {email}")
    row = page.locator(f'#users-table tr[data-email="{email}"]')
    expect(row).to_have_count(1)
    row.locator('.user-tiers input[value="L3"]').check()
    row.locator(".user-save button").click()
    expect(row.locator(".user-save .form-msg")).to_have_text("Guardado.")
    admin_row = page.locator('#users-table tr[data-email="admin@promptlink.example"]')
    admin_row.locator(".user-role").select_option("agent")
    admin_row.locator('.user-tiers input[value="L1"]').check()
    admin_row.locator(".user-save button").click()
    expect(admin_row.locator(".user-save .form-msg")).to_contain_text("último administrador activo")

    page.click('a[data-nav="auditoria"]')
    expect(page.locator("#audit-table tbody tr", has_text=email).first).to_contain_text("Cambió una cuenta")
    expect(page.locator("#audit-table tbody tr", has_text=email).last).to_contain_text("Creó una cuenta")


def test_markup_in_a_customer_message_is_shown_as_text(lone_backend: Running, admin_page) -> None:
    attack = f"<img src=x onerror=alert(1)> {uuid.uuid4().hex[:6]}"
    stored_customer_message(lone_backend, attack, "greet", 0.2)
    page = admin_page()
    log_in(page, lone_backend, "admin@promptlink.example", "#/revision")
    item = page.locator(".review-item", has=page.locator(".review-text", has_text=attack))
    expect(item).to_have_count(1)
    expect(item.locator(".review-meta")).to_contain_text("confianza baja · entendió Saludo greet · 20 %")
    expect(page.locator("#revision-view img")).to_have_count(0)
    item.locator(".dismiss").click()
    expect(item.locator(".form-msg")).to_have_text("Descartado.")
    page.wait_for_timeout(300)


def test_review_inbox_is_a_compact_list_with_one_form_open(lone_backend: Running, admin_page) -> None:
    tag = uuid.uuid4().hex[:6]
    texts = [f"cuanto vale el plan numero {i} {tag}" for i in range(12)]
    for i, text in enumerate(texts):
        stored_customer_message(lone_backend, text, "ask_contact_channels" if i % 2 else "greet", 0.3)
    page = admin_page()
    log_in(page, lone_backend, "admin@promptlink.example", "#/revision")
    items = page.locator(".review-item", has=page.locator(".review-text", has_text=tag))
    expect(items).to_have_count(12)
    # No form until one is chosen: each message is its text, what was understood and one row of actions.
    expect(page.locator("#revision-view .item-form")).to_have_count(0)

    def item(i: int) -> Any:
        return page.locator(".review-item", has=page.locator(".review-text", has_text=texts[i]))

    first = item(1)
    meta = first.locator(".review-meta")
    expect(meta.locator(".intent-label")).to_have_text("Pregunta por los canales de contacto")
    expect(meta.locator(".intent-code")).to_have_text("ask_contact_channels")
    expect(meta).to_contain_text("30 %")
    heights = items.evaluate_all("nodes => nodes.map(n => n.getBoundingClientRect().height)")
    assert max(heights) < 110, heights  # one line of text, one of facts, the buttons beside them
    for i in range(12):
        box = items.nth(i).locator(".item-actions").bounding_box()
        text_box = items.nth(i).locator(".review-text").bounding_box()
        assert box and text_box and abs(box["y"] - text_box["y"]) < 12  # actions on the message's row

    # Choosing a message opens its form (keyboard: Enter on «Etiquetar…»); choosing another moves it.
    first.locator(".label-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#revision-view .item-form")).to_have_count(1)
    expect(first.locator(".intent-input")).to_be_focused()
    expect(first.locator(".label-open")).to_have_attribute("aria-expanded", "true")
    second = item(3)
    second.locator(".label-open").click()
    expect(page.locator("#revision-view .item-form")).to_have_count(1)
    expect(second.locator(".item-form")).to_have_count(1)
    expect(first.locator(".label-open")).to_have_attribute("aria-expanded", "false")
    page.keyboard.type("ask_contact_channels")
    expect(second.locator(".intent-chosen")).to_have_text("«Pregunta por los canales de contacto»")
    page.keyboard.press("Enter")
    expect(second.locator(".form-msg")).to_contain_text("Etiquetado como «ask_contact_channels»")
    expect(page.locator("#revision-view .item-form")).to_have_count(0)
    assert_no_serious_violations(page)


def _chart(page: Page, table: str, script: str) -> Any:
    """`script` (a JS function body) run with `chart`: the Chart.js chart of dashboard table `table`."""
    return page.evaluate(
        "(table) => { const chart = window.Chart.getChart("
        "document.querySelector(`.panel-table[data-table='${table}'] canvas`));" + script + "}",
        table,
    )


def test_dashboard_speaks_spanish_with_the_consoles_colours(lone_backend: Running, admin_page) -> None:
    long_message = "el router que me mandaron la semana pasada no enciende ninguna luz " + uuid.uuid4().hex[:8]
    stored_customer_message(lone_backend, long_message, "greet", 0.1)
    page = admin_page()
    log_in(page, lone_backend, "admin@promptlink.example", "#/panel")
    expect(page.locator('.panel-table[data-table="misunderstood"] canvas')).to_be_visible()
    labels = "return chart.data.datasets.map(d => d.label);"
    # Series named in Spanish, never the codes.
    assert _chart(page, "tickets_by_channel", labels) == ["Chat", "Correo", "Teléfono", "Alarma SNMP", "API"]
    assert "p90 (percentil 90)" in _chart(page, "waits", labels)
    # Priorities in the console's colours (console.css --p1 … --p4): P1 is the console's red.
    colours = _chart(page, "tickets_by_priority", "return chart.data.datasets.map(d => d.backgroundColor);")
    console = page.evaluate(
        "[1, 2, 3, 4].map(p => getComputedStyle(document.documentElement).getPropertyValue('--p' + p).trim())"
    )
    assert colours == console and console[0] == "#b3261e"
    # Count axes have whole ticks only; decimals are written with a comma, one decimal.
    for table in ("tickets_by_channel", "handoffs", "assistant", "misunderstood"):
        ticks = _chart(
            page,
            table,
            "const axis = chart.options.indexAxis === 'y' ? 'x' : 'y';"
            "return chart.scales[axis].ticks.map(t => t.value);",
        )
        assert ticks and all(float(t).is_integer() for t in ticks), (table, ticks)
    assert _chart(page, "waits", "return chart.options.scales.y.ticks.callback(12.25);") == "12,3"
    tooltip = (
        "return chart.options.plugins.tooltip.callbacks.label("
        "{datasetIndex: 0, raw: 7.5, dataset: {label: 'Mediana'}});"
    )
    assert _chart(page, "waits", tooltip) == "Mediana: 7,5"
    # «Resueltas sin persona» is drawn as bars per day (counts), not a lone point on a line.
    assert _chart(page, "assistant", "return chart.config.type;") == "bar"
    assert "Resueltas sin persona" in _chart(page, "assistant", labels)
    # A long misunderstood message is wrapped into short lines; its tooltip shows the whole of it.
    wrapped = _chart(page, "misunderstood", "return chart.data.labels;")
    index = next(i for i, label in enumerate(wrapped) if isinstance(label, list) and long_message.startswith(label[0]))
    assert all(len(line) <= 28 for label in wrapped for line in (label if isinstance(label, list) else [label]))
    title = _chart(
        page, "misunderstood", f"return chart.options.plugins.tooltip.callbacks.title([{{dataIndex: {index}}}]);"
    )
    assert title == long_message
    expect(page.locator('.panel-table[data-table="waits"] details table')).to_have_count(1)
    assert_no_serious_violations(page)


def test_models_page_names_the_running_model(lone_backend: Running, admin_page) -> None:
    from bot.model import fingerprint, model_path

    page = admin_page()
    log_in(page, lone_backend, "admin@promptlink.example", "#/modelos")
    card = page.locator("#running-card")
    expect(card).to_be_visible()
    expect(card.locator('[data-fact="file"] dd')).to_have_text(model_path().name)
    expect(card.locator('[data-fact="fingerprint"] dd')).to_have_text(fingerprint())
    expect(card.locator('[data-fact="since"] dd')).not_to_have_text("—")
    expect(page.locator("#running-note")).to_contain_text("no responde")
    assert_no_serious_violations(page)


ROLE_MENU_ROOM = """sel => {
    const style = getComputedStyle(sel);
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.font = style.font;
    const longest = Math.max(...[...sel.options].map(o => ctx.measureText(o.text).width));
    const inner = sel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const box = sel.getBoundingClientRect();
    return {room: inner - longest, right: box.right, viewport: document.documentElement.clientWidth};
}"""


@pytest.mark.parametrize("width", [1280, 1024])
def test_users_list_first_create_behind_a_button(lone_backend: Running, admin_page, width: int) -> None:
    page = admin_page()
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, lone_backend, "admin@promptlink.example", "#/usuarios")
    table = page.locator("#users-table")
    expect(table.locator('tr[data-email="admin@promptlink.example"]')).to_have_count(1)
    # The list is what the page shows first; the creation form waits behind «Crear una cuenta».
    expect(page.locator("#user-form")).to_be_hidden()
    top = table.bounding_box()
    assert top is not None and top["y"] < 200
    # Every role menu shows its longest choice whole (with room for the arrow), inside the page.
    for menu in table.locator(".user-role").all():
        room = menu.evaluate(ROLE_MENU_ROOM)
        assert room["room"] >= 16 and room["right"] <= room["viewport"], room
    opener = page.locator("#user-create-open")
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#user-form")).to_be_visible()
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#user-email")).to_be_focused()
    assert_no_serious_violations(page)
    page.click("#user-create-cancel")
    expect(page.locator("#user-form")).to_be_hidden()
    expect(opener).to_be_focused()
