"""What the ticket and sweep benchmarks share: a backend process, throwaway databases, CPU and
memory readings, and the baseline-vs-current report.

The generic pieces the chat benchmark already has (loading tests/conftest.py, RSS from /proc,
machine info, percentiles, number formatting) are imported from `chat.py` rather than copied.
Nothing here sends traffic anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chat import fmt, load_conftest, log, machine_info, rss_mb, summary

try:
    from chat import CpuWatch
except ImportError:  # a chat.py from before CpuWatch: "other work on the machine" is then unknown

    class CpuWatch:  # type: ignore[no-redef]
        def __init__(self, root_pid: int) -> None:
            self.root_pid = root_pid

        def other_cores(self) -> float | None:
            return None


ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "backend") not in sys.path:
    sys.path.insert(0, str(ROOT / "backend"))  # `promptlink` for the in-process measurements

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

__all__ = [
    "ROOT",
    "CpuWatch",
    "DatabaseUnavailable",
    "backend_process",
    "cpu_seconds",
    "database",
    "fmt",
    "load_conftest",
    "log",
    "machine_info",
    "postgres_cpu_seconds",
    "print_report",
    "tree_state",
    "rss_mb",
    "summary",
]


class DatabaseUnavailable(RuntimeError):
    """The database kind cannot be used on this machine; the message says why."""


# --------------------------------------------------------------------------- databases


def _pg_admin_url() -> str:
    url = str(load_conftest().PG_ADMIN_URL)
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise DatabaseUnavailable(f"PostgreSQL admin URL {url!r} is not on 127.0.0.1; benchmarks stay local")
    return url


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def database(kind: str, work_dir: Path, name: str) -> Iterator[str]:
    """A fresh, empty database URL (SQLAlchemy async form); dropped or deleted on exit.

    `sqlite`: a file in `work_dir` (WAL is switched on by promptlink.infra.db on connect).
    `postgresql`: a throwaway database on the conftest admin server, dropped WITH (FORCE).
    Raises DatabaseUnavailable when PostgreSQL cannot be reached.
    """
    if kind == "sqlite":
        path = work_dir / f"{name}.db"
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if kind != "postgresql":
        raise ValueError(kind)
    import asyncpg

    admin_url = _pg_admin_url()
    db_name = f"promptlink_bench_{name}_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{db_name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DatabaseUnavailable(f"PostgreSQL not reachable at {admin_url}: {type(exc).__name__}: {exc}") from exc
    log(f"created PostgreSQL database {db_name}")
    try:
        yield admin_url.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{db_name}"
    finally:
        try:
            asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            log(f"dropped PostgreSQL database {db_name}")
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log(f"could not drop PostgreSQL database {db_name}: {exc}")


# --------------------------------------------------------------------------- backend process


@contextmanager
def backend_process(
    database_url: str, *, workers: bool, keep_var: bool, variant: str = "app", extra_env: dict[str, str] | None = None
) -> Iterator[Any]:
    """`python -m promptlink serve` on a free port with its own var dir and `database_url`.

    Migrated and seeded with the demo data first (like conftest's `lone_backend`); Rasa and the
    action server point at closed ports. A `variant` other than "app" starts it through
    bench/variants.py. The process is stopped on any exit, Ctrl-C included. Yields conftest's `Running`.
    """
    ct = load_conftest()
    var_dir = Path(tempfile.mkdtemp(prefix="promptlink-bench-backend-"))
    running = None
    try:
        env = ct.base_env(
            var_dir,
            PROMPTLINK_HOST="127.0.0.1",
            PROMPTLINK_PORT=str(ct.free_port()),
            PROMPTLINK_DATABASE_URL=database_url,
            PROMPTLINK_WORKERS_ENABLED="true" if workers else "false",
            PROMPTLINK_RASA_URL=f"http://127.0.0.1:{ct.free_port()}",
            PROMPTLINK_ACTIONS_URL=f"http://127.0.0.1:{ct.free_port()}",
            # Every simulated customer connects from 127.0.0.1: no bound on sockets per address.
            PROMPTLINK_CHAT_CONNECTIONS_PER_IP="0",
            **(extra_env or {}),
        )
        ct.cli(env, "migrate")
        ct.cli(env, "seed")
        log_path = var_dir / "process.log"
        with log_path.open("wb") as log_file:
            entry = (
                ["-m", "promptlink", "serve"] if variant == "app" else [str(ROOT / "bench" / "variants.py"), variant]
            )
            process = subprocess.Popen(
                [str(ct.BACKEND_PY), *entry],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        running = ct.Running(f"http://127.0.0.1:{env['PROMPTLINK_PORT']}", var_dir, env, process, log_path)
        try:
            # Rasa is down on purpose, so health answers 503 once the server is up.
            ct.wait_http(running.base_url + "/api/v1/health", timeout=60, accept=(200, 503), process=process)
        except Exception:
            sys.stderr.write(running.log()[-5000:])
            raise
        yield running
    finally:
        if running is not None:
            log(f"stopping backend (pid {running.process.pid})")
            running.stop()
        if keep_var:
            log(f"var dir kept: {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


# --------------------------------------------------------------------------- CPU readings


def _ticks(pid: int) -> int:
    """utime + stime of one process in clock ticks; 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by one process."""
    return _ticks(pid) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(database_url: str) -> float:
    """CPU time used so far by the PostgreSQL backends serving `database_url`'s database.

    Backends are told apart by their process title (`postgres: ... <user> <database> ...`), so other
    databases on the same server (a test suite running meanwhile) do not count. Backends that exit
    between two readings take their time with them: read it while the pool keeps its connections.
    """
    name = f" {database_url.rsplit('/', 1)[-1]} "
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if name in f"{title} ":
            total += _ticks(int(entry.name))
    return total / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- report


def tree_state() -> dict[str, Any]:
    """Which backend files differ from the commit, and a digest of that difference.

    Others work in the same tree: two runs on the same commit can still measure different code.
    """
    import hashlib

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "backend").splitlines()]
    diff = git("diff", "HEAD", "--", "backend")
    return {
        "backend_changed_files": changed,
        "backend_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None,
    }


def lookup(report: dict[str, Any] | None, scenario: str, key: str) -> Any:
    node: Any = (report or {}).get("scenarios", {}).get(scenario)
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def print_report(
    title: str,
    report: dict[str, Any],
    baseline: dict[str, Any] | None,
    rows: list[tuple[str, str]],
    headings: dict[str, str],
) -> None:
    """Each scenario's figures; with a baseline, `baseline → current (relative change)`.

    `rows` are (dotted key, label) pairs, looked up in every scenario that has them.
    """
    machine = report["machine"]
    dirty = " (dirty)" if machine["git_dirty"] else ""
    print(
        f"\n{title}  {machine['date']}  commit {machine['git_commit']}{dirty}"
        f"  nproc {machine['nproc']}  python {machine['python']}  load {machine['loadavg_1m_at_start']}"
    )
    if baseline:
        bm = baseline.get("machine", {})
        print(f"{'baseline':{len(title)}}  {bm.get('date')}  commit {bm.get('git_commit')}  nproc {bm.get('nproc')}")
    names = list(report["scenarios"])
    if baseline:
        names += [name for name in baseline.get("scenarios", {}) if name not in names]
    for name in names:
        print(f"\n{headings.get(name, name)}")
        current_scenario = report["scenarios"].get(name)
        old_scenario = (baseline or {}).get("scenarios", {}).get(name)
        for scenario, tag in ((current_scenario, "current"), (old_scenario, "baseline")):
            if isinstance(scenario, dict) and "skipped" in scenario:
                print(f"  {tag}: skipped: {scenario['skipped']}")
        for key, label in rows:
            current = lookup(report, name, key)
            if baseline is None:
                if current is not None:
                    print(f"  {label:40} {fmt(current):>10}")
                continue
            old = lookup(baseline, name, key)
            if current is None and old is None:
                continue
            change = ""
            numeric = (int, float)
            if (
                isinstance(old, numeric)
                and isinstance(current, numeric)
                and not isinstance(old, bool)
                and not isinstance(current, bool)
                and old
            ):
                change = f"({(current - old) / abs(old) * 100:+.0f}%)"
            print(f"  {label:40} {fmt(old):>10} → {fmt(current):<10} {change}")
    print()
