"""Ticket creation benchmark: `POST /api/v1/tickets` under concurrent clients, and `create_ticket` alone.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/tickets.py [--db sqlite|postgresql|all] [--scenario http|service|all]
                                      [--clients C] [--tickets N] [--warmup W] [--rates 0,200]
                                      [--time-limit S] [--with-workers] [--variant NAME]
                                      [--out FILE.json] [--baseline FILE.json]

`http`: a backend process of its own (`python -m promptlink serve`, demo mode, on a free port, in a
temporary var dir; migrated and seeded with the demo data) takes C concurrent clients that create
N tickets in all, one request each with its own Idempotency-Key, as the demo agent
l1@promptlink.example (a bearer token from `POST /api/v1/auth/login`). The background workers
are off (PROMPTLINK_WORKERS_ENABLED=false) unless `--with-workers`.

`service`: the same bodies through `services.tickets.create_ticket` in this process, C concurrent
tasks, one transaction (one commit) per ticket, on an engine built by `promptlink.infra.db.create_engine`
like the app's. The difference between the two is the cost of HTTP, authentication, the request's
other queries and the JSON answer.

Each `--rates` entry is one measured run of N tickets: 0 = saturation (every client sends its next
request as soon as the previous one is answered: the most creates/s, with latency mostly queueing,
about C / throughput); R = requests offered at R per second in all, latency counted from each
request's due time (the mode in which a goal like "200/s with p95 < 50 ms" can be checked).

Each runs on a fresh SQLite file (WAL) and on a fresh PostgreSQL database (skipped, with the
reason, when PostgreSQL is not reachable). Traffic goes only to 127.0.0.1; processes and
databases are removed on exit, Ctrl-C or error. It prints figures; it never asserts anything
about timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import DatabaseUnavailable, backend_process, database, log
from measure import (
    CpuWatch,
    cpu_seconds,
    machine_info,
    postgres_cpu_seconds,
    print_report,
    rss_mb,
    summary,
    tree_state,
    write_report,
)
from variants import VARIANTS
from variants import apply as apply_variant

from testkit.demo import DEMO_PASSWORDS, agent_token

AGENT = "l1@promptlink.example"
REQUEST_TIMEOUT = 30.0
MAX_CONSECUTIVE_ERRORS = 10

# The demo customers (PROMPTLINK_DEMO=1 seeds them): contacts and devices that exist.
CUSTOMERS = {
    "CABLEANDINA": {
        "contacts": ["ana.gomez@cableandina.example", "luis.perez@cableandina.example"],
        "devices": ["cmts-bog-01", "cmts-bog-02"],
    },
    "TELECARIBE": {"contacts": ["maria.rodriguez@telecaribe.example"], "devices": ["olt-sdq-01"]},
}

# (weight, type, facts, complex, title, description). The mix gives every priority and tier and
# every follow-up: software faults open a bug, hardware failures an RMA (CABLEANDINA has a hardware
# contract) or a quote request (TELECARIBE has none).
KINDS: list[tuple[int, str, dict[str, bool], bool, str, str]] = [
    (
        20,
        "information",
        {"information_request": True},
        False,
        "Consulta sobre la licencia del módulo de aprovisionamiento",
        "Necesitamos saber cuántos cablemódems admite la licencia actual antes de la ampliación.",
    ),
    (
        18,
        "configuration",
        {"information_request": True},
        False,
        "Ayuda para configurar VLAN de gestión",
        "Al aplicar la plantilla de VLAN 120 el equipo rechaza el perfil; adjuntamos la configuración.",
    ),
    (
        8,
        "network_outage",
        {"production_down": True},
        False,
        "Caída total del servicio en el nodo norte",
        "Desde las 06:40 ningún abonado del nodo norte tiene servicio. Alarmas de enlace en el equipo.",
    ),
    (
        7,
        "network_outage",
        {"production_down": True, "solution_available": True},
        False,
        "Caída parcial; se desvió el tráfico al equipo de respaldo",
        "El tráfico se desvió al equipo de respaldo, pero la capacidad es insuficiente en hora pico.",
    ),
    (
        15,
        "software_bug",
        {"damaged": True},
        False,
        "Error en el reporte de consumo tras la actualización 4.2",
        "Después de actualizar a 4.2 el reporte diario de consumo sale vacío para algunos abonados.",
    ),
    (
        5,
        "software_bug",
        {"severely_damaged": True},
        True,
        "Reinicios intermitentes del proceso de control",
        "El proceso de control se reinicia cada pocas horas; los volcados indican un fallo de memoria.",
    ),
    (
        10,
        "hardware_failure",
        {"severely_damaged": True, "solution_available": True},
        False,
        "Tarjeta de línea 3 sin alimentación",
        "La tarjeta de línea 3 no enciende; el tráfico se movió a la tarjeta 4 de forma provisional.",
    ),
    (
        10,
        "enhancement",
        {},
        False,
        "Solicitud de mejora: exportar alarmas en CSV",
        "Queremos exportar el historial de alarmas en CSV para el área de calidad.",
    ),
    (
        7,
        "special_development",
        {"most_operations_proceed": False},
        False,
        "Integración con el sistema de facturación",
        "Se requiere un conector con el sistema de facturación para los planes empresariales.",
    ),
]
CHANNELS = [("phone", 70), ("email", 20), ("api", 10)]


def ticket_bodies(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` realistic request bodies, the same for a given seed (so runs are comparable)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    bodies = []
    kinds = [k for k in KINDS for _ in range(k[0])]
    channels = [c for c, w in CHANNELS for _ in range(w)]
    for i in range(count):
        _, kind, facts, complex_case, title, description = rng.choice(kinds)
        code = "CABLEANDINA" if rng.random() < 0.6 else "TELECARIBE"
        body: dict[str, Any] = {
            "customer": code,
            "channel": rng.choice(channels),
            "type": kind,
            "title": f"{title} (#{i})",
            "description": description,
            "facts": facts,
        }
        if complex_case:
            body["complex"] = True
        if rng.random() < 0.75:  # most callers are a known contact: the acknowledgement e-mail is queued
            body["contact"] = rng.choice(CUSTOMERS[code]["contacts"])
        if kind in ("network_outage", "hardware_failure", "software_bug") and rng.random() < 0.8:
            body["device"] = rng.choice(CUSTOMERS[code]["devices"])
        bodies.append(body)
    return bodies


# --------------------------------------------------------------------------- load loop


async def drive(
    bodies: list[dict[str, Any]],
    clients: int,
    time_limit: float,
    send: Callable[[dict[str, Any], str], Any],
    rate: float = 0.0,
) -> dict[str, Any]:
    """`clients` workers take the next body until all are sent or `time_limit` passes.

    `send(body, key)` returns None on success or a short error text. With `rate` 0 each worker
    sends its next request as soon as the previous one is answered (saturation: latency is then
    mostly queueing, about clients / throughput). With a `rate`, request i is due at start + i/rate
    and its latency counts from that moment, so time spent waiting for a free client is included
    (no coordinated omission); `late_starts` says how often no client was free within 5 ms.
    """
    deadline = time.monotonic() + time_limit
    queue = iter(enumerate(bodies))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    late = 0
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()

    async def worker() -> None:
        nonlocal late
        consecutive = 0
        for i, body in queue:  # the iterator is shared: each body is taken by one worker
            if time.monotonic() > deadline or consecutive >= MAX_CONSECUTIVE_ERRORS:
                return
            due = start + i / rate if rate else time.perf_counter()
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.005:
                late += 1
            try:
                error = await send(body, uuid.uuid4().hex)
            except (TimeoutError, OSError) as exc:
                error = type(exc).__name__
            ms = (time.perf_counter() - due) * 1000
            if error is None:
                latencies.append(ms)
                consecutive = 0
            else:
                errors[error] = errors.get(error, 0) + 1
                consecutive += 1

    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_end.ru_utime + cpu_end.ru_stime) - (cpu_start.ru_utime + cpu_start.ru_stime)
    created = len(latencies)
    n_errors = sum(errors.values())
    return {
        "offered_rate": rate or None,
        "created": created,
        "errors": n_errors,
        "error_kinds": errors,
        "truncated": created + n_errors < len(bodies),
        "wall_s": round(wall, 3),
        "creates_per_s": round(created / wall, 1) if wall > 0 else 0.0,
        "latency_ms": summary(latencies),
        "over_50ms": sum(1 for ms in latencies if ms > 50),
        "over_1s": sum(1 for ms in latencies if ms > 1000),
        "late_starts": late if rate else None,
        "client_cpu_s": round(client_cpu, 2),
    }


# --------------------------------------------------------------------------- http scenario


async def http_traffic(
    base_url: str, token: str, warmup: list[dict[str, Any]], args: argparse.Namespace, measure: Callable[..., Any]
) -> None:
    """Warm up, then `await measure(drive_with_send)` once the connections are open."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=args.clients)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout, headers=headers) as http:

        async def send(body: dict[str, Any], key: str) -> str | None:
            async with http.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": key}) as response:
                payload = await response.read()
                if response.status == 201:
                    return None
                detail = payload[:120].decode(errors="replace")
                return f"HTTP {response.status}: {detail}"

        if warmup:  # opens the connections and warms the backend's caches; not measured
            await drive(warmup, args.clients, args.time_limit, send)
        await measure(send)


