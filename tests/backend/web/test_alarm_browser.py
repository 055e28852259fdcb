"""In Chromium: the customer's widget shows the alarm notice a few seconds after a real trap arrives
(the wave's quiet time, docs/snmp.md);
the L1 console lists traps from unknown equipment under «Alarmas sin asignar» and assigns them
to a customer's device, which opens the ticket and tells the customer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from testkit.demo import DEMO_PASSWORDS
from testkit.processes import Running, start_lone_backend
from testkit.traps import LINK_DOWN, link_varbinds, snmptrap

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_lone_backend(tmp_path_factory.mktemp("snmp-browser"))
    yield running
    running.stop()


def test_a_link_down_trap_appears_in_the_open_widget_and_unknown_equipment_in_the_console(
    backend: Running, browser
) -> None:  # type: ignore[no-untyped-def]
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(backend.base_url + "/")
        expect(page.locator('.pl-status[data-state="online"]')).to_be_visible(timeout=20_000)

        snmptrap(port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(6), client="127.0.0.21")
        notice = page.locator('.pl-msg[data-role="system"] .pl-msg-text', has_text="Aviso de monitoreo")
        expect(notice).to_have_count(1, timeout=15_000)  # the notice goes once the wave is quiet (3 s)
        expect(notice).to_contain_text("cmts-bog-01")
        expect(notice).to_contain_text("interfaz 6")
        expect(notice).to_contain_text("PL-")
        expect(notice).to_contain_text("Próxima actualización")

        # Equipment nobody owns: no ticket, no customer message; L1 sees it in the console.
        # Sent from that equipment's own address: a trap speaks for its UDP source (docs/security.md).
        unknown = ("1.3.6.1.4.1.8072", "127.0.0.77", "0", "0", "")
        snmptrap(port, "-v", "1", "-c", "public", "--", *unknown, client="127.0.0.77")
        console = context.new_page()
        console.on("pageerror", lambda exc: errors.append(str(exc)))
        console.goto(backend.base_url + "/console")
        console.fill("#login-email", "l1@promptlink.example")
        console.fill("#login-password", DEMO_PASSWORDS["l1@promptlink.example"])
        console.click("#login-form button[type=submit]")
        expect(console.locator("#unassigned-alarms-title")).to_have_text("Alarmas sin asignar", timeout=10_000)
        item = console.locator("#unassigned-alarms-list .unassigned-alarm")
        expect(item).to_have_count(1, timeout=10_000)
        expect(item).to_contain_text("127.0.0.77")
        expect(item).to_contain_text("Reinicio completo")
        expect(notice).to_have_count(1)

        # Level 1 recognises it as Cable Andina's cmts-bog-02: the ticket opens and Ana is told at once.
        form = item.locator(".assign-alarm-form")
        form.locator("button[type=submit]").click()
        expect(form.locator(".form-msg")).to_have_text("Indique el nombre del equipo.")
        form.locator(".assign-device").fill("no-existe-99")
        form.locator("button[type=submit]").click()
        expect(form.locator(".form-msg")).to_have_text("El equipo no existe.")
        console.wait_for_timeout(16_000)  # a periodic refresh comes meanwhile: the typed name stays
        expect(form.locator(".assign-device")).to_have_value("no-existe-99")
        form.locator(".assign-device").fill("cmts-bog-02")
        form.locator("button[type=submit]").click()
        expect(console.locator("#unassigned-alarms-msg")).to_have_text(
            "Alarma asignada a cmts-bog-02. Se abrió 1 tiquete y se avisó al cliente."
        )
        expect(console.locator("#unassigned-alarms-list")).to_have_text("No hay alarmas sin asignar.")
        expect(notice).to_have_count(2, timeout=5_000)
        expect(notice.last).to_contain_text("su equipo cmts-bog-02 (127.0.0.77)")
        expect(notice.last).to_contain_text("Reinicio completo")
        expect(notice.last).to_contain_text("PL-")
    finally:
        context.close()
    assert errors == []
