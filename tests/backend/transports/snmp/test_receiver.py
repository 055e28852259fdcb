"""Real traps (net-snmp's snmptrap, pysnmp) into the real receiver and database."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
import yaml
from promptlink.infra.settings import DEMO_SNMP_V3_USERS
from promptlink.models import Alarm, Message, OutboxItem, Ticket, TicketEvent
from promptlink.services.trap_rules import DEFAULT_RULES
from pysnmp.proto.rfc1902 import Integer
from sqlalchemy import select

from testkit.traps import ENGINE_ID, LINK_DOWN, LINK_UP, V3_ARGS, link_varbinds, send_v3, snmptrap, v2c_packet

from .conftest import notices_sent, settle

# The wire and the receiver on SQLite; correlation on both databases is tests/backend/services/test_alarms.py.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _run(*args: str, client: str = "127.0.0.21", port: int) -> None:
    await asyncio.to_thread(snmptrap, port, *args, client=client)


async def test_v2c_link_down_opens_an_snmp_ticket_and_tells_the_customer(intake) -> None:
    running, rooms = intake
    port = running.receiver.port
    await _run("-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(3), port=port)
    await settle(running, received=1)
    await notices_sent(running)  # the notice goes once the wave is quiet (notice_quiet_seconds)
    async with running.worker.sessions() as session:
        alarm = await session.scalar(select(Alarm))
        ticket = await session.get(Ticket, alarm.ticket_id)
        messages = list(await session.scalars(select(Message)))
        emails = list(await session.scalars(select(OutboxItem).where(OutboxItem.kind == "email")))
    assert alarm.device.name == "cmts-bog-01" and alarm.count == 1 and alarm.state == "open"
    assert ticket.channel == "snmp" and ticket.type == "network_outage" and ticket.priority == 2
    # A link down at P2 severely damages operation: Level 3 (rules/routing.yml, severe_network_outage).
    assert ticket.tier == "L3" and ticket.next_update_due is not None
    assert ticket.title == "Enlace caído en cmts-bog-01 (interfaz 3)"
    # Nobody of Cable Andina has chatted yet: a conversation is opened for the notification contact.
    assert len(messages) == 1 and messages[0].role == "system"
    text = messages[0].text
    assert "cmts-bog-01" in text and ticket.number in text and "P2" in text and "Próxima actualización" in text
    assert "hora de Bogotá" in text
    assert [e.recipient for e in emails] == ["ana.gomez@cableandina.example"]
    assert rooms.events == [("message", messages[0].to_event(), f"conv:{messages[0].conversation_id}")]
    assert running.counters.received["v2c"] == 1 and running.counters.processed == 1


async def test_v3_auth_priv_is_accepted_and_wrong_keys_are_rejected_and_counted(intake) -> None:
    running, _ = intake
    port = running.receiver.port
    await _run(*V3_ARGS, "-A", "demo-auth-pass", "-X", "demo-priv-pass", "--", "", LINK_DOWN, *link_varbinds(1),
               client="127.0.0.31", port=port)  # fmt: skip
    await send_v3(port, auth_key="demo-auth-pass", priv_key="demo-priv-pass", trap_oid=LINK_DOWN, if_index=2)
    await _run(*V3_ARGS, "-A", "wrong-auth-pass", "-X", "demo-priv-pass", "--", "", LINK_DOWN, *link_varbinds(4),
               port=port)  # fmt: skip
    await send_v3(port, auth_key="demo-auth-pass", priv_key="wrong-priv-pass", trap_oid=LINK_DOWN, if_index=5)
    await settle(running, received=2)
    await asyncio.sleep(0.3)
    drops = running.counters.all_dropped()
    assert running.counters.received["v3"] == 2
    assert drops.get("wrong_digest") == 1
    # A wrong privacy key under the right auth key decrypts to garbage: pysnmp counts it as a parse error.
    assert drops.get("decryption_error", 0) + drops.get("parse_error", 0) == 1
    async with running.worker.sessions() as session:
        keys = sorted(a.key.rsplit("=", 1)[1] for a in await session.scalars(select(Alarm)))
    assert keys == ["1", "2"]
    assert running.counters.datagrams == 4


async def test_wrong_community_and_random_bytes_are_dropped_and_the_receiver_keeps_working(intake) -> None:
    running, _ = intake
    port = running.receiver.port
    await _run("-v", "2c", "-c", "not-allowed", "--", "", LINK_DOWN, *link_varbinds(7), port=port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for size in (1, 7, 64, 300, 1400):
            sock.sendto(os.urandom(size), ("127.0.0.1", port))
        sock.sendto(b"\x30\x03\x02\x01", ("127.0.0.1", port))  # truncated BER
    await asyncio.sleep(0.5)
    assert running.counters.total_received() == 0
    drops = running.counters.all_dropped()
    assert drops.get("bad_community") == 1
    assert sum(v for k, v in drops.items() if k != "bad_community") == 6
    await _run("-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(7), port=port)
    await settle(running, received=1)
    assert running.counters.processed == 1


async def test_link_down_then_link_up_resolves_the_ticket_and_tells_the_customer(intake) -> None:
    running, _ = intake
    port = running.receiver.port
    await _run("-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(9), port=port)
    await settle(running, received=1)
    await notices_sent(running)  # told of the alarm (a quiet time after it) before it clears
    await _run("-v", "2c", "-c", "public", "--", "", LINK_UP, *link_varbinds(9, oper=1), port=port)
    await settle(running, received=2)
    async with running.worker.sessions() as session:
        alarm = await session.scalar(select(Alarm))
        ticket = await session.get(Ticket, alarm.ticket_id)
        events = list(await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)))
        chat = list(await session.scalars(select(OutboxItem).where(OutboxItem.kind == "chat")))
    assert alarm.state == "cleared" and alarm.cleared_at is not None
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    resolved = [e for e in events if e.kind == "status_changed"][-1]
    assert resolved.public and "volvió a funcionar" in resolved.text
    assert resolved.data["recipients"] == ["ana.gomez@cableandina.example"] and "chat" in resolved.data["channels"]
    assert [c.conversation_id for c in chat] == [ticket.conversation_id]


async def test_ten_thousand_repeats_fold_into_one_ticket_with_the_count(intake) -> None:
    running, _ = intake
    port = running.receiver.port
    varbinds = [(f"1.3.6.1.2.1.2.2.1.1.{11}", Integer(11))]
    packets = [v2c_packet("public", LINK_DOWN, varbinds, request_id=i) for i in range(1, 101)]
    loop = asyncio.get_running_loop()

    def blast() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.22", 0))
            for i in range(10_000):
                sock.sendto(packets[i % 100], ("127.0.0.1", port))
                if i % 500 == 499:
                    __import__("time").sleep(0.05)  # about 10,000 traps/s: the kernel buffer never overflows

    await loop.run_in_executor(None, blast)
    await settle(running, received=10_000, timeout=60)
    c = running.counters
    assert c.total_received() == 10_000 == c.processed + sum(c.dropped.values())
    assert sum(c.dropped.values()) == 0
    async with running.worker.sessions() as session:
        alarms = list(await session.scalars(select(Alarm)))
        tickets = list(await session.scalars(select(Ticket)))
    assert len(alarms) == 1 and alarms[0].count == 10_000 and alarms[0].device.name == "cmts-bog-02"
    assert len(tickets) == 1 and tickets[0].channel == "snmp"


async def test_a_trap_from_unknown_equipment_waits_unassigned(intake_with) -> None:
    running, rooms = intake_with(snmp_trusted_relays=["127.0.0.96/31"])  # 127.0.0.96 and .97 relay traps
    port = running.receiver.port
    await _run("-v", "1", "-c", "public", "--", "1.3.6.1.4.1.8072", "127.0.0.99", "0", "0", "", client="127.0.0.97",
               port=port)  # fmt: skip
    await settle(running, received=1)
    async with running.worker.sessions() as session:
        alarm = await session.scalar(select(Alarm))
        tickets = list(await session.scalars(select(Ticket)))
    # From a trusted relay, the v1 agent-addr field names the device, not the UDP source.
    assert alarm.source_address == "127.0.0.99" and alarm.device_id is None and alarm.customer_id is None
    assert alarm.rule == "cold_start" and tickets == [] and rooms.events == []
    assert running.counters.received["v1"] == 1


async def test_an_agent_address_from_an_untrusted_source_names_nothing(intake) -> None:
    """F10: the v1 agent-addr and snmpTrapAddress.0 are chosen by the sender; from a source that is
    not a trusted relay the UDP source is the device, and the claim stays with the alarm's varbinds."""
    running, rooms = intake
    port = running.receiver.port
    await _run("-v", "1", "-c", "public", "--", "1.3.6.1.4.1.8072", "127.0.0.31", "0", "0", "", client="127.0.0.98",
               port=port)  # fmt: skip
    await _run("-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(5), "1.3.6.1.6.3.18.1.3.0", "a",
               "127.0.0.31", client="127.0.0.97", port=port)  # fmt: skip
    await settle(running, received=2)
    async with running.worker.sessions() as session:
        alarms = list(await session.scalars(select(Alarm).order_by(Alarm.id)))
        tickets = list(await session.scalars(select(Ticket)))
    assert {a.source_address for a in alarms} == {"127.0.0.98", "127.0.0.97"}
    assert all(a.device_id is None and a.customer_id is None for a in alarms)  # not TeleCaribe's OLT
    assert all(a.varbinds.get("1.3.6.1.6.3.18.1.3.0") == "127.0.0.31" for a in alarms)
    assert tickets == [] and rooms.events == []


