"""Command line: `python -m promptlink {migrate,seed,serve,snmp,run,cluster,backup,restore}`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from promptlink.infra.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from promptlink.infra.backup import Deployment


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        print(f"promptlink: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def cmd_migrate(_args: argparse.Namespace) -> None:
    from promptlink.infra.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print("Database migrated.")


def cmd_seed(_args: argparse.Namespace) -> None:
    from promptlink.infra.db import create_engine, create_sessionmaker, transaction
    from promptlink.services.demo_data import seed_demo_data

    settings = _settings()

    async def _seed() -> dict[str, int]:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                return await seed_demo_data(session=session)
        finally:
            await engine.dispose()

    created = asyncio.run(_seed())
    print("Demo data seeded: " + ", ".join(f"{k} +{v}" for k, v in created.items()))


def cmd_serve(_args: argparse.Namespace) -> None:
    from promptlink.app import create_app
    from promptlink.infra.structured_logging import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    sys.setswitchinterval(settings.gil_switch_ms / 1000)  # the reply writer's thread and the event loop
    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False)


def cmd_snmp(_args: argparse.Namespace) -> None:
    """The trap receiver and alarm worker alone; chat messages go out through Redis.

    It runs under the "snmp-receiver" lease (infra/lease.py), as the backend's own receiver does:
    of several such processes (and backends) one receives, the others stand by and take over.
    """
    import signal

    import socketio
    from prometheus_client import start_http_server

    from promptlink.infra import metrics
    from promptlink.infra.clock import SystemClock
    from promptlink.infra.db import create_engine, create_sessionmaker
    from promptlink.infra.lease import Fence, Lease, Singleton
    from promptlink.infra.structured_logging import configure_logging
    from promptlink.transports.snmp.intake import TrapIntake

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        print("promptlink snmp: set PROMPTLINK_REDIS_URL to reach the backend's chats.", file=sys.stderr)
        raise SystemExit(2)

    async def _serve() -> None:
        engine = create_engine(settings.database_url)
        sessions = create_sessionmaker(engine)
        emitter = socketio.AsyncRedisManager(settings.redis_url, channel=settings.redis_channel, write_only=True)
        running: list[TrapIntake] = []

        async def start(fence: Fence) -> None:
            intake = TrapIntake.start(settings=settings, sessions=sessions, emitter=emitter, clock=SystemClock())
            running.append(intake)
            print(
                f"SNMP receiver on udp://{settings.snmp_host}:{intake.receiver.port} "
                f"(lease generation {fence.generation})",
                flush=True,
            )

        async def stop_intake() -> None:
            while running:
                await running.pop().close()
            print("SNMP receiver stopped: the snmp-receiver lease is lost", flush=True)

        def reload_rules() -> None:
            for intake in running:
                intake.rules.reload()

        singleton = Singleton(
            Lease(
                "snmp-receiver",
                sessions=sessions,
                var_dir=settings.var_dir,
                idle_timeout=settings.lease_idle_seconds,
            ),
            start=start,
            stop=stop_intake,
            poll=settings.lease_poll_seconds,
        )
        # Prometheus scrapes this process on its own port (a thread of prometheus-client's).
        server, _thread = start_http_server(
            settings.snmp_metrics_port, addr=settings.snmp_metrics_host, registry=metrics.REGISTRY
        )
        port = server.server_address[1]
        metrics.configure(settings.process_name or metrics.default_name("snmp", settings.snmp_metrics_host, port))
        print(f"SNMP metrics on http://{settings.snmp_metrics_host}:{port}/metrics", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, reload_rules)
        try:
            await singleton.begin()
            if singleton.state == "standby":
                print("SNMP receiver on standby: another process holds the snmp-receiver lease", flush=True)
            elif not singleton.active:
                print(f"SNMP receiver {singleton.state} (retried every {settings.lease_poll_seconds} s)", flush=True)
            await stop.wait()
        finally:
            server.shutdown()
            await singleton.close()
            await engine.dispose()

    asyncio.run(_serve())


def cmd_run(args: argparse.Namespace) -> None:
    from promptlink.supervisor import main as supervise

    _settings()
    raise SystemExit(supervise(args))


def deployment(settings: Settings) -> Deployment:
    """Where this deployment's state is: the database, models, the rule files the code reads, the
    reviewed NLU file and the attachments store (docs/operations.md)."""
    from promptlink.assistant.workspace import ACTIVE_POINTER
    from promptlink.infra.backup import Deployment
    from promptlink.services import canned_responses, ticket_rules, trap_rules

    return Deployment(
        database_url=settings.database_url,
        models_dir=settings.models_dir,
        active_pointer=ACTIVE_POINTER,
        rules={
            "priority": ticket_rules.RULES_DIR / "priority.yml",
            "routing": ticket_rules.RULES_DIR / "routing.yml",
            "snmp": settings.snmp_rules_path or trap_rules.DEFAULT_RULES,
            "canned_responses": canned_responses.DEFAULT_FILE,
        },
        reviewed_nlu=settings.reviewed_nlu_path,
        attachments_dir=settings.var_dir / "attachments",
        var_dir=settings.var_dir,
    )


def cmd_backup(args: argparse.Namespace) -> None:
    from promptlink.infra.backup import BackupError, backup

    try:
        manifest = backup(deployment(_settings()), Path(args.to))
    except BackupError as exc:
        print(f"promptlink backup: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    size = sum(f["size"] for f in manifest["files"].values())
    print(
        f"Backup written to {args.to}: {manifest['database']['dialect']} database at revision "
        f"{manifest['alembic_revision']}, {len(manifest['files'])} files, {size} bytes."
    )


def cmd_restore(args: argparse.Namespace) -> None:
    from promptlink.infra.backup import BackupError, restore

    try:
        restored = restore(deployment(_settings()), Path(args.source), force=args.force)
    except BackupError as exc:
        print(f"promptlink restore: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    print(f"Restored from {args.source}:")
    for line in restored.lines():
        print(f"  {line}")


def cmd_cluster(args: argparse.Namespace) -> None:
    from promptlink.cluster import main as run_cluster

    _settings()
    raise SystemExit(run_cluster(args))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="promptlink", description="Promptlink Assist backend")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="insert the demo data (idempotent)").set_defaults(func=cmd_seed)
    sub.add_parser("serve", help="run the backend HTTP/socket.io server").set_defaults(func=cmd_serve)
    sub.add_parser("snmp", help="run only the SNMP trap receiver (chats through Redis)").set_defaults(func=cmd_snmp)
    run = sub.add_parser("run", help="run backend, Rasa and the action server under one supervisor")
    run.add_argument("--model", help="Rasa model file (default: the model of the current fingerprint)")
    run.set_defaults(func=cmd_run)
    backup = sub.add_parser("backup", help="back up the database, models, rules, reviewed NLU and attachments")
    backup.add_argument("--to", required=True, metavar="DIR", help="a new (or empty) folder for the backup")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore a backup into this deployment (an empty one)")
    restore.add_argument("--from", dest="source", required=True, metavar="DIR", help="the backup folder")
    restore.add_argument("--force", action="store_true", help="replace a target database that holds data")
    restore.set_defaults(func=cmd_restore)
    from promptlink.cluster import add_arguments

    cluster = sub.add_parser(
        "cluster", help="the deploy/ topology on one machine: 2 backends, 2 Rasa, actions, HAProxy (make cluster)"
    )
    add_arguments(cluster)
    cluster.set_defaults(func=cmd_cluster)
    args = parser.parse_args(argv)
    args.func(args)
