"""Trap → chat through real processes: the backend's own receiver, and the separate
`python -m promptlink snmp` process reaching the backend's sockets through Redis."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyasn1.type.univ import Integer

from testkit.chat_client import ChatClient, widget_token
from testkit.demo import SERVICE_TOKEN, service_headers
from testkit.metrics import by_series, processes
from testkit.processes import BACKEND_PY, ROOT, Running, free_port, free_udp_port, start_lone_backend
from testkit.smtp_sink import Received, Sink, start_sink
from testkit.traps import IF_INDEX, IF_OPER, LINK_DOWN, LINK_UP, link_varbinds, snmptrap, v2c_packet

REDIS_URL = "redis://127.0.0.1:6379/0"
ANA = "ana.gomez@cableandina.example"
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_lone_backend(tmp_path_factory.mktemp("snmp-backend"))
    yield running
    running.stop()


def _alarm_notice(device: str):
    return lambda m: m["role"] == "system" and device in m["text"] and "Aviso de monitoreo" in m["text"]


async def test_link_down_reaches_the_open_chat_at_once_and_link_up_tells_the_customer(backend: Running) -> None:
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    chat = await ChatClient(backend.base_url).connect(identity=widget_token(backend.base_url, ANA))
    try:
        started = time.monotonic()
        await asyncio.to_thread(snmptrap, port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(2))
        notice = await chat.wait_for(_alarm_notice("cmts-bog-01"), timeout=15)
        elapsed = time.monotonic() - started
        assert notice["conversation_id"] == chat.session["conversation_id"]
        assert "P2" in notice["text"] and "PL-" in notice["text"] and notice["author_name"]
        # The notice waits for the wave to be quiet (notice_quiet_seconds, 3 s), then goes within a second.
        assert elapsed < 10, f"trap to chat took {elapsed:.2f} s"
        await asyncio.to_thread(snmptrap, port, "-v", "2c", "-c", "public", "--", "", LINK_UP, *link_varbinds(2))
        resolved = await chat.wait_for(lambda m: "resuelto" in m["text"], timeout=15)
        assert "volvió a funcionar" in resolved["text"]
    finally:
        await chat.close()
    async with httpx.AsyncClient(base_url=backend.base_url + "/api/v1", timeout=10) as api:
        assert (await api.get("/metrics")).status_code == 401
        customer = {"Authorization": f"Bearer {widget_token(backend.base_url, ANA)}"}
        assert (await api.get("/metrics", headers=customer)).status_code == 403
        metrics = by_series((await api.get("/metrics", headers=SERVICE)).text)
        assert metrics['promptlink_snmp_traps_received_total{version="v2c"}'] == 2
        assert metrics["promptlink_snmp_traps_processed_total"] == 2
        assert "promptlink_udp_rcvbuf_errors_total" in metrics
        alarms = (await api.get("/alarms", headers=service_headers(ANA))).json()
        assert alarms["customer"] == "CABLEANDINA" and alarms["alarms"] == []  # cleared


async def test_twenty_interfaces_going_down_are_one_ticket_one_chat_message_and_one_email(backend: Running) -> None:
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    interfaces = range(101, 121)
    chat = await ChatClient(backend.base_url).connect(identity=widget_token(backend.base_url, ANA))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.21", 0))  # cmts-bog-01
            for i in interfaces:  # real v2c linkDown traps, one every 50 ms
                varbinds = [(f"1.3.6.1.2.1.2.2.1.1.{i}", Integer(i)), (f"1.3.6.1.2.1.2.2.1.8.{i}", Integer(2))]
                sock.sendto(v2c_packet("public", LINK_DOWN, varbinds, request_id=i), ("127.0.0.1", port))
                await asyncio.sleep(0.05)
        notice = await chat.wait_for(_alarm_notice("cmts-bog-01"), timeout=30)
        for i in interfaces:
            assert f"la interfaz {i} dejó de funcionar" in notice["text"]
        await asyncio.sleep(5)  # longer than the quiet time: nothing else comes
        assert [m for m in chat.messages if _alarm_notice("cmts-bog-01")(m)] == [notice]
    finally:
        await chat.close()
    async with httpx.AsyncClient(base_url=backend.base_url, timeout=10) as api:
        alarms = (await api.get("/api/v1/alarms", headers=service_headers(ANA))).json()["alarms"]
        mails = (await api.get("/demo/api/mailbox", params={"to": ANA})).json()["items"]
    assert len(alarms) == 20 and len({a["ticket"] for a in alarms}) == 1
    wave = [m for m in mails if alarms[0]["ticket"] in m["subject"]]
    assert len(wave) == 1 and "la interfaz 120 dejó de funcionar" in wave[0]["body"]


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Sink]]:
    """A backend (demo mode) whose outbox sends e-mail over SMTP to a real SMTP server of the test's.

    Its tests leave no alarm open: a wave still open would take in the next test's alarms."""
    port = free_port()
    sink, controller = start_sink(port)
    try:
        running = start_lone_backend(
            tmp_path_factory.mktemp("snmp-relayed"),
            PROMPTLINK_SMTP_RELAY_HOST="127.0.0.1",
            PROMPTLINK_SMTP_RELAY_PORT=str(port),
        )
        try:
            yield running, sink
        finally:
            running.stop()
    finally:
        controller.stop()


