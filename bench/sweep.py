"""Cadence sweep benchmark: `services.sweeper.sweep` over many open tickets.

Run with the backend environment, from the repository root:

    .venv/bin/python bench/sweep.py [--db sqlite|postgresql|all] [--tickets N] [--repeat R]
                                    [--sqlite-analyze] [--extra-index] [--out FILE.json] [--baseline FILE.json]

For each database kind: a fresh database (a SQLite file in WAL mode, or a throwaway PostgreSQL
database; skipped with the reason when PostgreSQL is not reachable) migrated with
`promptlink.infra.migrate.upgrade` and seeded with the demo data, then N open tickets (default 100,000)
bulk-inserted with core `insert()` in batches, `next_update_due` spread over the next 7 days:

    0.5 % due between T+1 h and T+2 h      (missed at T+2 h: breaches)
    1 %   due between T+2 h and T+2 h 30   (inside the 30-minute reminder window at T+2 h)
    the rest between T+2 h 31 and T+7 d    (nothing to do)

and `sweep()` is timed, each in its own transaction committed like the worker's `sweep_once`:

    (a) idle:   at T, when nothing is due (R times; min and median reported)
    (b) first:  at T+2 h: 1 % reminders and 0.5 % breaches (history entries and e-mails queued)
    (b) second: at T+2 h again: must find nothing to do (R times)

It prints EXPLAIN QUERY PLAN (SQLite) / EXPLAIN ANALYZE (PostgreSQL) of the breach and reminder
queries exactly as the sweeper sends them (captured from the engine), and whether they use the
index on next_update_due. PostgreSQL gets ANALYZE after the load (what autovacuum does within a
minute); SQLite is left as the app leaves it (no statistics) unless --sqlite-analyze. Nothing is
sent anywhere but 127.0.0.1; databases are removed on exit, Ctrl-C or error. It prints figures and
never asserts anything about timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import DatabaseUnavailable, database, log
from measure import CpuWatch, machine_info, postgres_cpu_seconds, print_report, tree_state, write_report

REMINDER_LEAD = timedelta(minutes=30)  # Settings.reminder_lead_minutes' default
SUPERVISOR = "supervisor@promptlink.example"
PHASE_TIMEOUT = 600.0  # one load or one sweep; a guard, far above any expected figure
# The index names an EXPLAIN line shows: SQLite's "USING [COVERING] INDEX x", PostgreSQL's "using x" / "on x".
INDEX_IN_PLAN = re.compile(r"(?:USING (?:COVERING )?INDEX|Index (?:Only )?Scan using|Bitmap Index Scan on) (\w+)")
# --extra-index: a what-if index on top of the migrations, for the proposals in docs/performance.md.
EXTRA_INDEX = "CREATE INDEX ix_bench_tickets_status_due ON tickets (status, next_update_due)"
TYPES_BY_TIER = {
    "L1": ["information", "configuration", "network_outage"],
    "L2": ["software_bug", "enhancement", "special_development"],
    "L3": ["network_outage", "software_bug"],
}


def due_times(n: int, base: datetime, reminder_pct: float, breach_pct: float, rng: random.Random) -> list[datetime]:
    """`next_update_due` for n tickets, shuffled: see the module docstring for the three bands."""
    n_breach, n_remind = round(n * breach_pct / 100), round(n * reminder_pct / 100)
    hour = timedelta(hours=1)
    breach = [base + hour + timedelta(seconds=rng.uniform(0, 3599)) for _ in range(n_breach)]
    remind = [
        base + 2 * hour + timedelta(seconds=rng.uniform(1, REMINDER_LEAD.total_seconds())) for _ in range(n_remind)
    ]
    rest_start = base + 2 * hour + REMINDER_LEAD + timedelta(minutes=1)
    span = (base + timedelta(days=7) - rest_start).total_seconds()
    rest = [rest_start + timedelta(seconds=rng.uniform(0, span)) for _ in range(n - n_breach - n_remind)]
    dues = breach + remind + rest
    rng.shuffle(dues)
    return dues


async def load(sessions: Any, engine: Any, args: argparse.Namespace, base: datetime) -> dict[str, Any]:
    """Demo data, then the tickets in batches of `--batch` (core insert, executemany)."""
    from promptlink.infra.db import transaction
    from promptlink.models import Agent, Contact, Customer, Ticket
    from promptlink.services.demo_data import seed_demo_data
    from sqlalchemy import insert, select

    async with transaction(sessions) as session:
        await seed_demo_data(session=session)
    async with sessions() as session:
        customers = [c.id for c in await session.scalars(select(Customer))]
        contacts = {
            cid: [c.id for c in await session.scalars(select(Contact).where(Contact.customer_id == cid))]
            for cid in customers
        }
        agents = list(await session.scalars(select(Agent).where(Agent.role == "agent")))
    by_tier = {tier: [a.id for a in agents if tier in a.tier_list] for tier in TYPES_BY_TIER}

    rng = random.Random(7)  # noqa: S311 - reproducible test data, not a secret
    dues = due_times(args.tickets, base, args.reminder_pct, args.breach_pct, rng)
    start = time.perf_counter()
    for first in range(0, args.tickets, args.batch):
        rows = []
        for i in range(first, min(first + args.batch, args.tickets)):
            tier = rng.choices(["L1", "L2", "L3"], weights=[55, 35, 10])[0]
            priority = 1 if tier == "L3" and rng.random() < 0.5 else rng.choice([2, 3, 3, 4])
            customer_id = rng.choice(customers)
            created = base - timedelta(seconds=rng.uniform(0, 30 * 86400))
            rows.append(
                {
                    "number": f"PL-BENCH-{i + 1:06d}",
                    "customer_id": customer_id,
                    "contact_id": rng.choice(contacts[customer_id]) if rng.random() < 0.8 else None,
                    "channel": rng.choice(["phone", "email", "chat", "api"]),
                    "type": rng.choice(TYPES_BY_TIER[tier]),
                    "title": f"Incidencia de prueba {i + 1}",
                    "description": "Tiquete generado para medir el barrido de cadencia.",
                    "facts": {"damaged": True},
                    "priority": priority,
                    "priority_reason": f"Prioridad {priority} (datos de prueba).",
                    "tier": tier,
                    "status": rng.choice(["new", "open", "open", "open", "pending_customer"]),
                    "verified": True,
                    "covered": True,
                    "coverage_note": "",
                    # Half the tickets have an assignee (reminded), half are unassigned (the tier is).
                    "assignee_id": rng.choice(by_tier[tier]) if rng.random() < 0.5 and by_tier[tier] else None,
                    "next_update_due": dues[i],
                    "breach_count": 0,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        async with engine.begin() as conn:
            await conn.execute(insert(Ticket), rows)
    seconds = time.perf_counter() - start
    if args.extra_index:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(EXTRA_INDEX)
    analyzed = engine.dialect.name == "postgresql" or args.sqlite_analyze
    if analyzed:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    return {"load_s": round(seconds, 2), "rows_per_s": round(args.tickets / seconds), "analyzed": analyzed}


class SweepQueries:
    """Captures the sweeper's breach and reminder SELECTs as the driver receives them."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine
        self.captured: dict[str, tuple[str, Any]] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        flat = " ".join(statement.split())
        if not flat.startswith("SELECT") or "FROM tickets" not in flat or "next_update_due" not in flat:
            return
        name = "breach" if "breached_for" in flat.split("WHERE", 1)[-1] else "reminder"
        self.captured.setdefault(name, (statement, parameters))

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine.sync_engine, "before_cursor_execute", self._seen)

    async def explain(self) -> dict[str, Any]:
        plans: dict[str, Any] = {}
        postgres = self.engine.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        async with self.engine.connect() as conn:
            for name, (statement, parameters) in sorted(self.captured.items()):
                result = await conn.exec_driver_sql(prefix + statement, parameters)
                rows = result.fetchall()
                lines = [str(r[0]) for r in rows] if postgres else [f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows]
                used = [m.group(1) for line in lines for m in INDEX_IN_PLAN.finditer(line)]
                plans[name] = {
                    "sql": " ".join(statement.split()),
                    "plan": lines,
                    "indexes": used,
                    "uses_next_update_due_index": any("due" in index for index in used),
                }
        return plans