async def test_a_v3_user_bound_to_a_customer_speaks_only_for_its_devices(intake_with) -> None:
    """A v3 user with `customer` raises alarms for that customer's devices; its trap from another
    customer's device address is dropped and counted."""
    users = [{**DEMO_SNMP_V3_USERS[0], "customer": "CABLEANDINA"}]
    running, _ = intake_with(snmp_v3_users=users)
    port = running.receiver.port
    for if_index, client in ((1, "127.0.0.21"), (2, "127.0.0.31")):  # Cable Andina's CMTS, TeleCaribe's OLT
        await _run(*V3_ARGS, "-A", "demo-auth-pass", "-X", "demo-priv-pass", "--", "", LINK_DOWN,
                   *link_varbinds(if_index), client=client, port=port)  # fmt: skip
    await settle(running, received=2)
    async with running.worker.sessions() as session:
        alarms = list(await session.scalars(select(Alarm)))
    assert [(a.device.name, a.customer.code) for a in alarms] == [("cmts-bog-01", "CABLEANDINA")]
    assert running.counters.dropped["device_not_bound"] == 1


@pytest.mark.parametrize("level", ["noAuthNoPriv", "authNoPriv", "authPriv"])
async def test_the_minimum_security_level_is_configurable(intake_with, level: str) -> None:
    """F2: each v3 level below the configured minimum is dropped (`security_level`), at or above it accepted."""
    running, _ = intake_with(snmp_min_security_level=level)
    port = running.receiver.port
    sent = {
        "noAuthNoPriv": ["-l", "noAuthNoPriv"],
        "authNoPriv": ["-l", "authNoPriv", "-a", "SHA-256", "-A", "demo-auth-pass"],
        "authPriv": ["-l", "authPriv", "-a", "SHA-256", "-A", "demo-auth-pass", "-x", "AES", "-X", "demo-priv-pass"],
    }
    for if_index, args in enumerate(sent.values(), start=1):
        await _run("-v", "3", "-e", f"0x{ENGINE_ID}", "-u", "promptlink", *args, "--", "", LINK_DOWN,
                   *link_varbinds(if_index), port=port)  # fmt: skip
    await settle(running, received=3)
    async with running.worker.sessions() as session:
        keys = sorted(int(a.key.rsplit("=", 1)[1]) for a in await session.scalars(select(Alarm)))
    minimum = list(sent).index(level) + 1
    assert keys == list(range(minimum, 4))
    assert running.counters.dropped["security_level"] == minimum - 1


