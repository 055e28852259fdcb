"""Backup and restore of one deployment's state (`python -m promptlink backup|restore`; docs/operations.md).

A backup is a folder: the database (SQLite: a copy made with SQLite's online backup API, consistent
while the backend writes; PostgreSQL: `pg_dump --format=custom`), the models folder (every model and
the `active` pointer, kept as a name relative to the folder), the rule files, the administrators'
reviewed NLU file, the attachments store, and `manifest.json` (version, Alembic revision, creation
time, SHA-256 and size of every file). Restore checks every checksum before it touches anything,
refuses a target database that holds rows unless forced, restores the database (then migrates it
to this version's schema), then the files. Secrets are not part of it (they live in the
environment), nor is Rasa's tracker store (the transcripts are in the backend's database).

This module sits in `infra`: the paths come from the caller (`Deployment`), built by the CLI.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

from promptlink import __version__
from promptlink.infra.db import create_engine
from promptlink.infra.files import replace_atomically, write_text_atomically
from promptlink.infra.lease import held_leases
from promptlink.infra.migrate import alembic_config, upgrade

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_DIR = "database"
SQLITE_FILE = "promptlink.sqlite3"
PG_FILE = "promptlink.pgdump"
CHUNK = 1024 * 1024
EXTERNAL = "external"  # models/external/: an active model that lay outside the models folder


class BackupError(RuntimeError):
    """The backup or the restore cannot be done; the message says why (English, for the operator)."""


@dataclass(frozen=True)
class Deployment:
    """Where one deployment keeps its state. `rules` maps a rule file's name to the file the code reads."""

    database_url: str
    models_dir: Path
    active_pointer: str
    rules: dict[str, Path]
    reviewed_nlu: Path
    attachments_dir: Path
    # Where its processes keep their lease lock files (SQLite: `<var_dir>/run/lease-<name>.lock`);
    # restore refuses while one is held, i.e. while Promptlink runs on this deployment.
    var_dir: Path | None = None


@dataclass
class Restored:
    """What a restore put in place, for the operator."""

    revision_in_backup: str | None
    revision_now: str | None
    tables: dict[str, int] = field(default_factory=dict)
    models: int = 0
    active_model: str | None = None
    rules: list[str] = field(default_factory=list)
    reviewed_nlu: bool = False
    attachments: int = 0
    unchanged: int = 0

    def lines(self) -> list[str]:
        rows = sum(self.tables.values())
        migrated = (
            f", migrated {self.revision_in_backup} -> {self.revision_now}"
            if self.revision_in_backup != self.revision_now
            else ""
        )
        return [
            f"database: {len(self.tables)} tables, {rows} rows (revision {self.revision_in_backup}{migrated})",
            f"models: {self.models} files" + (f", active model {self.active_model}" if self.active_model else ""),
            "rules: " + (", ".join(self.rules) if self.rules else "none in the backup"),
            "reviewed NLU: " + ("restored" if self.reviewed_nlu else "none in the backup"),
            f"attachments: {self.attachments} files",
            f"files already identical in the target: {self.unchanged}",
        ]


# --- files and checksums -------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path, skip: Callable[[Path], bool] = lambda _p: False) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not skip(path):
            yield path


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _put(source: Path, target: Path, sha256: str) -> bool:
    """Copy `source` to `target` whole or not at all; False when it was already there."""
    if target.is_file() and target.stat().st_size == source.stat().st_size and sha256_of(target) == sha256:
        return False
    with source.open("rb") as src:
        replace_atomically(target, lambda out: shutil.copyfileobj(src, out, CHUNK), prefix=".restore-")
    return True


def _write_text(target: Path, content: str) -> None:
    write_text_atomically(target, content, prefix=".restore-")


# --- the database --------------------------------------------------------------------------------


