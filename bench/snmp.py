"""SNMP trap intake benchmark: sustained v2c rate (side by side with net-snmp's snmptrapd),
v3 authPriv rate, and trap → chat latency.

Starts its own backend (`python -m promptlink serve`, SQLite in a temporary var dir, receiver
on a free UDP port) and its own `snmptrapd` on another free port; sends only to 127.0.0.1;
stops everything it started on exit. Prints figures, never asserts timings.

    .venv/bin/python bench/snmp.py                           # all scenarios, defaults
    .venv/bin/python bench/snmp.py --rates 1000,1500,2000,3000 --seconds 10
    .venv/bin/python bench/snmp.py --out bench/results/snmp-2026-11.json

Scenarios
  v2c      for each rate: the same stream of v2c linkDown traps (3 demo devices × 50 ifIndex,
           so 150 alarms and tickets, then folding) to the backend's receiver and to
           snmptrapd; accounting = sent, datagrams read, accepted, processed, dropped by
           reason, in flight, kernel RcvbufErrors (host-wide) and snmptrapd's count.
  v3       v3 authPriv (SHA-256/AES-128) traps captured from pysnmp's send_notification and
           replayed at each rate (inside USM's 150 s time window) to the backend only.
  latency  a socket.io client connected as the customer (Ana, Cable Andina); each new
           linkDown (distinct ifIndex) is timed from sendto() to the chat `message` event.
  outage   mass outage: `--outage-devices` (1,000) extra devices of the demo's customers are added,
           then each sends one linkDown within `--outage-seconds` (1 s) from its own address;
           timed: until every trap is processed (alarms, tickets, stored notices) and until the
           customer notices are sent (no pending wave notice, no pending e-mail/chat delivery in
           the outbox); no trap may be lost. Alone it runs
           with the shipped correlation (waves) and reports the tickets, P1s and notices it left;
           `--outage-rules per-alarm` (and `--scenario all`): one ticket and notice per alarm.
Each step also reports the backend's CPU per trap (utime+stime of the server process tree over
the step / traps sent): the figure to compare when the machine is shared, as wall rates are not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
from harness import ROOT, backend_process, database, log
from measure import _descendants, _process_ticks, machine_info, summary

from testkit.chat_client import ChatClient, widget_token
from testkit.demo import ANA, SERVICE_TOKEN
from testkit.metrics import by_series
from testkit.processes import free_udp_port
from testkit.traps import ENGINE_ID, IF_INDEX, LINK_DOWN, send_v3, v2c_packet

SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
DEVICES = ("127.0.0.21", "127.0.0.22", "127.0.0.31")
DEVICE_REFRESH_WAIT = 6.0


def v2c_packets(count: int) -> list[bytes]:
    from pysnmp.proto.rfc1902 import Integer

    return [
        v2c_packet("public", LINK_DOWN, [(f"{IF_INDEX}.{i % 50 + 1}", Integer(i % 50 + 1))], request_id=i + 1)
        for i in range(count)
    ]


def backend_cpu(pid: int) -> float:
    """CPU seconds used so far by the backend's process tree (the server and its workers)."""
    ticks = sum(_process_ticks(p, children=False) for p in [pid, *_descendants(pid)])
    return ticks / os.sysconf("SC_CLK_TCK")


def udp_rcvbuf_errors() -> int:
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


def _send(packets: list[bytes], targets: list[int], rate: float, seconds: float, result: Any) -> None:
    """In a child process: send packets round-robin from the 3 device addresses, paced per 1 ms."""
    socks = []
    for address in DEVICES:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        sock.bind((address, 0))
        socks.append(sock)
    total = int(rate * seconds)
    start = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        while sent < due:
            packet = packets[sent % len(packets)]
            sock = socks[sent % len(socks)]
            for port in targets:
                sock.sendto(packet, ("127.0.0.1", port))
            sent += 1
        time.sleep(0.001)
    result["sent"] = sent
    result["seconds"] = time.perf_counter() - start


def send_stream(packets: list[bytes], targets: list[int], rate: float, seconds: float) -> dict[str, Any]:
    with multiprocessing.Manager() as manager:
        result = manager.dict()
        process = multiprocessing.Process(target=_send, args=(packets, targets, rate, seconds, result))
        process.start()
        process.join(seconds + 120)
        if process.is_alive():
            process.kill()
        return dict(result)


def metrics(base_url: str) -> dict[str, float]:
    return by_series(httpx.get(base_url + "/api/v1/metrics", headers=SERVICE, timeout=10).text)


