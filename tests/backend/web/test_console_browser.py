"""The agent console as agents use it: Chromium against a real backend with the demo data."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from testkit.browser import page_factory
from testkit.demo import DEMO_PASSWORDS, agent_token
from testkit.processes import Running

pytestmark = [pytest.mark.browser]

CUSTOMER = "CABLEANDINA"
CONTACT = "ana.gomez@cableandina.example"
DUE = re.compile(r"^vence en (\d+ d \d+ h|\d+ h \d+ min|\d+ min|\d+ s)$")


@pytest.fixture
def console(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A fresh browser context (1280x800, Spanish) factory; every page fails the test on a JS error or alert."""
    with page_factory(browser) as open_page:
        yield open_page


def headers(backend: Running, agent: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {agent_token(backend.base_url, agent, DEMO_PASSWORDS[agent])}"}


def api_ticket(backend: Running, agent: str, **fields: Any) -> dict[str, Any]:
    payload = {"customer": CUSTOMER, "contact": CONTACT, "channel": "phone", **fields}
    response = httpx.post(
        backend.base_url + "/api/v1/tickets", json=payload, headers=headers(backend, agent), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def log_in(page: Page, backend: Running, agent: str, path: str = "/console") -> None:
    page.goto(backend.base_url + path)
    page.fill("#login-email", agent)
    page.fill("#login-password", DEMO_PASSWORDS[agent])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#whoami-name")).to_be_visible()


def file_phone_call(page: Page, title: str, *, kind: str = "software_bug") -> None:
    page.click('a[data-nav="phone"]')
    expect(page.locator("#phone-form")).to_be_visible()
    expect(page.locator(f'#phone-customer option[value="{CUSTOMER}"]')).to_be_attached()
    page.select_option("#phone-customer", CUSTOMER)
    page.select_option("#phone-contact", CONTACT)
    page.select_option("#phone-type", kind)
    page.fill("#phone-title-input", title)
    page.fill("#phone-description", "El cliente llama: el portal falla al aprovisionar módems desde ayer.")
    expect(page.locator("#fact-production_down")).not_to_be_checked()
    expect(page.locator("#fact-most_operations_proceed")).to_be_checked()
    page.check("#fact-damaged")
    page.click("#phone-form button[type=submit]")


def opened_ticket(page: Page) -> str:
    page.wait_for_url(re.compile(r"#/tickets/PL-\d{4}-\d{6}$"))
    expect(page.locator("#ticket-facts dt").first).to_be_visible()
    number = page.url.rsplit("/", 1)[-1]
    expect(page.locator("#ticket-number")).to_have_text(number)
    expect(page.locator("#ticket-title")).to_be_focused()  # the opened ticket has the focus
    return number


def fact(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.locator("#ticket-facts dt", has_text=re.compile(f"^{label}$")).locator("xpath=following-sibling::dd[1]")


def test_agent_files_a_call_updates_the_customer_and_the_mailbox_has_it(lone_backend: Running, console) -> None:
    page = console()
    page.goto(lone_backend.base_url + "/console")
    expect(page.locator("#login-form")).to_be_visible()

    # A wrong password is refused in Spanish; the right one opens the agent's own queue.
    page.fill("#login-email", "l2@promptlink.example")
    page.fill("#login-password", "not-the-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Correo o contraseña incorrectos.")
    page.fill("#login-password", DEMO_PASSWORDS["l2@promptlink.example"])
    page.click("#login-form button[type=submit]")
    expect(page.locator('.queue[data-tier="L2"]')).to_be_visible()
    expect(page.locator('.queue[data-tier="L1"]')).to_have_count(0)
    expect(page.locator("#whoami-name")).to_contain_text("Diego Nivel Dos")

    # A phone call: software fault, damaged but not down -> P3 for Level 2.
    title = f"Portal de aprovisionamiento con error 500 ({uuid.uuid4().hex[:6]})"
    file_phone_call(page, title)
    number = opened_ticket(page)
    expect(page.locator("#ticket-heading")).to_have_text(title)
    expect(fact(page, "Prioridad").locator(".badge")).to_have_text("P3")
    expect(fact(page, "Prioridad")).to_contain_text("Prioridad 3")
    expect(fact(page, "Nivel")).to_contain_text("L2")
    expect(fact(page, "Canal")).to_have_text("Teléfono")
    expect(fact(page, "Contacto")).to_have_text(CONTACT)
    expect(page.locator("#ticket-due .due")).to_have_text(DUE)
    # The software fault opened a linked bug (internal history entry, and the bug card).
    expect(page.locator('.history-item[data-kind="bug_linked"][data-public="false"]')).to_have_count(1)
    expect(page.locator("#bug-list .bug-item")).to_have_count(1)
    expect(page.locator("#bug-list .bug-item")).to_contain_text("estado: nuevo")

    # Public update and internal note: two forms, two clearly labelled kinds of history entry.
    update = "Hemos reproducido el error y estamos preparando una corrección."
    page.fill("#update-form textarea", update)
    page.click("#update-form button[type=submit]")
    public = page.locator('.history-item[data-kind="update"][data-public="true"]')
    expect(public).to_have_count(1)
    expect(public).to_contain_text(update)
    expect(public.locator(".label")).to_have_text("Público")
    expect(public).to_contain_text(f"Enviado a: {CONTACT}")
    expect(page.locator("#update-form textarea")).to_have_value("")
    expect(page.locator("#update-form .form-msg")).to_have_text("Actualización enviada al cliente.")

    note = "Parece causado por la migración de la base de datos de la versión 4.2."
    page.fill("#note-form textarea", note)
    page.click("#note-form button[type=submit]")
    internal = page.locator('.history-item[data-kind="note"][data-public="false"]')
    expect(internal).to_have_count(1)
    expect(internal).to_contain_text(note)
    expect(internal.locator(".label")).to_have_text("Interno")

    # Assign to me; a reload keeps the ticket open (URL hash) and the session (cookie).
    page.click("#assign-me")
    expect(fact(page, "Asignado a")).to_contain_text("Diego Nivel Dos")
    page.reload()
    expect(page.locator("#ticket-number")).to_have_text(number)
    expect(page.locator('.history-item[data-kind="note"]')).to_contain_text(note)

    # An API error is shown in Spanish next to the form.
    page.fill("#bug-link-key", "BUG-999999")
    page.click("#bug-link-form button[type=submit]")
    expect(page.locator("#bug-link-form .form-msg")).to_have_text("No encontrado. La falla BUG-999999 no existe.")
    # A priority override needs a reason (checked before the request).
    page.select_option("#priority-select", "2")
    page.click("#priority-form button[type=submit]")
    expect(page.locator("#priority-form .form-msg")).to_have_text("Indique el motivo.")

    # Back in the queue: the ticket, mine, with a live countdown.
    page.click("text=← Volver a las colas")
    row = page.locator(f'.queue[data-tier="L2"] .ticket-row[data-number="{number}"]')
    expect(row).to_be_visible()
    expect(row.locator(".badge")).to_have_text("P3")
    expect(row.locator(".row-assignee")).to_have_text("Asignado a mí")
    expect(row.locator(".due")).to_have_text(DUE)
    expect(row).not_to_have_class(re.compile(r"\boverdue\b"))

    # Search by number.
    page.fill("#search-q", number)
    page.click("#search-form button[type=submit]")
    expect(page.locator(f'#search-list .ticket-row[data-number="{number}"]')).to_be_visible()

    # The customer's copy of the update, in the demo mailbox.
    mailbox = httpx.get(lone_backend.base_url + "/demo/api/mailbox", params={"to": CONTACT}, timeout=10)
    if mailbox.status_code == 404:
        pytest.skip("demo mailbox not built yet")
    assert mailbox.status_code == 200, mailbox.text
    deadline = time.monotonic() + 15
    while not any(update in item["body"] and number in item["subject"] for item in mailbox.json()["items"]):
        assert time.monotonic() < deadline, "the update never reached the demo mailbox"
        time.sleep(0.3)
        mailbox = httpx.get(lone_backend.base_url + "/demo/api/mailbox", params={"to": CONTACT}, timeout=10)
    page.goto(f"{lone_backend.base_url}/demo/mailbox?to={CONTACT}")
    mail = page.locator(".pl-mail", has_text=update)
    expect(mail).to_have_count(1)
    expect(mail).to_contain_text(number)
    expect(mail).to_contain_text(CONTACT)


@pytest.mark.parametrize(("path", "role"), [("/console", "supervisor"), ("/admin", "admin")])
def test_a_first_visit_asks_nothing_it_cannot_get_and_a_reload_keeps_the_session(
    lone_backend: Running, auth_headers, console, path: str, role: str
) -> None:
    """No 401 in the browser's console before anyone signs in; signed in, a reload stays signed in; signed
    out, a reload shows the login again, again without a refused request."""
    # An account of its own: logging out ends every session of the account (the shared demo ones too).
    agent, password = f"shell.{uuid.uuid4().hex[:8]}@promptlink.example", "clave-" + uuid.uuid4().hex[:12]
    created = httpx.post(
        lone_backend.base_url + "/api/v1/admin/users",
        headers=auth_headers["admin"],
        json={"email": agent, "name": "Cuenta de prueba", "role": role, "tiers": ["L1"], "password": password},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    page = console()
    refused: list[str] = []
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(lone_backend.base_url + path)
    expect(page.locator("#login-email")).to_be_visible()
    assert refused == []
    page.fill("#login-email", agent)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#whoami-name")).to_be_visible()
    page.reload()
    expect(page.locator("#whoami-name")).to_be_visible()
    expect(page.locator("#login-email")).to_be_hidden()
    page.click("#logout-button")
    expect(page.locator("#login-email")).to_be_visible()
    page.reload()
    expect(page.locator("#login-email")).to_be_visible()
    assert refused == []


def test_p1_countdown_runs_and_an_overdue_ticket_stands_out(lone_backend: Running, console) -> None:
    ticket = api_ticket(
        lone_backend,
        "l3@promptlink.example",
        type="network_outage",
        title="Caída total de la red HFC en Bogotá",
        facts={"production_down": True, "solution_available": False},
    )
    assert (ticket["priority"], ticket["tier"]) == (1, "L3")
    number = ticket["number"]

    page = console()
    page.clock.install()  # the browser's clock: the test moves it past the 2 h cadence of P1
    log_in(page, lone_backend, "l3@promptlink.example")
    row = page.locator(f'.queue[data-tier="L3"] .ticket-row[data-number="{number}"]')
    expect(row).to_be_visible()
    expect(row.locator(".badge")).to_have_text("P1")
    expect(row.locator(".due")).to_have_text(re.compile(r"^vence en (1 h 5\d min|2 h 0 min)$"))
    expect(row).not_to_have_class(re.compile(r"\boverdue\b"))
    expect(row.locator(".overdue-flag")).to_be_hidden()

    page.clock.fast_forward("02:05:00")
    expect(row).to_have_class(re.compile(r"\boverdue\b"))
    expect(row.locator(".due")).to_have_text(re.compile(r"^vencido hace ([4-6]) min$"))
    expect(row.locator(".overdue-flag")).to_be_visible()
    expect(row.locator(".overdue-flag")).to_contain_text("Vencido")
    expect(page.locator('.queue[data-tier="L3"] .queue-summary')).to_contain_text("vencido")
    # The same wording on the ticket page.
    row.locator("a").click()
    expect(page.locator("#ticket-due")).to_have_class(re.compile(r"\boverdue\b"))
    expect(page.locator("#ticket-due .due")).to_have_text(re.compile(r"^vencido hace \d+ min$"))

    assert page.evaluate("PromptlinkConsole.dueText(72 * 60 * 1000)") == "vence en 1 h 12 min"
    assert page.evaluate("PromptlinkConsole.dueText(-5 * 60 * 1000)") == "vencido hace 5 min"
    assert page.evaluate("PromptlinkConsole.dueText(-(26 * 60 + 3) * 60 * 1000)") == "vencido hace 1 d 2 h"


def test_markup_in_a_title_is_shown_as_text(lone_backend: Running, console) -> None:
    attack = "<img src=x onerror=alert(1)>"
    ticket = api_ticket(lone_backend, "supervisor@promptlink.example", type="configuration", title=attack)
    number = ticket["number"]
    page = console()
    log_in(page, lone_backend, "supervisor@promptlink.example")
    row = page.locator(f'.queue[data-tier="{ticket["tier"]}"] .ticket-row[data-number="{number}"]')
    expect(row.locator(".row-title")).to_have_text(attack)
    expect(page.locator("#queues img")).to_have_count(0)
    row.locator("a").click()
    expect(page.locator("#ticket-heading")).to_have_text(attack)
    expect(page.locator('.history-item[data-kind="created"]')).to_contain_text(attack)
    expect(page.locator("#ticket-view img")).to_have_count(0)
    page.wait_for_timeout(300)  # an injected onerror would have fired by now (the fixture fails on dialogs)


def test_a_lost_answer_and_a_resubmit_file_one_ticket(lone_backend: Running, console) -> None:
    page = console()
    log_in(page, lone_backend, "l2@promptlink.example")
    calls: list[str] = []

    def lose_first_answer(route: Route) -> None:
        calls.append(route.request.headers.get("idempotency-key", ""))
        if len(calls) == 1:
            route.fetch()  # the backend creates the ticket...
            route.abort("connectionreset")  # ...but the answer never reaches the console
        else:
            route.continue_()

    page.route("**/api/v1/tickets", lose_first_answer)
    title = f"Llamada repetida {uuid.uuid4().hex[:8]}"
    file_phone_call(page, title)
    expect(page.locator("#phone-error")).to_contain_text("No se pudo conectar con el servidor")
    page.click("#phone-form button[type=submit]")
    number = opened_ticket(page)
    assert len(calls) == 2 and calls[0] and calls[0] == calls[1]
    found = httpx.get(
        lone_backend.base_url + "/api/v1/tickets",
        params={"q": title},
        headers=headers(lone_backend, "l2@promptlink.example"),
        timeout=10,
    ).json()
    assert [t["number"] for t in found["items"]] == [number]

    # The next call gets a new key.
    page.unroute("**/api/v1/tickets")
    page.route("**/api/v1/tickets", lose_first_answer)
    file_phone_call(page, title + " bis")
    second = opened_ticket(page)
    assert second != number and calls[2] != calls[0]


def test_supervisor_works_bug_and_rma_and_agents_outside_the_tier_only_read(lone_backend: Running, console) -> None:
    hardware = api_ticket(
        lone_backend,
        "supervisor@promptlink.example",
        type="hardware_failure",
        title="La fuente de alimentación del CMTS no enciende",
        device="cmts-bog-01",
        facts={"severely_damaged": True, "solution_available": True},
    )
    page = console()
    log_in(page, lone_backend, "supervisor@promptlink.example", path=f"/console#/tickets/{hardware['number']}")
    for tier in ("L1", "L2", "L3"):
        expect(page.locator(f'.queue[data-tier="{tier}"]')).to_have_count(0)  # straight to the ticket
    expect(page.locator("#ticket-number")).to_have_text(hardware["number"])
    rma = page.locator("#rma-list .rma-item")
    expect(rma).to_have_count(1)
    expect(rma).to_contain_text("estado: solicitada")
    rma.locator("select").select_option("approved")
    rma.locator("button[type=submit]").click()
    expect(page.locator("#rma-list .rma-item")).to_contain_text("estado: aprobada")

    # Transfer with a reason.
    page.fill("#tier-reason", "Requiere diagnóstico de Nivel 3")
    page.select_option("#tier-select", "L3")
    page.click("#tier-form button[type=submit]")
    expect(fact(page, "Nivel")).to_contain_text("L3")
    expect(page.locator('.history-item[data-kind="tier_changed"][data-public="false"]')).to_contain_text(
        "Requiere diagnóstico de Nivel 3"
    )

    # An agent reads its own tiers and the lower ones (docs/security.md): L2 does not read an L3 ticket…
    other = console()
    log_in(other, lone_backend, "l2@promptlink.example", path=f"/console#/tickets/{hardware['number']}")
    expect(other.locator("#ticket-error")).to_contain_text(re.compile("pertenece al nivel L3|No tiene permiso"))

    # …and reads a Level 1 ticket without working it (internal notes only).
    page.fill("#tier-reason", "Lo resuelve Nivel 1 con el reemplazo")
    page.select_option("#tier-select", "L1")
    page.click("#tier-form button[type=submit]")
    expect(fact(page, "Nivel")).to_contain_text("L1")
    other.goto(f"{lone_backend.base_url}/console#/queues")
    other.goto(f"{lone_backend.base_url}/console#/tickets/{hardware['number']}")
    expect(other.locator("#ticket-readonly")).to_contain_text("pertenece al nivel L1")
    expect(other.locator("#update-form textarea")).to_be_disabled()
    expect(other.locator("#note-form textarea")).to_be_enabled()


def test_a_customer_identity_is_not_a_console_user(lone_backend: Running, console) -> None:
    token = httpx.post(lone_backend.base_url + "/demo/identity", json={"contact": CONTACT}, timeout=10).json()["token"]
    page = console()
    # Without the pages' hint the console only shows its login; with it, it asks who this is and refuses.
    page.context.add_cookies([{"name": "pl_session", "value": token, "url": lone_backend.base_url}])
    page.goto(lone_backend.base_url + "/console")
    expect(page.locator("#login-email")).to_be_visible()
    page.context.add_cookies([{"name": "pl_signed_in", "value": "1", "url": lone_backend.base_url}])
    page.goto(lone_backend.base_url + "/console")
    expect(page.locator("#denied-view")).to_be_visible()
    expect(page.locator("#denied-view")).to_contain_text("solo para el personal de soporte")
    expect(page.locator("#nav")).to_be_hidden()
    page.click("#denied-logout")
    expect(page.locator("#login-form")).to_be_visible()


def test_forbidden_and_expired_session_are_explained_in_spanish(lone_backend: Running, console) -> None:
    ticket = api_ticket(lone_backend, "l1@promptlink.example", type="configuration", title="Alta de un nuevo nodo HFC")
    assert ticket["tier"] == "L1"
    page = console()
    log_in(page, lone_backend, "l1@promptlink.example", path=f"/console#/tickets/{ticket['number']}")
    expect(page.locator("#ticket-heading")).to_have_text("Alta de un nuevo nodo HFC")

    # Bugs are Level 2 and 3 work: the API says 403, the page says it in Spanish.
    page.click("#bug-create-form button[type=submit]")
    expect(page.locator("#bug-create-form .form-msg")).to_have_text("No tiene permiso para esta acción.")

    # The session ends (cookie gone): the next action asks to log in again, then comes back here
    # with the unsent note still in its box.
    page.context.clear_cookies()
    page.fill("#note-form textarea", "Nota escrita mientras caducaba la sesión")
    page.click("#note-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Su sesión ha caducado; inicie sesión de nuevo.")
    page.fill("#login-email", "l1@promptlink.example")
    page.fill("#login-password", DEMO_PASSWORDS["l1@promptlink.example"])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#note-form textarea")).to_have_value("Nota escrita mientras caducaba la sesión")
    page.click("#note-form button[type=submit]")
    expect(page.locator('.history-item[data-kind="note"]')).to_contain_text("mientras caducaba la sesión")


def test_the_ticket_page_shows_what_the_customer_said(lone_backend: Running, console) -> None:
    alarm = api_ticket(
        lone_backend,
        "supervisor@promptlink.example",
        channel="snmp",
        type="network_outage",
        device="cmts-bog-01",
        title="Enlace caído en cmts-bog-01 (interfaz 3)",
        facts={"damaged": True},
    )
    attack = "<img src=x onerror=alert(1)> E042"
    ticket = api_ticket(
        lone_backend,
        "supervisor@promptlink.example",
        type="hardware_failure",
        title="Amplificador sin energía",
        device_text="Amplificador de la calle 7",
        serial="AMP-0007",
        version="4.2.1",
        error_message=attack,
        since="2026-11-25T08:30-05:00",
        related_ticket=alarm["number"],
        facts={"damaged": True},
    )
    page = console()
    log_in(page, lone_backend, "supervisor@promptlink.example", path=f"/console#/tickets/{ticket['number']}")
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(fact(page, "Equipo")).to_contain_text("Amplificador de la calle 7")
    expect(fact(page, "Equipo")).to_contain_text("no registrado")
    expect(fact(page, "Número de serie")).to_have_text("AMP-0007")
    expect(fact(page, "Versión")).to_have_text("4.2.1")
    expect(fact(page, "Desde").locator("time")).to_have_attribute("datetime", "2026-11-25T13:30:00+00:00")
    expect(fact(page, "Mensaje de error")).to_have_text(attack)  # shown as text, never as markup
    expect(page.locator("#ticket-view img")).to_have_count(0)
    expect(fact(page, "RMA")).to_contain_text(ticket["rma"]["number"])
    expect(fact(page, "RMA")).to_contain_text("serie AMP-0007")
    expect(page.locator('.history-item[data-kind="linked"]')).to_contain_text(alarm["number"])
    # The related ticket is a link to its page.
    fact(page, "Tiquete relacionado").locator("a").click()
    page.wait_for_url(re.compile(re.escape(f"#/tickets/{alarm['number']}") + "$"))
    expect(page.locator("#ticket-number")).to_have_text(alarm["number"])
    expect(fact(page, "Equipo")).to_have_text("cmts-bog-01")
    expect(page.locator('.history-item[data-kind="linked"]')).to_contain_text(ticket["number"])
    page.wait_for_timeout(300)  # an injected onerror would have fired by now (the fixture fails on dialogs)