def _dialect(database_url: str) -> str:
    name = make_url(database_url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database {name!r}: only SQLite and PostgreSQL can be backed up")
    return name


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError(f"{database_url}: an in-memory SQLite database cannot be backed up")
    return Path(database)


def libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """`postgresql+asyncpg://u:p@h:port/db?ssl=require` as a libpq URL without the password, and the
    environment that carries the password (PGPASSWORD) — never on the command line."""
    url = make_url(database_url)
    env: dict[str, str] = {}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    query: dict[str, str] = {}
    for key, value in url.query.items():
        value = value if isinstance(value, str) else value[-1]
        if key in ("ssl", "sslmode"):
            query["sslmode"] = {"true": "require", "false": "disable"}.get(value.lower(), value)
    libpq = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=query
    )
    return libpq.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    """`pg_dump` or `pg_restore`/`psql`: the newest of /usr/lib/postgresql/*/bin (a newer client reads
    older servers), else the one on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parts[-3]))

    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=version, reverse=True)
    if candidates:
        return str(candidates[0])
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found (install the PostgreSQL client, e.g. Debian's postgresql-client)")
    return found


def _run_pg(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


async def _table_rows(database_url: str) -> dict[str, int]:
    """Rows per table of the database (every table, `alembic_version` included)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            names: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            counts = {}
            for name in sorted(names):
                counts[name] = int((await conn.scalar(select(func.count()).select_from(table(name)))) or 0)
            return counts
    finally:
        await engine.dispose()


async def _revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            has = await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
            if not has:
                return None
            value = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            return str(value) if value is not None else None
    finally:
        await engine.dispose()


def table_rows(database_url: str) -> dict[str, int]:
    return asyncio.run(_table_rows(database_url))


def database_revision(database_url: str) -> str | None:
    return asyncio.run(_revision(database_url))


def known_revisions() -> tuple[set[str], str | None]:
    """Every Alembic revision this version knows, and its head."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {r.revision for r in script.walk_revisions()}, script.get_current_head()


def _sqlite_backup(source: Path, target: Path) -> None:
    """A consistent copy with SQLite's online backup API: one step, under one read snapshot, while
    other connections keep writing (WAL)."""
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the backup
    finally:
        dst.close()
        src.close()


def _sqlite_revision(path: Path) -> str | None:
    """The copy's Alembic revision, read without changing the file (no WAL switch, no side files)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return str(row[0]) if row else None