def _depth(rows: list[Any], row: Any) -> int:
    """Nesting of an EXPLAIN QUERY PLAN row (id, parent, notused, detail)."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


async def timed_sweep(sessions: Any, now: datetime) -> dict[str, Any]:
    """One sweep in one transaction, like the worker's `sweep_once`: sweep() time and total with commit."""
    from promptlink.infra.db import transaction
    from promptlink.services.sweeper import sweep

    start = time.perf_counter()
    async with transaction(sessions) as session:
        result = await sweep(session=session, now=now, reminder_lead=REMINDER_LEAD, fallback_supervisor=SUPERVISOR)
        swept = time.perf_counter()
    done = time.perf_counter()
    return {
        "sweep_ms": round((swept - start) * 1000, 1),
        "total_ms": round((done - start) * 1000, 1),
        "reminded": len(result.reminded),
        "breached": len(result.breached),
    }


def _repeated(runs: list[dict[str, Any]]) -> dict[str, Any]:
    total = [r["total_ms"] for r in runs]
    return {
        "runs": runs,
        "total_ms_min": min(total),
        "total_ms_median": round(statistics.median(total), 1),
        "sweep_ms_median": round(statistics.median(r["sweep_ms"] for r in runs), 1),
        "reminded": runs[-1]["reminded"],
        "breached": runs[-1]["breached"],
    }