def _count_rows(database_url: str) -> dict[str, int]:
    """Rows the run left: tickets, history entries, pending outbox items."""
    from promptlink.infra.db import create_engine
    from promptlink.models import OutboxItem, Ticket, TicketEvent
    from sqlalchemy import func, select

    async def count() -> dict[str, int]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return {
                    "tickets": int(await conn.scalar(select(func.count()).select_from(Ticket)) or 0),
                    "events": int(await conn.scalar(select(func.count()).select_from(TicketEvent)) or 0),
                    "outbox_pending": int(
                        await conn.scalar(
                            select(func.count()).select_from(OutboxItem).where(OutboxItem.state == "pending")
                        )
                        or 0
                    ),
                }
        finally:
            await engine.dispose()

    return asyncio.run(count())


def run_http(kind: str, database_url: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """One backend process; a warm-up, then one measured run per `--rates` entry (fresh bodies each)."""
    warmup = ticket_bodies(args.warmup, seed=2)
    log(f"http/{kind}: starting the backend (workers {'on' if args.with_workers else 'off'}, variant {args.variant})")
    results: dict[str, dict[str, Any]] = {}
    with backend_process(
        database_url,
        workers=args.with_workers,
        keep_var=args.keep_var,
        variant=args.variant,
        health_timeout=args.health_timeout,
    ) as running:
        pid = running.process.pid
        time.sleep(1.0)  # let start-up settle before the first RSS reading
        before = rss_mb(pid)
        token = agent_token(running.base_url, AGENT, DEMO_PASSWORDS[AGENT])

        async def measure(send: Callable[[dict[str, Any], str], Any]) -> None:
            for n, rate in enumerate(args.rates):
                log(f"http/{kind}: {args.tickets} tickets, {args.clients} clients, {_rate_text(rate)}")
                cpu0, pg0, watch = cpu_seconds(pid), _pg_cpu(kind, database_url), CpuWatch(pid)
                traffic = await drive(
                    ticket_bodies(args.tickets, seed=10 + n), args.clients, args.time_limit, send, rate
                )
                cpu = cpu_seconds(pid) - cpu0
                wall = traffic["wall_s"]
                pg_cpu = _pg_cpu(kind, database_url) - pg0
                results[_name("http", kind, rate)] = {
                    **traffic,
                    "backend_cpu_s": round(cpu, 2),
                    "backend_cpu_ms_per_ticket": round(cpu * 1000 / max(1, traffic["created"]), 2),
                    "backend_cpu_pct": round(cpu / wall * 100, 1) if wall else None,
                    "postgres_cpu_s": round(pg_cpu, 2) if kind == "postgresql" else None,
                    "other_cpu_cores": _other_cores(watch, pg_cpu, wall),
                    "rss_mb": {"before": before["rss"], "after": rss_mb(pid)["rss"]},
                }

        budget = (len(args.rates) + 1) * args.time_limit + 60
        asyncio.run(asyncio.wait_for(http_traffic(running.base_url, token, warmup, args, measure), budget))
        peak = rss_mb(pid)["peak"]
    rows = _count_rows(database_url)
    for result in results.values():
        result["rss_mb"]["peak"] = peak
        result["rows"] = rows  # after all the runs on this database
        result["workers"] = args.with_workers
    return results


def _pg_cpu(kind: str, database_url: str) -> float:
    return postgres_cpu_seconds(database_url) if kind == "postgresql" else 0.0


def _other_cores(watch: Any, pg_cpu: float, wall: float) -> float | None:
    """Cores kept busy by other work on the machine meanwhile (our PostgreSQL backends are ours)."""
    other = watch.other_cores()
    return None if other is None else round(max(0.0, other - (pg_cpu / wall if wall else 0.0)), 2)


def _rate_text(rate: float) -> str:
    return f"paced at {rate:g}/s" if rate else "saturation (each client sends as soon as answered)"


def _name(scenario: str, kind: str, rate: float) -> str:
    return f"{scenario}-{kind}" + (f"-{rate:g}rps" if rate else "")


# --------------------------------------------------------------------------- service scenario


@contextmanager
def statement_counter(engine: Any) -> Iterator[dict[str, int]]:
    """Counts the SQL statements sent through `engine` while the block runs."""
    from sqlalchemy import event

    counts = {"statements": 0}

    def count(*_args: Any) -> None:
        counts["statements"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def service_traffic(kind: str, database_url: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from promptlink.infra import db
    from promptlink.models import Contact, Customer, Device
    from promptlink.services.demo_data import seed_demo_data
    from promptlink.services.ticket_rules import IncidentFacts
    from promptlink.services.tickets import TicketDraft, create_ticket
    from sqlalchemy import select

    engine = db.create_engine(database_url)  # attribute look-ups: a --variant may have patched them
    try:
        sessions = db.create_sessionmaker(engine)
        async with db.transaction(sessions) as session:
            await seed_demo_data(session=session)
        async with sessions() as session:
            customers = {c.code: c.id for c in await session.scalars(select(Customer))}
            contacts = {c.email: c.id for c in await session.scalars(select(Contact))}
            devices = {d.name: d.id for d in await session.scalars(select(Device))}

        def draft(body: dict[str, Any]) -> TicketDraft:
            # What the HTTP transport's `_draft` resolves with three lookups, resolved once here.
            return TicketDraft(
                channel=body["channel"],
                type=body["type"],
                title=body["title"],
                description=body["description"],
                facts=IncidentFacts.from_dict(body["facts"]),
                complex_case=body.get("complex", False),
                customer_id=customers[body["customer"]],
                contact_id=contacts.get(body.get("contact", "")),
                device_id=devices.get(body.get("device", "")),
            )

        async def send(body: dict[str, Any], key: str) -> str | None:
            try:
                async with db.transaction(sessions) as session:
                    await create_ticket(
                        session=session, draft=draft(body), author=AGENT, now=datetime.now(UTC), idempotency_key=key
                    )
            except Exception as exc:  # noqa: BLE001 - a failed create is a figure (errors), not the end of the run
                return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            return None

        if args.warmup:
            await drive(ticket_bodies(args.warmup, seed=2), args.clients, args.time_limit, send)
        results: dict[str, dict[str, Any]] = {}
        for n, rate in enumerate(args.rates):
            log(f"service/{kind}: {args.tickets} tickets, {args.clients} tasks, {_rate_text(rate)}")
            pg0, watch = _pg_cpu(kind, database_url), CpuWatch(os.getpid())
            with statement_counter(engine) as counts:
                result = await drive(
                    ticket_bodies(args.tickets, seed=10 + n), args.clients, args.time_limit, send, rate
                )
            # Read before the pool closes its connections: their server processes take their time along.
            pg_cpu = _pg_cpu(kind, database_url) - pg0
            result["statements_per_ticket"] = round(counts["statements"] / max(1, result["created"]), 1)
            # Everything ran in this process: its CPU is the service layer's (plus the driver's).
            result["service_cpu_ms_per_ticket"] = round(result["client_cpu_s"] * 1000 / max(1, result["created"]), 2)
            result["postgres_cpu_s"] = round(pg_cpu, 2) if kind == "postgresql" else None
            result["other_cpu_cores"] = _other_cores(watch, pg_cpu, result["wall_s"])
            results[_name("service", kind, rate)] = result
        return results
    finally:
        await engine.dispose()


def run_service(kind: str, database_url: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from promptlink.infra.migrate import upgrade

    log(f"service/{kind}: migrating a fresh database")
    upgrade(database_url)
    budget = (len(args.rates) + 1) * args.time_limit + 60
    return asyncio.run(asyncio.wait_for(service_traffic(kind, database_url, args), budget))


# --------------------------------------------------------------------------- report


ROWS = [
    ("offered_rate", "offered creates/s"),
    ("creates_per_s", "creates/s (higher is better)"),
    ("latency_ms.p50", "p50 ms"),
    ("latency_ms.p95", "p95 ms"),
    ("latency_ms.p99", "p99 ms"),
    ("latency_ms.max", "max ms"),
    ("over_50ms", "creates over 50 ms"),
    ("over_1s", "creates over 1 s"),
    ("late_starts", "late starts (no free client)"),
    ("created", "created"),
    ("errors", "errors"),
    ("truncated", "stopped by --time-limit"),
    ("statements_per_ticket", "SQL statements per ticket"),
    ("backend_cpu_pct", "backend CPU % of one core"),
    ("backend_cpu_ms_per_ticket", "backend CPU ms per ticket"),
    ("service_cpu_ms_per_ticket", "in-process CPU ms per ticket"),
    ("postgres_cpu_s", "PostgreSQL server CPU s"),
    ("client_cpu_s", "load generator CPU s"),
    ("other_cpu_cores", "other work on the machine, cores"),
    ("rss_mb.before", "backend RSS before MB"),
    ("rss_mb.after", "backend RSS after MB"),
    ("rss_mb.peak", "backend RSS peak MB"),
    ("rows.tickets", "tickets in the database (all runs)"),
    ("rows.outbox_pending", "outbox items pending at the end"),
]


def headings(params: dict[str, Any]) -> dict[str, str]:
    names = {}
    workers = "workers on" if params.get("with_workers") else "workers off"
    variant = "" if params.get("variant", "app") == "app" else f", variant {params['variant']}"
    for kind, db_name in (("sqlite", "SQLite (WAL)"), ("postgresql", "PostgreSQL")):
        for rate in params.get("rates", [0.0]):
            load = f"{params['clients']} clients, {params['tickets']} tickets, {_rate_text(rate)}"
            names[_name("http", kind, rate)] = f"http / {db_name}: POST /api/v1/tickets, {load}, {workers}{variant}"
            names[_name("service", kind, rate)] = (
                f"service / {db_name}: create_ticket in-process, one commit each, {load}{variant}"
            )
    return names


# --------------------------------------------------------------------------- main


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--scenario", choices=["http", "service", "all"], default="all")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients / tasks (default 50)")
    parser.add_argument("--tickets", type=int, default=2000, help="measured tickets per run (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured tickets first (default 100)")
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds of measured traffic per run before it stops"
    )
    parser.add_argument(
        "--rates",
        default="0,200",
        help="comma list of offered creates/s, one measured run each; 0 = saturation (default 0,200)",
    )
    parser.add_argument("--with-workers", action="store_true", help="http: leave the backend's workers on")
    parser.add_argument("--variant", choices=VARIANTS, default="app", help="a what-if of bench/variants.py")
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--baseline", type=Path, help="a JSON file from --out to compare with")
    parser.add_argument("--keep-var", action="store_true", help="keep the backend's temporary var dir")
    parser.add_argument(
        "--health-timeout", type=float, default=60.0, help="seconds the backend may take to start (a loaded machine)"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.tickets < 1 or args.warmup < 0 or args.time_limit <= 0:
        parser.error("--clients and --tickets must be at least 1, --warmup >= 0, --time-limit > 0")
    try:
        args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        parser.error("--rates must be a comma list of numbers")
    if not args.rates or any(r < 0 for r in args.rates):
        parser.error("--rates must list at least one rate >= 0")
    apply_variant(args.variant)  # before anything imports promptlink.db's names
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None

    signal.signal(signal.SIGTERM, _terminate)
    params = {
        "clients": args.clients,
        "tickets": args.tickets,
        "warmup": args.warmup,
        "time_limit_s": args.time_limit,
        "rates": args.rates,
        "with_workers": args.with_workers,
        "variant": args.variant,
    }
    report: dict[str, Any] = {
        "machine": {**machine_info(), **tree_state()},
        "params": params,
        "scenarios": {},
    }
    kinds = ["sqlite", "postgresql"] if args.db == "all" else [args.db]
    scenarios = ["http", "service"] if args.scenario == "all" else [args.scenario]
    work_dir = Path(tempfile.mkdtemp(prefix="promptlink-bench-tickets-"))
    try:
        for kind in kinds:
            for scenario in scenarios:
                name = f"{scenario}-{kind}"
                try:
                    with database(kind, work_dir, scenario) as url:
                        run = run_http if scenario == "http" else run_service
                        report["scenarios"].update(run(kind, url, args))
                except DatabaseUnavailable as exc:
                    log(f"{name}: skipped: {exc}")
                    for rate in args.rates:
                        report["scenarios"][_name(scenario, kind, rate)] = {"skipped": str(exc)}
                except Exception as exc:  # noqa: BLE001 - keep the other scenarios' figures
                    traceback.print_exc()
                    log(f"{name}: failed: {type(exc).__name__}: {exc}")
                    for rate in args.rates:
                        report["scenarios"].setdefault(
                            _name(scenario, kind, rate), {"skipped": f"failed: {type(exc).__name__}: {exc}"[:300]}
                        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; processes stopped, databases dropped")
        return 130
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    report["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    names = {**headings(baseline["params"]), **headings(params)} if baseline else headings(params)
    print_report("tickets benchmark", report, baseline, ROWS, names)
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
