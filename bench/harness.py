"""How the benchmarks start what they measure: the system's processes (through `testkit`, the harness
the tests use too) in throwaway var dirs, and throwaway databases.

Importing it puts the repository root (for `testkit`) and backend/ (for `promptlink`, in-process
measurements) on sys.path: bench scripts import it before anything of the project's.
Nothing here sends traffic anywhere but 127.0.0.1; everything started is stopped on any exit,
Ctrl-C included.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "backend", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from testkit.databases import PG_ADMIN_URL, pg_admin, pg_url  # noqa: E402
from testkit.processes import Running, lone_env, stack_timeout, start, start_stack  # noqa: E402

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# Every simulated customer connects from 127.0.0.1: no bound on sockets per address.
BENCH_ENV = {"PROMPTLINK_CHAT_CONNECTIONS_PER_IP": "0"}


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


class DatabaseUnavailable(RuntimeError):
    """The database kind cannot be used on this machine; the message says why."""


# --------------------------------------------------------------------------- databases


def _pg_admin_url() -> str:
    host = urlsplit(PG_ADMIN_URL).hostname or ""
    if host not in LOCAL_HOSTS:
        raise DatabaseUnavailable(f"PostgreSQL admin URL {PG_ADMIN_URL!r} is not on 127.0.0.1; benchmarks stay local")
    return PG_ADMIN_URL


@contextmanager
def database(kind: str, work_dir: Path, name: str) -> Iterator[str]:
    """A fresh, empty database URL (SQLAlchemy async form); dropped or deleted on exit.

    `sqlite`: a file in `work_dir` (WAL is switched on by promptlink.infra.db on connect).
    `postgresql`: a throwaway database on the tests' admin server (PROMPTLINK_TEST_PG_URL), dropped
    WITH (FORCE). Raises DatabaseUnavailable when PostgreSQL cannot be reached.
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
        asyncio.run(pg_admin(f'CREATE DATABASE "{db_name}"', admin_url))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DatabaseUnavailable(f"PostgreSQL not reachable at {admin_url}: {type(exc).__name__}: {exc}") from exc
    log(f"created PostgreSQL database {db_name}")
    try:
        yield pg_url(db_name, admin_url)
    finally:
        try:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)', admin_url))
            log(f"dropped PostgreSQL database {db_name}")
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log(f"could not drop PostgreSQL database {db_name}: {exc}")


# --------------------------------------------------------------------------- processes


@contextmanager
def _var_dir(kind: str, keep_var: bool) -> Iterator[Path]:
    """A temporary var dir (logs, SQLite database, Rasa tracker store), removed on exit unless kept."""
    var_dir = Path(tempfile.mkdtemp(prefix=f"promptlink-bench-{kind}-"))
    try:
        yield var_dir
    finally:
        if keep_var:
            log(f"var dir kept: {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


@contextmanager
def _stopped_on_exit(kind: str, running: Running) -> Iterator[Running]:
    try:
        yield running
    finally:
        log(f"stopping {kind} (pid {running.process.pid})")
        running.stop()


@contextmanager
def backend_process(
    database_url: str | None = None,
    *,
    workers: bool = True,
    keep_var: bool,
    variant: str = "app",
    extra_env: dict[str, str] | None = None,
    health_timeout: float = 60,
) -> Iterator[Running]:
    """`python -m promptlink serve` alone on a free port (Rasa and the action server on closed ports), with
    its own var dir and `database_url` (default: SQLite in the var dir).

    Migrated and seeded with the demo data first, like the tests' `lone_backend`. A `variant` other than
    "app" starts it through bench/variants.py. Yields testkit's `Running`.
    """
    env = dict(BENCH_ENV, PROMPTLINK_WORKERS_ENABLED="true" if workers else "false", **(extra_env or {}))
    if database_url:
        env["PROMPTLINK_DATABASE_URL"] = database_url
    entry = ("-m", "promptlink") if variant == "app" else (str(ROOT / "bench" / "variants.py"),)
    argv = ["serve"] if variant == "app" else [variant]
    with _var_dir("backend", keep_var) as var_dir:
        # Rasa is down on purpose, so health answers 503 once the server is up.
        started = start(
            var_dir, argv, lone_env(var_dir, **env), health_timeout=health_timeout, accept=(503,), entry=entry
        )
        with _stopped_on_exit("backend", started) as running:
            yield running


@contextmanager
def full_stack(*, keep_var: bool, model: Path | None = None, rasa_processes: int = 1) -> Iterator[Running]:
    """Backend, `rasa_processes` Rasa servers and the action server under the supervisor
    (`python -m promptlink run`, like the tests' `stack`), healthy; `model`: the Rasa model to load.

    It waits as long as the tests do (PROMPTLINK_TEST_STACK_TIMEOUT, default 600 s): on a busy 2-core
    machine two Rasa servers can take more than 5 minutes to load."""
    with _var_dir("stack", keep_var) as var_dir:
        started = start_stack(var_dir, timeout=stack_timeout(), rasa_processes=rasa_processes, model=model, **BENCH_ENV)
        with _stopped_on_exit("stack", started) as running:
            yield running