def accounting(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    def delta(prefix: str) -> int:
        return int(sum(v - before.get(k, 0) for k, v in after.items() if k.startswith(prefix)))

    drops = {
        k.split('reason="')[1].rstrip('"}'): int(v - before.get(k, 0))
        for k, v in after.items()
        if k.startswith("promptlink_snmp_traps_dropped_total") and v - before.get(k, 0)
    }
    return {
        "datagrams": delta("promptlink_snmp_datagrams_total"),
        "accepted": delta("promptlink_snmp_traps_received_total"),
        "processed": delta("promptlink_snmp_traps_processed_total"),
        "folded": delta("promptlink_snmp_traps_folded_total"),
        "dropped": drops,
        "in_flight": int(after.get("promptlink_snmp_queue_depth", 0)),
        "tickets_created": delta("promptlink_snmp_tickets_created_total"),
    }


def settle(base_url: str, before: dict[str, float], expected: int, timeout: float = 120) -> dict[str, Any]:
    """Wait until the backend's books close (or stop changing)."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    stable = 0
    while time.monotonic() < deadline:
        current = accounting(before, metrics(base_url))
        done = current["processed"] + sum(current["dropped"].values())
        if current["datagrams"] >= expected and current["in_flight"] == 0 and done >= current["accepted"]:
            return current
        stable = stable + 1 if current == last else 0
        if stable >= 10:
            return current
        last = current
        time.sleep(0.5)
    return last


@contextmanager
def snmptrapd(work: Path) -> Any:
    binary = shutil.which("snmptrapd")
    if binary is None:
        log("snmptrapd missing (apt-get install snmptrapd): the side-by-side column stays empty")
        yield None, None
        return
    port = free_udp_port()
    conf = work / "snmptrapd.conf"
    conf.write_text("disableAuthorization yes\n")
    out = work / "snmptrapd.log"
    env = {**os.environ, "MIBS": ""}
    process = subprocess.Popen(
        [binary, "-f", "-C", "-c", str(conf), "-n", "-On", "-F", "T\n", "-Lf", str(out), f"udp:127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    time.sleep(1.0)
    try:
        yield port, out
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def trapd_count(path: Path | None) -> int | None:
    if path is None or not path.exists():
        return None
    return sum(1 for line in path.read_text(errors="replace").splitlines() if line == "T")


def run_v2c(base_url: str, port: int, rates: list[float], seconds: float, work: Path, pid: int) -> list[dict[str, Any]]:
    packets = v2c_packets(300)
    rows = []
    with snmptrapd(work) as (trapd_port, trapd_log):
        for rate in rates:
            before, kernel_before = metrics(base_url), udp_rcvbuf_errors()
            cpu_before = backend_cpu(pid)
            trapd_before = trapd_count(trapd_log) or 0
            targets = [port] + ([trapd_port] if trapd_port else [])
            log(f"v2c: {rate:g}/s for {seconds:g} s to {len(targets)} receiver(s)")
            sent = send_stream(packets, targets, rate, seconds)
            books = settle(base_url, before, sent["sent"])
            time.sleep(1.0)
            trapd = trapd_count(trapd_log)
            row = {
                "rate_target": rate,
                "sent": sent["sent"],
                "send_seconds": round(sent["seconds"], 2),
                "rate_sent": round(sent["sent"] / sent["seconds"], 1),
                **books,
                "unaccounted": sent["sent"] - books["processed"] - sum(books["dropped"].values()) - books["in_flight"],
                "kernel_rcvbuf_errors": udp_rcvbuf_errors() - kernel_before,
                "snmptrapd_received": None if trapd is None else trapd - trapd_before,
                "backend_cpu_us_per_trap": round((backend_cpu(pid) - cpu_before) / max(1, sent["sent"]) * 1e6, 1),
            }
            row["no_loss"] = row["unaccounted"] == 0 and not row["dropped"]
            rows.append(row)
            log(json.dumps(row, ensure_ascii=False))
    return rows


def v3_packets(count: int) -> list[bytes]:
    """Real pysnmp v3 authPriv traps, captured on a local socket (replayable inside USM's window)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(5)
    port = sink.getsockname()[1]

    async def produce() -> None:
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine
        from pysnmp.proto.rfc1902 import OctetString

        engine = SnmpEngine(OctetString(hexValue=ENGINE_ID))  # one sender, as a real device: boots fixed
        for i in range(count):
            await send_v3(port, auth_key="demo-auth-pass", priv_key="demo-priv-pass", trap_oid=LINK_DOWN,
                          if_index=i % 50 + 1, engine=engine)  # fmt: skip
        engine.close_dispatcher()

    asyncio.run(produce())
    packets = [sink.recv(4096) for _ in range(count)]
    sink.close()
    return packets


def run_v3(base_url: str, port: int, rates: list[float], seconds: float, pid: int) -> list[dict[str, Any]]:
    rows = []
    for rate in rates:
        packets = v3_packets(50)  # fresh per rate: USM accepts a sender's time within 150 s
        before, kernel_before = metrics(base_url), udp_rcvbuf_errors()
        cpu_before = backend_cpu(pid)
        log(f"v3 authPriv: {rate:g}/s for {seconds:g} s")
        sent = send_stream(packets, [port], rate, seconds)
        books = settle(base_url, before, sent["sent"])
        row = {
            "rate_target": rate,
            "sent": sent["sent"],
            "rate_sent": round(sent["sent"] / sent["seconds"], 1),
            **books,
            "unaccounted": sent["sent"] - books["processed"] - sum(books["dropped"].values()) - books["in_flight"],
            "kernel_rcvbuf_errors": udp_rcvbuf_errors() - kernel_before,
            "backend_cpu_us_per_trap": round((backend_cpu(pid) - cpu_before) / max(1, sent["sent"]) * 1e6, 1),
        }
        row["no_loss"] = row["unaccounted"] == 0 and not row["dropped"]
        rows.append(row)
        log(json.dumps(row, ensure_ascii=False))
    return rows


def bench_database(database_url: str) -> closing[sqlite3.Connection]:
    """The backend's SQLite file, opened by the bench itself (closed on leaving the `with`)."""
    return closing(sqlite3.connect(database_url.split("///", 1)[1], timeout=30))


def add_devices(database_url: str, count: int) -> list[str]:
    """`count` more devices of the demo's customers (round robin) at 127.0.1.1, 127.0.1.2, …"""
    with bench_database(database_url) as connection:
        customers = [row[0] for row in connection.execute("SELECT id FROM customers ORDER BY id")]
        addresses = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(count)]
        connection.executemany(
            "INSERT INTO devices (customer_id, name, serial, model, mgmt_address) VALUES (?, ?, ?, ?, ?)",
            [
                (customers[i % len(customers)], f"outage-{i}", f"OUT{i:05d}", "bench", a)
                for i, a in enumerate(addresses)
            ],
        )
        connection.commit()
    return addresses


def pending_deliveries(database_url: str) -> int:
    """Customer notices not sent yet: a wave's notice still gathering alarms, then its e-mail and chat deliveries."""
    with bench_database(database_url) as connection:
        notices = connection.execute("SELECT count(*) FROM alarm_notices WHERE state = 'pending'").fetchone()[0]
        outbox = connection.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
    return int(notices) + int(outbox)


def outage_outcome(database_url: str, since: tuple[int, int, int]) -> dict[str, int]:
    """What the outage left: tickets opened, and the customer notices queued (chat deliveries, e-mails)."""
    since_ticket_id, since_outbox_id, since_notice_id = since
    with bench_database(database_url) as connection:
        notices = connection.execute("SELECT count(*) FROM alarm_notices WHERE id > ?", (since_notice_id,)).fetchone()
        tickets = connection.execute(
            "SELECT count(*), coalesce(sum(priority = 1), 0), count(DISTINCT customer_id) FROM tickets"
            " WHERE id > ? AND channel = 'snmp'",
            (since_ticket_id,),
        ).fetchone()
        kinds = dict(
            connection.execute("SELECT kind, count(*) FROM outbox WHERE id > ? GROUP BY kind", (since_outbox_id,))
        )
    return {
        "tickets_opened": int(tickets[0]),
        "p1_tickets": int(tickets[1]),
        "customers_with_tickets": int(tickets[2]),
        "customer_notices": int(notices[0]),
        "chat_deliveries_queued": int(kinds.get("chat", 0)),
        "emails_queued": int(kinds.get("email", 0)),
    }


def last_ids(database_url: str) -> tuple[int, int, int]:
    """The newest ticket, outbox and notice ids: what the outage adds comes after them."""
    with bench_database(database_url) as connection:
        return (
            int(connection.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()[0]),
            int(connection.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]),
            int(connection.execute("SELECT coalesce(max(id), 0) FROM alarm_notices").fetchone()[0]),
        )


