"""Command line: `python -m promptlink {migrate,seed,serve,snmp,run,cluster}`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from promptlink.infra.settings import Settings, SettingsError, get_settings


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
    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False)


def cmd_snmp(_args: argparse.Namespace) -> None:
    """The trap receiver and alarm worker alone; chat messages go out through Redis."""
    import signal

    import socketio

    from promptlink.infra.clock import SystemClock
    from promptlink.infra.db import create_engine, create_sessionmaker
    from promptlink.infra.structured_logging import configure_logging
    from promptlink.transports.snmp.intake import TrapIntake

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        print("promptlink snmp: set PROMPTLINK_REDIS_URL to reach the backend's chats.", file=sys.stderr)
        raise SystemExit(2)

    async def _serve() -> None:
        engine = create_engine(settings.database_url)
        emitter = socketio.AsyncRedisManager(settings.redis_url, channel=settings.redis_channel, write_only=True)
        intake = TrapIntake.start(
            settings=settings, sessions=create_sessionmaker(engine), emitter=emitter, clock=SystemClock()
        )
        print(f"SNMP receiver on udp://{settings.snmp_host}:{intake.receiver.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, intake.rules.reload)
        try:
            await stop.wait()
        finally:
            await intake.close()
            await engine.dispose()

    asyncio.run(_serve())


def cmd_run(args: argparse.Namespace) -> None:
    from promptlink.supervisor import main as supervise

    _settings()
    raise SystemExit(supervise(args))


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
    from promptlink.cluster import add_arguments

    cluster = sub.add_parser(
        "cluster", help="the deploy/ topology on one machine: 2 backends, 2 Rasa, actions, HAProxy (make cluster)"
    )
    add_arguments(cluster)
    cluster.set_defaults(func=cmd_cluster)
    args = parser.parse_args(argv)
    args.func(args)