async def bench_database(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from promptlink.infra.db import create_engine, create_sessionmaker
    from promptlink.models import OutboxItem, TicketEvent
    from sqlalchemy import func, select

    engine = create_engine(url)
    try:
        sessions = create_sessionmaker(engine)
        base = datetime.now(UTC).replace(microsecond=0)
        loaded = await asyncio.wait_for(load(sessions, engine, args, base), PHASE_TIMEOUT)
        log(f"loaded {args.tickets} tickets in {loaded['load_s']} s")
        postgres = engine.dialect.name == "postgresql"
        watch, pg0, start = CpuWatch(os.getpid()), postgres_cpu_seconds(url) if postgres else 0.0, time.perf_counter()
        queries = SweepQueries(engine)
        try:
            idle = [await asyncio.wait_for(timed_sweep(sessions, base), PHASE_TIMEOUT) for _ in range(args.repeat)]
        finally:
            queries.close()
        plans = await queries.explain()
        due_at = base + timedelta(hours=2)
        first = await asyncio.wait_for(timed_sweep(sessions, due_at), PHASE_TIMEOUT)
        second = [await asyncio.wait_for(timed_sweep(sessions, due_at), PHASE_TIMEOUT) for _ in range(args.repeat)]
        wall = time.perf_counter() - start
        pg_share = (postgres_cpu_seconds(url) - pg0) / wall if postgres and wall else 0.0
        other = watch.other_cores()
        other_cores = None if other is None else round(max(0.0, other - pg_share), 2)
        async with engine.connect() as conn:
            written = {
                "events": int(await conn.scalar(select(func.count()).select_from(TicketEvent)) or 0),
                "outbox": int(await conn.scalar(select(func.count()).select_from(OutboxItem)) or 0),
            }
    finally:
        await engine.dispose()
    return {
        "tickets": args.tickets,
        "expected": {
            "reminders": round(args.tickets * args.reminder_pct / 100),
            "breaches": round(args.tickets * args.breach_pct / 100),
        },
        **loaded,
        "idle": _repeated(idle),
        "first": first,
        "second": _repeated(second),
        "written": written,
        "other_cpu_cores": other_cores,
        "plans": plans,
    }


def run(kind: str, work_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    from promptlink.infra.migrate import upgrade

    with database(kind, work_dir, "sweep") as url:
        log(f"{kind}: migrating a fresh database, then {args.tickets} open tickets")
        upgrade(url)
        return asyncio.run(bench_database(url, args))


# --------------------------------------------------------------------------- report


ROWS = [
    ("idle.total_ms_median", "(a) nothing due: median ms"),
    ("idle.total_ms_min", "(a) nothing due: min ms"),
    ("first.total_ms", "(b) first sweep ms (with commit)"),
    ("first.sweep_ms", "(b) first sweep ms (before commit)"),
    ("first.reminded", "(b) first sweep: reminders"),
    ("first.breached", "(b) first sweep: breaches"),
    ("second.total_ms_median", "(b) second sweep: median ms"),
    ("second.reminded", "(b) second sweep: reminders"),
    ("second.breached", "(b) second sweep: breaches"),
    ("written.events", "history entries written"),
    ("written.outbox", "outbox items queued"),
    ("other_cpu_cores", "other work on the machine, cores"),
    ("load_s", "bulk load s"),
    ("rows_per_s", "bulk load rows/s (higher is better)"),
    ("plans.breach.uses_next_update_due_index", "breach query uses a due-time index"),
    ("plans.reminder.uses_next_update_due_index", "reminder query uses a due-time index"),
]


def print_plans(report: dict[str, Any]) -> None:
    for name, scenario in report["scenarios"].items():
        for query, plan in sorted(scenario.get("plans", {}).items()):
            print(f"{name}: {query} query plan")
            for line in plan["plan"]:
                print(f"    {line}")
        print()


# --------------------------------------------------------------------------- main


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--tickets", type=int, default=100_000, help="open tickets (default 100000)")
    parser.add_argument("--batch", type=int, default=5000, help="rows per insert batch (default 5000)")
    parser.add_argument("--reminder-pct", type=float, default=1.0, help="%% inside the reminder window (default 1)")
    parser.add_argument("--breach-pct", type=float, default=0.5, help="%% past due (default 0.5)")
    parser.add_argument("--repeat", type=int, default=5, help="idle and second sweeps timed R times (default 5)")
    parser.add_argument("--sqlite-analyze", action="store_true", help="run ANALYZE on SQLite too (what-if)")
    parser.add_argument(
        "--extra-index", action="store_true", help="what-if: also an index on tickets (status, next_update_due)"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--baseline", type=Path, help="a JSON file from --out to compare with")
    args = parser.parse_args(argv)
    if not 1 <= args.tickets <= 5_000_000 or not 1 <= args.batch <= 50_000 or not 1 <= args.repeat <= 100:
        parser.error("--tickets 1..5000000, --batch 1..50000, --repeat 1..100")
    if args.reminder_pct < 0 or args.breach_pct < 0 or args.reminder_pct + args.breach_pct > 100:
        parser.error("--reminder-pct and --breach-pct must be >= 0 and add up to at most 100")
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None

    signal.signal(signal.SIGTERM, _terminate)
    params = {
        k: getattr(args, k)
        for k in ("tickets", "batch", "reminder_pct", "breach_pct", "repeat", "sqlite_analyze", "extra_index")
    }
    report: dict[str, Any] = {"machine": {**machine_info(), **tree_state()}, "params": params, "scenarios": {}}
    kinds = ["sqlite", "postgresql"] if args.db == "all" else [args.db]
    work_dir = Path(tempfile.mkdtemp(prefix="promptlink-bench-sweep-"))
    try:
        for kind in kinds:
            try:
                report["scenarios"][kind] = run(kind, work_dir, args)
            except DatabaseUnavailable as exc:
                log(f"{kind}: skipped: {exc}")
                report["scenarios"][kind] = {"skipped": str(exc)}
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; databases removed")
        return 130
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    headings = {
        kind: f"{kind}: sweep() over {args.tickets} open tickets "
        f"({args.reminder_pct:g} % in the reminder window, {args.breach_pct:g} % past due at T+2 h)"
        for kind in ("sqlite", "postgresql")
    }
    report["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print_report("sweep benchmark", report, baseline, ROWS, headings)
    print_plans(report)
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