def run_outage(base_url: str, port: int, database_url: str, devices: int, seconds: float, pid: int) -> dict[str, Any]:
    """1,000 devices down within a second: nothing lost, how long until everything is done, and what it left."""
    from pysnmp.proto.rfc1902 import Integer

    addresses = add_devices(database_url, devices)
    before_ids = last_ids(database_url)
    time.sleep(DEVICE_REFRESH_WAIT)  # the worker's device cache takes new devices on a miss after 5 s
    packet = v2c_packet("public", LINK_DOWN, [(f"{IF_INDEX}.1", Integer(1))], request_id=1)
    before, kernel_before, cpu_before = metrics(base_url), udp_rcvbuf_errors(), backend_cpu(pid)
    log(f"outage: {devices} devices down within {seconds:g} s")
    start = time.perf_counter()
    for i, address in enumerate(addresses):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, 0))
        sock.sendto(packet, ("127.0.0.1", port))
        sock.close()
        due = start + seconds * (i + 1) / len(addresses)
        if due > time.perf_counter():
            time.sleep(due - time.perf_counter())
    sent_seconds = time.perf_counter() - start
    processed_at = None
    books: dict[str, Any] = {}
    while time.perf_counter() - start < 600:
        books = accounting(before, metrics(base_url))
        if books["processed"] + sum(books["dropped"].values()) >= devices and books["in_flight"] == 0:
            processed_at = time.perf_counter() - start
            break
        time.sleep(0.2)
    delivered_at = None
    while processed_at is not None and time.perf_counter() - start < 900:
        if pending_deliveries(database_url) == 0:
            delivered_at = time.perf_counter() - start
            break
        time.sleep(0.5)
    row = {
        "devices": devices,
        "sent": len(addresses),
        "send_seconds": round(sent_seconds, 2),
        **books,
        "seconds_until_processed": None if processed_at is None else round(processed_at, 1),
        "seconds_until_deliveries_sent": None if delivered_at is None else round(delivered_at, 1),
        "kernel_rcvbuf_errors": udp_rcvbuf_errors() - kernel_before,
        "backend_cpu_seconds": round(backend_cpu(pid) - cpu_before, 2),
        **outage_outcome(database_url, before_ids),
    }
    row["no_loss"] = books.get("processed") == devices and not books.get("dropped")
    log(json.dumps(row, ensure_ascii=False))
    return row