def _sqlite_restore(source: Path, target: Path) -> None:
    """The backup's pages replace the target's, through the target's own connection (its WAL and locks)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _pg_restore(dump: Path, database_url: str, tables: list[str]) -> None:
    """Drop the target's tables and load the dump in one transaction (psql --single-transaction): a
    failure leaves the target as it was."""
    url, env = libpq_url(database_url)
    with tempfile.TemporaryDirectory(prefix="promptlink-restore-") as work:
        script = Path(work) / "restore.sql"
        _run_pg([pg_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(dump)], env)
        drops = Path(work) / "drop.sql"
        drops.write_text(
            "".join(f'DROP TABLE IF EXISTS public."{name}" CASCADE;\n' for name in tables), encoding="utf-8"
        )
        _run_pg(
            [pg_tool("psql"), "-X", "-q", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1",
             f"--dbname={url}", "-f", str(drops), "-f", str(script)],
            env,
        )  # fmt: skip


# --- backup ----------------------------------------------------------------------------------------


def backup(deployment: Deployment, to: Path, *, now: datetime | None = None) -> dict[str, Any]:
    """Write a backup of `deployment` into the new folder `to`; returns the manifest.

    The backup is assembled in a temporary sibling folder and renamed when complete, so a folder
    named `to` is always a whole backup.
    """
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise BackupError(f"{to} exists and is not an empty folder; choose a new one")
    for folder in (deployment.models_dir, deployment.attachments_dir):
        if to.resolve().is_relative_to(folder.resolve()):
            raise BackupError(f"{to} is inside {folder}, which the backup copies; choose a folder outside it")
    dialect = _dialect(deployment.database_url)
    to.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=to.parent, prefix=f".{to.name}.partial-"))
    try:
        (work / DATABASE_DIR).mkdir()
        if dialect == "sqlite":
            database_file = f"{DATABASE_DIR}/{SQLITE_FILE}"
            _sqlite_backup(_sqlite_path(deployment.database_url), work / database_file)
            revision = _sqlite_revision(work / database_file)
        else:
            database_file = f"{DATABASE_DIR}/{PG_FILE}"
            revision = database_revision(deployment.database_url)
            url, env = libpq_url(deployment.database_url)
            _run_pg(
                [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={work / database_file}", f"--dbname={url}"],
                env,
            )  # fmt: skip

        active = _copy_models(deployment, work)
        rules = {}
        for name, path in sorted(deployment.rules.items()):
            if path.is_file():
                rules[name] = f"rules/{name}.yml"
                _copy(path, work / rules[name])
        reviewed = None
        if deployment.reviewed_nlu.is_file():
            reviewed = "reviewed_nlu/reviewed.yml"
            _copy(deployment.reviewed_nlu, work / reviewed)
        for path in _files_under(deployment.attachments_dir, skip=lambda p: p.name.startswith(".")):
            _copy(path, work / "attachments" / path.relative_to(deployment.attachments_dir))

        files = {
            path.relative_to(work).as_posix(): {"sha256": sha256_of(path), "size": path.stat().st_size}
            for path in _files_under(work)
        }
        manifest = {
            "format": FORMAT,
            "promptlink_version": __version__,
            "alembic_revision": revision,
            "created_at": (now or datetime.now(UTC)).isoformat(),
            "database": {"dialect": dialect, "file": database_file},
            "active_model": active,
            "rules": rules,
            "reviewed_nlu": reviewed,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if to.exists():
            to.rmdir()
        os.replace(work, to)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _copy_models(deployment: Deployment, work: Path) -> dict[str, str] | None:
    """Copy the models folder (the pointer aside) and return the active model as a path relative to
    the folder, so the restored pointer names the restored file. An active model outside the folder
    is copied into `external/` of it."""
    root = deployment.models_dir
    pointer = root / deployment.active_pointer
    for path in _files_under(root, skip=lambda p: p == pointer or p.name.startswith(".")):
        _copy(path, work / "models" / path.relative_to(root))
    if not pointer.is_file():
        return None
    target = Path(pointer.read_text(encoding="utf-8").strip()).resolve()
    try:
        return {"relative": target.relative_to(root.resolve()).as_posix()}
    except ValueError:
        if not target.is_file():
            return None  # a pointer to a missing file is ignored by the supervisor too
        relative = f"{EXTERNAL}/{target.name}"
        _copy(target, work / "models" / relative)
        return {"relative": relative}


# --- restore ---------------------------------------------------------------------------------------


def verify(source: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it lists is present with its size and SHA-256 and no
    other file is there; BackupError naming the first problems otherwise."""
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} is not a Promptlink backup: {MANIFEST} is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files: dict[str, dict[str, Any]] = manifest["files"]
        database_file = manifest["database"]["file"]
        dialect = manifest["database"]["dialect"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"the backup is corrupt: {MANIFEST} cannot be read ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not supported (this version reads {FORMAT})")
    problems = []
    for name, expected in sorted(files.items()):
        path = source / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            problems.append(f"{name}: not a path inside the backup")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != expected.get("size"):
            problems.append(f"{name}: {path.stat().st_size} bytes, the manifest says {expected.get('size')}")
        elif sha256_of(path) != expected.get("sha256"):
            problems.append(f"{name}: SHA-256 does not match the manifest")
    listed = set(files) | {MANIFEST}
    problems += [
        f"{p.relative_to(source).as_posix()}: not in the manifest"
        for p in _files_under(source)
        if p.relative_to(source).as_posix() not in listed
    ]
    if database_file not in files or dialect not in ("sqlite", "postgresql"):
        problems.append("the manifest names no database file")
    named = [*dict(manifest.get("rules") or {}).values(), manifest.get("reviewed_nlu")]
    problems += [
        f"{name}: named by the manifest but not among its files" for name in named if name and name not in files
    ]
    active = manifest.get("active_model")
    if active and f"models/{active.get('relative')}" not in files:
        problems.append(f"the active model {active.get('relative')!r} is not among the backup's models")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise BackupError(f"the backup is corrupt, nothing was restored: {shown}")
    return dict(manifest)