async def _trap_wave(port: int, trap_oid: str, interfaces: Iterable[int], *, source: str = "127.0.0.21") -> None:
    """Real v2c linkDown/linkUp traps (IF-MIB ifIndex, ifOperStatus) from `source`, one every 50 ms."""
    oper = 1 if trap_oid == LINK_UP else 2
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))  # 127.0.0.21: cmts-bog-01, 127.0.0.22: cmts-bog-02
        for i in interfaces:
            varbinds = [(f"{IF_INDEX}.{i}", Integer(i)), (f"{IF_OPER}.{i}", Integer(oper))]
            sock.sendto(v2c_packet("public", trap_oid, varbinds, request_id=i * 10 + oper), ("127.0.0.1", port))
            await asyncio.sleep(0.05)


async def _processed(api: httpx.AsyncClient) -> int:
    """The backend's count of traps processed (its /metrics)."""
    metrics = by_series((await api.get("/api/v1/metrics", headers=SERVICE)).text)
    return int(metrics["promptlink_snmp_traps_processed_total"])


async def _until_processed(api: httpx.AsyncClient, count: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while (done := await _processed(api)) < count:
        assert time.monotonic() < deadline, f"{done} traps processed, not {count}"
        await asyncio.sleep(0.1)


async def _open_alarms(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    alarms: list[dict[str, Any]] = (await api.get("/api/v1/alarms", headers=service_headers(ANA))).json()["alarms"]
    return alarms


def _mails(sink: Sink, number: str) -> list[Received]:
    """What the SMTP server received for Ana about ticket `number`, in order."""
    return [r for r in list(sink.received) if r.rcpt_tos == (ANA,) and f"[{number}]" in str(r.message["Subject"])]


async def _until_mails(sink: Sink, number: str, count: int, timeout: float = 15) -> list[Received]:
    deadline = time.monotonic() + timeout
    while len(mails := _mails(sink, number)) < count:
        assert time.monotonic() < deadline, f"{len(mails)} e-mails about {number}, not {count}"
        await asyncio.sleep(0.1)
    return mails


def _plain(received: Received) -> str:
    part = received.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


async def test_twenty_interfaces_bouncing_are_one_message_per_wave_in_chat_and_over_smtp(
    relayed: tuple[Running, Sink],
) -> None:
    """Issue #17 with real traps: 20 interfaces of cmts-bog-01 go down, come back (linkUp), go down again
    within the flapping window and come back again. Each of the four waves is one chat message and one
    e-mail to Ana (through a real SMTP server) naming the 20 interfaces, never one per interface."""
    backend, sink = relayed
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    interfaces = range(201, 221)
    titles = [f"Enlace caído en cmts-bog-01 (interfaz {i})" for i in interfaces]
    listed = "".join(f"\n- {title}" for title in titles)
    number = ""

    def resolved(m: dict[str, Any]) -> bool:
        return m["role"] == "agent" and f"tiquete {number}:" in m["text"] and "→ resuelto." in m["text"]

    def again(m: dict[str, Any]) -> bool:
        return m["role"] == "system" and "volvieron a activarse tras despejarse" in m["text"]

    def ticket_status() -> str:
        url = f"{backend.base_url}/api/v1/tickets/{number}"
        return str(httpx.get(url, headers=service_headers(ANA), timeout=10).json()["status"])

    chat = await ChatClient(backend.base_url).connect(identity=widget_token(backend.base_url, ANA))
    api = httpx.AsyncClient(base_url=backend.base_url, timeout=10)
    try:
        base = await _processed(api)
        # 1. Down: one notice listing the 20, one ticket.
        await _trap_wave(port, LINK_DOWN, interfaces)
        down = await chat.wait_for(_alarm_notice("cmts-bog-01"), timeout=15)
        for i in interfaces:
            assert f"el enlace de la interfaz {i} dejó de funcionar (linkDown)" in down["text"]
        await _until_processed(api, base + 20)
        alarms = await _open_alarms(api)
        assert sorted(a["title"] for a in alarms) == sorted(titles)
        (number,) = {a["ticket"] for a in alarms}

        # 2. Back (linkUp): the alarms clear, the ticket is resolved, and the customer hears it once, all 20 named.
        await _trap_wave(port, LINK_UP, interfaces)
        back = await chat.wait_for(resolved, timeout=15)
        assert "Con ello quedaron despejadas las 20 alarmas de este tiquete (20 avisos):" + listed in back["text"]
        await _until_processed(api, base + 40)
        assert await _open_alarms(api) == []
        assert await asyncio.to_thread(ticket_status) == "resolved"

        # 3. Down again within flapping_minutes: the ticket reopens; one notice «volvieron a activarse».
        await _trap_wave(port, LINK_DOWN, interfaces)
        down_again = await chat.wait_for(again, timeout=15)
        assert down_again["text"].startswith(
            "Aviso de monitoreo: 20 alarmas de sus equipos volvieron a activarse tras despejarse:"
        )
        assert down_again["text"].count(f"se detectó de nuevo; el tiquete {number} sigue en curso.") == 20
        for title in titles:
            assert f"«{title}»" in down_again["text"]
        await _until_processed(api, base + 60)
        assert len(await _open_alarms(api)) == 20

        # 4. Back again: resolved once more, told once (each alarm now counts two traps).
        await _trap_wave(port, LINK_UP, interfaces)
        back_again = await chat.wait_for(lambda m: resolved(m) and m is not back, timeout=15)
        assert "quedaron despejadas las 20 alarmas de este tiquete (40 avisos):" + listed in back_again["text"]
        await _until_processed(api, base + 80)
        assert await _open_alarms(api) == []
        assert await asyncio.to_thread(ticket_status) == "resolved"
        await _until_mails(sink, number, 4)
        await asyncio.sleep(1)  # five rounds of the outbox: nothing more comes
    finally:
        await chat.close()
        await api.aclose()
    # Over the whole run, each wave followed by more than the quiet time (notice_quiet_seconds, 3 s): once each.
    assert [m for m in chat.messages if _alarm_notice("cmts-bog-01")(m)] == [down, down_again]
    assert [m for m in chat.messages if resolved(m)] == [back, back_again]
    mails = _mails(sink, number)
    subject = f"[{number}] Actualización: {titles[0]} y 19 alarmas más"
    assert [str(r.message["Subject"]) for r in mails] == [
        f"[{number}] Alarmas detectadas en sus equipos",
        subject,
        f"[{number}] Alarmas detectadas en sus equipos",
        subject,
    ]
    assert _plain(mails[0]) == f"{down['text']}\n\nSoporte Técnico Promptlink\n"
    assert _plain(mails[2]) == f"{down_again['text']}\n\nSoporte Técnico Promptlink\n"
    assert "(20 avisos):" + listed in _plain(mails[1]) and "(40 avisos):" + listed in _plain(mails[3])


async def test_a_wave_of_twenty_alarms_is_one_email_over_smtp_with_proper_headers(
    relayed: tuple[Running, Sink],
) -> None:
    """The wave's e-mail as a real SMTP server receives it from the backend's relay: one message to Ana,
    with From, To, Subject, Message-ID and Date, its Spanish text declared and encoded as UTF-8."""
    backend, sink = relayed
    port = int(backend.env["PROMPTLINK_SNMP_PORT"])
    interfaces = range(301, 321)
    async with httpx.AsyncClient(base_url=backend.base_url, timeout=10) as api:
        base = await _processed(api)
        sent_at = datetime.now(UTC)
        await _trap_wave(port, LINK_DOWN, interfaces, source="127.0.0.22")  # cmts-bog-02
        await _until_processed(api, base + 20)
        alarms = await _open_alarms(api)
        assert len(alarms) == 20
        (number,) = {a["ticket"] for a in alarms}
        (received,) = await _until_mails(sink, number, 1)
        await asyncio.sleep(1)  # the wave is over (every trap processed), the outbox has run five times
        assert _mails(sink, number) == [received]
        # Leave no alarm open for the module's next test: the 20 interfaces come back.
        await _trap_wave(port, LINK_UP, interfaces, source="127.0.0.22")
        await _until_processed(api, base + 40)
        assert await _open_alarms(api) == []

    assert received.mail_from == "soporte@promptlink.example" and received.rcpt_tos == (ANA,)
    head, _, _ = received.data.partition(b"\r\n\r\n")
    head.decode("ascii")  # RFC 5322 headers: the Spanish words of the subject are RFC 2047 encoded
    mail = received.message
    for name in ("From", "To", "Subject", "Message-ID", "Date"):
        assert len(mail.get_all(name) or []) == 1, name
    assert str(mail["From"]) == "soporte@promptlink.example" and str(mail["To"]) == ANA
    assert str(mail["Subject"]) == f"[{number}] Alarmas detectadas en sus equipos"
    assert re.fullmatch(r"<[^<>@\s]+@promptlink\.example>", str(mail["Message-ID"])), mail["Message-ID"]
    date = parsedate_to_datetime(str(mail["Date"]))
    assert date.tzinfo is not None and abs(date - sent_at) < timedelta(minutes=1), mail["Date"]
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None and part.get_content_type() == "text/plain" and part.get_content_charset() == "utf-8"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode("utf-8").replace("\r\n", "\n")  # strict: invalid UTF-8 raises
    assert text.startswith("Aviso de monitoreo: desde el ") and "detectamos 20 alarmas en sus equipos:\n" in text
    assert re.search(rf"\n- Tiquete {number} \(prioridad P2; lo atiende Soporte de Nivel \d\): cmts-bog-02 ", text)
    assert text.count("dejó de funcionar (linkDown)") == 20
    for i in interfaces:
        assert f"el enlace de la interfaz {i} dejó de funcionar (linkDown)" in text
    assert "\nPróxima actualización: a más tardar el " in text and text.endswith("\n\nSoporte Técnico Promptlink\n")


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _start_receiver_process(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            [str(BACKEND_PY), "-m", "promptlink", "snmp"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=15)


async def test_the_separate_receiver_process_reaches_the_chat_through_redis(tmp_path: Path) -> None:
    if not _redis_up():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    running = start_lone_backend(tmp_path, PROMPTLINK_REDIS_URL=REDIS_URL, PROMPTLINK_SNMP_ENABLED="0")
    port = free_udp_port()
    env = {**running.env, "PROMPTLINK_SNMP_PORT": str(port)}
    log_path = tmp_path / "snmp.log"
    receiver = _start_receiver_process(env, log_path)
    try:
        deadline = time.monotonic() + 30
        while "SNMP receiver on" not in log_path.read_text(errors="replace"):
            assert receiver.poll() is None and time.monotonic() < deadline, log_path.read_text(errors="replace")
            await asyncio.sleep(0.2)
        chat = await ChatClient(running.base_url).connect(identity=widget_token(running.base_url, ANA))
        try:
            await asyncio.to_thread(
                snmptrap, port, "-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(4), client="127.0.0.22"
            )
            notice = await chat.wait_for(_alarm_notice("cmts-bog-02"), timeout=10)
            assert notice["conversation_id"] == chat.session["conversation_id"]
        finally:
            await chat.close()
        async with httpx.AsyncClient(base_url=running.base_url + "/api/v1", timeout=10) as api:
            alarms = (await api.get("/alarms", headers=service_headers(ANA))).json()["alarms"]
            backend_metrics = (await api.get("/metrics", headers=SERVICE)).text
        assert [a["device"] for a in alarms] == ["cmts-bog-02"] and alarms[0]["ticket"].startswith("PL-")
        # The receiver's counters are on its own port, labelled as its process (no token: internal address).
        metrics_port = env["PROMPTLINK_SNMP_METRICS_PORT"]
        assert f"SNMP metrics on http://127.0.0.1:{metrics_port}/metrics" in log_path.read_text(errors="replace")
        scraped = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        assert processes(scraped.text) == {f"snmp@127.0.0.1:{metrics_port}"}
        receiver_metrics = by_series(scraped.text)
        assert receiver_metrics['promptlink_snmp_traps_received_total{version="v2c"}'] == 1
        assert receiver_metrics["promptlink_snmp_traps_processed_total"] == 1
        assert receiver_metrics["promptlink_snmp_tickets_created_total"] == 1
        assert receiver_metrics["process_resident_memory_bytes"] > 0
        # ... and not on the backend's, whose receiver is off.
        assert "promptlink_snmp_traps_received_total" not in backend_metrics
        assert processes(backend_metrics) == {f"backend@127.0.0.1:{running.env['PROMPTLINK_PORT']}"}
    finally:
        _stop(receiver)
        running.stop()