async def run_latency(
    base_url: str, port: int, samples: int, background: float, interval: float = 0.5
) -> dict[str, Any]:
    from pysnmp.proto.rfc1902 import Integer

    arrived: dict[int, float] = {}
    sent: dict[int, float] = {}
    all_arrived = asyncio.Event()

    class NoticeClock(ChatClient):
        """The customer's chat: notes when the notice of each measured trap arrives."""

        async def _on_message(self, data: dict[str, Any]) -> None:
            text = str(data.get("text", ""))
            found = re.search(r"la interfaz (\d+) ", text)
            if "Aviso de monitoreo" in text and found and int(found.group(1)) in sent:  # measured traps only
                arrived.setdefault(int(found.group(1)), time.perf_counter())
                if len(arrived) >= samples:
                    all_arrived.set()

    token = await asyncio.to_thread(widget_token, base_url, ANA)
    chat = await NoticeClock(base_url).connect(identity=token)
    noise = None
    if background:
        # Open the background's 150 alarms first: the measured storm is one of repeats.
        packets = v2c_packets(300)
        loop = asyncio.get_running_loop()
        before = await asyncio.to_thread(metrics, base_url)
        await loop.run_in_executor(None, send_stream, packets, [port], 300.0, 1.0)
        await asyncio.to_thread(settle, base_url, before, 300)
        noise = loop.run_in_executor(None, send_stream, packets, [port], background, (samples + 5) * interval + 8)
        await asyncio.sleep(2)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.21", 0))
    base = 1000 if not background else 5000
    # Warm-up (not measured): the first alarms fill the process's caches (devices, compiled SQL).
    for index in range(base - 5, base):
        warm = v2c_packet("public", LINK_DOWN, [(f"{IF_INDEX}.{index}", Integer(index))], request_id=index)
        sock.sendto(warm, ("127.0.0.1", port))
        await asyncio.sleep(interval)
    await asyncio.sleep(2)
    for i in range(samples):
        index = base + i  # distinct ifIndex: a new alarm, a new ticket and a notice each time
        packet = v2c_packet("public", LINK_DOWN, [(f"{IF_INDEX}.{index}", Integer(index))], request_id=index)
        sent[index] = time.perf_counter()
        sock.sendto(packet, ("127.0.0.1", port))
        await asyncio.sleep(interval)
    try:
        await asyncio.wait_for(all_arrived.wait(), 30)
    except TimeoutError:
        log(f"latency: {samples - len(arrived)} notice(s) did not arrive within 30 s")
    if noise is not None:
        await noise
    await chat.close()
    sock.close()
    latencies = [(arrived[i] - sent[i]) * 1000 for i in sent if i in arrived]
    return {
        "samples": samples,
        "received": len(latencies),
        "background_v2c_rate": background,
        "interval_s": interval,
        "ms": summary(latencies),
    }