async def test_community_traps_can_be_refused(intake_with) -> None:
    """v1/v2c traps are noAuthNoPriv: with PROMPTLINK_SNMP_ALLOW_COMMUNITIES=0 the community is not accepted."""
    running, _ = intake_with(snmp_allow_communities=False)
    port = running.receiver.port
    await _run("-v", "2c", "-c", "public", "--", "", LINK_DOWN, *link_varbinds(3), port=port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # the fast path refuses it too
        sock.sendto(v2c_packet("public", LINK_DOWN, [("1.3.6.1.2.1.2.2.1.1.4", Integer(4))]), ("127.0.0.1", port))
    await _run(*V3_ARGS, "-A", "demo-auth-pass", "-X", "demo-priv-pass", "--", "", LINK_DOWN, *link_varbinds(5),
               port=port)  # fmt: skip
    await settle(running, received=1)
    await asyncio.sleep(0.3)
    assert running.counters.received == {"v3": 1}
    assert running.counters.all_dropped().get("bad_community") == 2


async def test_tickets_per_device_are_bounded_and_a_shared_ticket_stays_open_while_an_alarm_is(
    intake_with, tmp_path: Path
) -> None:
    """F10: past PROMPTLINK_SNMP_DEVICE_TICKETS new alarms of a device join its open ticket (an
    internal entry, no notice); clearing one of them does not resolve the ticket the others share.
    (Waves are off here, `device_group_seconds: 0`: otherwise the 8 interfaces would be one ticket.)"""
    rules = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    rules["correlation"].update(device_group_seconds=0, customer_group_seconds=0)
    rules_path = tmp_path / "snmp.yml"
    rules_path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    running, rooms = intake_with(snmp_device_tickets=2, snmp_rules_path=rules_path)
    assert running.rules.current().correlation.device_tickets == 2
    port = running.receiver.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.22", 0))
        for i in range(1, 9):
            packet = v2c_packet("public", LINK_DOWN, [(f"1.3.6.1.2.1.2.2.1.1.{i}", Integer(i))])
            sock.sendto(packet, ("127.0.0.1", port))
    await settle(running, received=8)
    await notices_sent(running)
    async with running.worker.sessions() as session:
        alarms = list(await session.scalars(select(Alarm).order_by(Alarm.id)))
        tickets = list(await session.scalars(select(Ticket).order_by(Ticket.id)))
        attached = list(await session.scalars(select(TicketEvent).where(TicketEvent.kind == "alarm_attached")))
    assert len(alarms) == 8 and len(tickets) == 2
    assert {a.ticket_id for a in alarms} == {t.id for t in tickets}
    assert len(attached) == 6 and not any(e.public for e in attached)
    assert "ya abrió 2 tiquetes en 60 minutos" in attached[0].text
    assert running.counters.alarms_attached == 6 and running.counters.tickets_created == 2
    notices = len(rooms.events)
    assert notices == 1  # one for the wave (its two tickets), none per attached alarm
    shared = tickets[-1]
    on_shared = [int(a.key.rsplit("=", 1)[1]) for a in alarms if a.ticket_id == shared.id]
    # Clear every alarm of the shared ticket but one: it stays open; the last clear resolves it.
    for if_index in on_shared[:-1]:
        await _run("-v", "2c", "-c", "public", "--", "", LINK_UP, *link_varbinds(if_index), client="127.0.0.22",
                   port=port)  # fmt: skip
    await settle(running, received=8 + len(on_shared) - 1)
    async with running.worker.sessions() as session:
        assert (await session.get(Ticket, shared.id)).is_open
    await _run("-v", "2c", "-c", "public", "--", "", LINK_UP, *link_varbinds(on_shared[-1]), client="127.0.0.22",
               port=port)  # fmt: skip
    await settle(running, received=8 + len(on_shared))
    async with running.worker.sessions() as session:
        assert (await session.get(Ticket, shared.id)).status == "resolved"