def restore(deployment: Deployment, source: Path, *, force: bool = False) -> Restored:
    """Restore the backup in `source` into `deployment`. Checks come first (checksums, revision,
    database kind, an empty target database unless `force`): when one fails nothing is changed."""
    manifest = verify(source)
    dialect = _dialect(deployment.database_url)
    if manifest["database"]["dialect"] != dialect:
        raise BackupError(
            f"the backup holds a {manifest['database']['dialect']} database and the target is {dialect}; "
            "restore into the same kind of database"
        )
    revision = manifest.get("alembic_revision")
    known, head = known_revisions()
    if revision is not None and revision not in known:
        raise BackupError(
            f"the backup's database is at revision {revision!r}, unknown to Promptlink {__version__} "
            f"(head {head}): restore it with the version that made it ({manifest.get('promptlink_version')})"
        )
    unknown = sorted(set(manifest.get("rules", {})) - set(deployment.rules))
    if unknown:
        raise BackupError(f"the backup holds rules this version does not read: {', '.join(unknown)}")
    existing = _existing_tables(deployment.database_url, dialect)
    if "leases" in existing:
        running = asyncio.run(held_leases(deployment.database_url, deployment.var_dir))
        if running:
            raise BackupError(
                f"Promptlink is running on this deployment (a process holds the lease {', '.join(running)}): "
                "stop every backend and SNMP receiver first, then restore"
            )
    # `leases` (who runs each singleton, infra/lease.py) is written by any backend that ever started, and
    # `snmp_journal_cursors` by any SNMP receiver (keyed by a journal's own id): runtime state, not data.
    runtime = ("alembic_version", "leases", "snmp_journal_cursors")
    holding = {name: rows for name, rows in existing.items() if rows and name not in runtime}
    if holding and not force:
        shown = ", ".join(f"{name} ({rows})" for name, rows in sorted(holding.items())[:6])
        raise BackupError(
            f"the target database is not empty ({shown}{', …' if len(holding) > 6 else ''}); "
            "restore into an empty deployment, or pass --force to replace its data"
        )

    database_file = source / manifest["database"]["file"]
    if dialect == "sqlite":
        _sqlite_restore(database_file, _sqlite_path(deployment.database_url))
    else:
        _pg_restore(database_file, deployment.database_url, sorted(existing))
    upgrade(deployment.database_url)
    result = Restored(revision_in_backup=revision, revision_now=database_revision(deployment.database_url))
    result.tables = table_rows(deployment.database_url)

    files: dict[str, dict[str, Any]] = manifest["files"]

    def put(name: str, target: Path) -> None:
        if not _put(source / name, target, files[name]["sha256"]):
            result.unchanged += 1

    for name in sorted(files):
        if name.startswith("models/"):
            put(name, deployment.models_dir / name.removeprefix("models/"))
            result.models += 1
        elif name.startswith("attachments/"):
            put(name, deployment.attachments_dir / name.removeprefix("attachments/"))
            result.attachments += 1
    for rule, name in sorted(manifest.get("rules", {}).items()):
        put(name, deployment.rules[rule])
        result.rules.append(rule)
    if manifest.get("reviewed_nlu"):
        put(manifest["reviewed_nlu"], deployment.reviewed_nlu)
        result.reviewed_nlu = True
    active = manifest.get("active_model")
    if active:
        model = deployment.models_dir / active["relative"]
        _write_text(deployment.models_dir / deployment.active_pointer, f"{model.resolve()}\n")
        result.active_model = str(model.resolve())
    return result


def _existing_tables(database_url: str, dialect: str) -> dict[str, int]:
    if dialect == "sqlite" and not _sqlite_path(database_url).exists():
        return {}
    try:
        return table_rows(database_url)
    except Exception as exc:  # noqa: BLE001 - any driver error: the operator reads it
        raise BackupError(f"the target database cannot be read: {exc}") from exc