def one_notice_per_alarm(work: Path) -> Path:
    """The shipped rules with waves off (docs/snmp.md, Correlation): each latency sample is its own
    ticket and notice, sent as soon as it is due (the notice sender looks every second)."""
    import yaml

    rules = yaml.safe_load((ROOT / "backend" / "promptlink" / "rules" / "snmp.yml").read_text(encoding="utf-8"))
    rules["correlation"].update(device_group_seconds=0, customer_group_seconds=0, notice_quiet_seconds=0)
    path = work / "snmp-rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["v2c", "v3", "latency", "outage", "all"], default="all")
    parser.add_argument("--outage-devices", type=int, default=1000, help="outage: devices down at once")
    parser.add_argument("--outage-seconds", type=float, default=1.0, help="outage: within this many seconds")
    parser.add_argument(
        "--outage-rules",
        choices=["shipped", "per-alarm"],
        default="shipped",
        help="outage alone: the shipped correlation (waves: a customer's devices share a ticket and a notice) "
        "or one ticket and notice per alarm (what --scenario all uses for every step)",
    )
    parser.add_argument("--rates", default="1000,1500,2000,3000", help="v2c rates (traps/s), comma-separated")
    parser.add_argument("--v3-rates", default="250,500,1000", help="v3 authPriv rates (traps/s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per rate step")
    parser.add_argument("--samples", type=int, default=60, help="latency: traps timed to the chat")
    parser.add_argument("--background", type=float, default=1000.0, help="latency: v2c background rate (0 = idle)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--note", default="")
    parser.add_argument("--keep-var", action="store_true", help="keep the backend's var dir (logs, database)")
    parser.add_argument("--log-level", default="INFO", help="the backend's PROMPTLINK_LOG_LEVEL (DEBUG: per batch)")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine_info(), "note": args.note, "seconds_per_step": args.seconds}
    work = Path(tempfile.mkdtemp(prefix="promptlink-bench-snmp-"))
    port = free_udp_port()
    extra = {
        "PROMPTLINK_SNMP_PORT": str(port),
        "PROMPTLINK_OUTBOX_INTERVAL_SECONDS": "2",
        "PROMPTLINK_LOG_LEVEL": args.log_level,
    }
    if args.scenario != "outage" or args.outage_rules == "per-alarm":
        # The latency samples each open a new ticket: lift the per-device ticket bound (docs/snmp.md, Trust),
        # and turn waves off. The outage keeps the shipped rules unless asked (--outage-rules per-alarm).
        extra["PROMPTLINK_SNMP_DEVICE_TICKETS"] = "1000"
        extra["PROMPTLINK_SNMP_RULES_PATH"] = str(one_notice_per_alarm(work))
    report["outage_rules"] = args.outage_rules if args.scenario == "outage" else "per-alarm"
    try:
        with (
            database("sqlite", work, "snmp") as url,
            backend_process(url, workers=True, keep_var=False, extra_env=extra) as running,
        ):
            if args.scenario in ("latency", "all"):
                report["latency_idle"] = asyncio.run(run_latency(running.base_url, port, args.samples, 0))
                log(f"latency idle: {report['latency_idle']}")
                if args.background:
                    report["latency_loaded"] = asyncio.run(
                        run_latency(running.base_url, port, args.samples, args.background)
                    )
                    log(f"latency under load: {report['latency_loaded']}")
            if args.scenario in ("v2c", "all"):
                rates = [float(r) for r in args.rates.split(",")]
                report["v2c"] = run_v2c(running.base_url, port, rates, args.seconds, work, running.process.pid)
            if args.scenario in ("v3", "all"):
                rates = [float(r) for r in args.v3_rates.split(",")]
                report["v3"] = run_v3(running.base_url, port, rates, args.seconds, running.process.pid)
            if args.scenario in ("outage", "all"):
                report["outage"] = run_outage(
                    running.base_url, port, url, args.outage_devices, args.outage_seconds, running.process.pid
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
