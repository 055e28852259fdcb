"""Alarm waves: what a wave of linkDown traps on many interfaces of one device costs and sends.

Starts its own backend (`python -m promptlink serve`, SQLite, receiver on a free UDP port, Rasa
down), connects a socket.io client as the customer (Ana, Cable Andina), then for each wave sends
`--interfaces` real v2c linkDown traps from cmts-bog-01 (distinct ifIndex, `--gap` apart),
waits for the notices to go, and clears them all (linkUp). Prints, per wave: tickets opened,
chat notices the customer received, e-mails queued to her, and the backend process's CPU
seconds for the wave (the same window with the backend idle is printed beside it: the periodic
workers' own cost). Never asserts anything.

    .venv/bin/python bench/alarm_waves.py --waves 3 --interfaces 20 --out bench/results/alarm-waves.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from harness import backend_process, database, log
from measure import _descendants, cpu_seconds, machine_info

from testkit.chat_client import ChatClient, widget_token
from testkit.demo import ANA, SERVICE_TOKEN, service_headers
from testkit.processes import free_udp_port
from testkit.traps import IF_INDEX, LINK_DOWN, LINK_UP, v2c_packet

SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def backend_cpu(pid: int) -> float:
    """CPU seconds of the backend process and any processes under it."""
    return sum(cpu_seconds(p) for p in (pid, *_descendants(pid)))


def processed(base_url: str) -> float:
    text = httpx.get(base_url + "/api/v1/metrics", headers=SERVICE, timeout=10).text
    for line in text.splitlines():
        if line.startswith("promptlink_snmp_traps_processed_total "):
            return float(line.split()[1])
    return 0.0


async def send(port: int, trap: str, indexes: list[int], gap: float) -> None:
    from pysnmp.proto.rfc1902 import Integer

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.21", 0))  # cmts-bog-01
        for i in indexes:
            varbinds = [(f"{IF_INDEX}.{i}", Integer(i)), (f"1.3.6.1.2.1.2.2.1.8.{i}", Integer(2))]
            sock.sendto(v2c_packet("public", trap, varbinds, request_id=i), ("127.0.0.1", port))
            await asyncio.sleep(gap)


async def until_processed(base_url: str, count: float, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(processed, base_url) >= count:
            return
        await asyncio.sleep(0.2)


async def run(base_url: str, pid: int, port: int, waves: int, interfaces: int, gap: float, wait: float) -> list[Any]:
    chat = await ChatClient(base_url).connect(identity=await asyncio.to_thread(widget_token, base_url, ANA))
    results = []
    done = 0.0
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as api:
        for wave in range(waves):
            idle_start = backend_cpu(pid)
            window = interfaces * gap + wait
            await asyncio.sleep(window)
            idle = backend_cpu(pid) - idle_start
            indexes = list(range(1000 * (wave + 1), 1000 * (wave + 1) + interfaces))
            seen = len(chat.messages)
            mails_before = len((await api.get("/demo/api/mailbox", params={"to": ANA})).json()["items"])
            started = backend_cpu(pid)
            await send(port, LINK_DOWN, indexes, gap)
            done += interfaces
            await until_processed(base_url, done)
            await asyncio.sleep(wait)  # the notices go a quiet time after the wave
            cpu = backend_cpu(pid) - started
            notices = [m for m in chat.messages[seen:] if "Aviso de monitoreo" in str(m.get("text", ""))]
            alarms = (await api.get("/api/v1/alarms", headers=service_headers(ANA))).json()["alarms"]
            mails = len((await api.get("/demo/api/mailbox", params={"to": ANA})).json()["items"]) - mails_before
            result = {
                "wave": wave + 1,
                "traps": interfaces,
                "tickets": len({a["ticket"] for a in alarms if a["ticket"]}),
                "chat_notices": len(notices),
                "emails": mails,
                "backend_cpu_s": round(cpu, 3),
                "backend_cpu_s_idle_same_window": round(idle, 3),
            }
            log(json.dumps(result))
            results.append(result)
            await send(port, LINK_UP, indexes, 0.01)  # clear the wave (its tickets are resolved)
            done += interfaces
            await until_processed(base_url, done)
            await asyncio.sleep(wait)
    await chat.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waves", type=int, default=3)
    parser.add_argument("--interfaces", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between the traps of a wave")
    parser.add_argument("--wait", type=float, default=6.0, help="seconds waited after a wave for its notices")
    parser.add_argument("--device-tickets", type=int, help="PROMPTLINK_SNMP_DEVICE_TICKETS (default: the rules')")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine_info(), "note": args.note, "args": vars(args) | {"out": None}}
    port = free_udp_port()
    extra = {"PROMPTLINK_SNMP_PORT": str(port), "PROMPTLINK_OUTBOX_INTERVAL_SECONDS": "1"}
    if args.device_tickets:
        extra["PROMPTLINK_SNMP_DEVICE_TICKETS"] = str(args.device_tickets)
    work = Path(tempfile.mkdtemp(prefix="promptlink-bench-waves-"))
    with (
        database("sqlite", work, "waves") as url,
        backend_process(url, workers=True, keep_var=False, extra_env=extra) as running,
    ):
        report["waves"] = asyncio.run(
            run(running.base_url, running.process.pid, port, args.waves, args.interfaces, args.gap, args.wait)
        )
    print(json.dumps(report["waves"], indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
