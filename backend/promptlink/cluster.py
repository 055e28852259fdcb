"""`python -m promptlink cluster` (`make cluster`): the deploy/ topology on one machine.

Two backends, two Rasa servers, the action server and HAProxy, each on its own loopback address
as if on separate machines (backends 127.0.0.11:8000 and 127.0.0.12:8000, Rasa 127.0.0.21:5005
and 127.0.0.22:5005, actions 127.0.0.31:5055, HAProxy 127.0.0.1:8088, its stats on :8404), on
PostgreSQL (one database for the backends, one for Rasa's tracker store) and Redis (socket.io
channel, Rasa's lock store): the machine's, or with `--private` instances this command starts
(`initdb` + `postgres`, `redis-server --save ''`) under var/cluster/, which the failure runs can
restart. Everything runs under the supervisor of `promptlink run` (supervisor.py): a process that
dies is restarted with a back-off; pid files are in <var>/run/<name>.pid.

Every process shares one set of secrets, generated once into <var>/secrets.env (mode 0600): a
widget identity or an agent's login signed by one backend must verify on the other.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from promptlink.infra.settings import DEMO_SECRETS, PROJECT_ROOT, Settings
from promptlink.supervisor import Child, Supervisor, active_model, build_children, log, wait_healthy

DEPLOY = PROJECT_ROOT / "deploy"


@dataclass
class Layout:
    """Where each process of the local cluster listens, and what it runs on."""

    backends: list[tuple[str, int]] = field(default_factory=lambda: [("127.0.0.11", 8000), ("127.0.0.12", 8000)])
    rasa: list[tuple[str, int]] = field(default_factory=lambda: [("127.0.0.21", 5005), ("127.0.0.22", 5005)])
    actions: tuple[str, int] = ("127.0.0.31", 5055)
    haproxy: tuple[str, int] = ("127.0.0.1", 8088)
    stats: tuple[str, int] = ("127.0.0.1", 8404)
    # The address of the intakes (SMTP, SNMP): bound by whichever backend holds their lease, as a
    # floating address (keepalived) would be on several machines.
    service_host: str = "127.0.0.10"
    smtp_port: int = 2525
    snmp_port: int = 1162
    var_dir: Path = PROJECT_ROOT / "var" / "cluster"
    # The machine's PostgreSQL (admin URL, libpq form) and Redis; replaced by private ones with `private`.
    pg_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis: tuple[str, int] = ("127.0.0.1", 6379)
    private: bool = False
    pg_port: int = 55432
    redis_port: int = 56379
    database: str = "promptlink_cluster"
    redis_channel: str = "promptlink-cluster"

    @property
    def public_url(self) -> str:
        return f"http://{self.haproxy[0]}:{self.haproxy[1]}"

    @property
    def stats_url(self) -> str:
        return f"http://{self.stats[0]}:{self.stats[1]}/"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://{h}:{p}" for h, p in self.rasa]

    @property
    def backend_urls(self) -> list[str]:
        return [f"http://{h}:{p}" for h, p in self.backends]

    @property
    def actions_url(self) -> str:
        return f"http://{self.actions[0]}:{self.actions[1]}"

    @property
    def pg(self) -> tuple[str, int]:
        if self.private:
            return ("127.0.0.1", self.pg_port)
        parts = urlsplit(self.pg_admin_url)
        return (parts.hostname or "127.0.0.1", parts.port or 5432)

    @property
    def pg_user(self) -> str:
        return "postgres" if self.private else (urlsplit(self.pg_admin_url).username or "postgres")

    @property
    def pg_password(self) -> str:
        return "" if self.private else (urlsplit(self.pg_admin_url).password or "")

    @property
    def admin_url(self) -> str:
        if self.private:
            return f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres"
        return self.pg_admin_url

    @property
    def redis_address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.redis_port) if self.private else self.redis

    @property
    def database_url(self) -> str:
        host, port = self.pg
        auth = self.pg_user + (f":{self.pg_password}" if self.pg_password else "")
        return f"postgresql+asyncpg://{auth}@{host}:{port}/{self.database}"

    @property
    def redis_url(self) -> str:
        host, port = self.redis_address
        return f"redis://{host}:{port}/0"

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    def backend_name(self, k: int) -> str:
        return f"backend-{k + 1}"

    def rasa_name(self, k: int) -> str:
        return f"rasa-{k + 1}"


def cluster_secrets(var_dir: Path) -> dict[str, str]:
    """The secrets every process shares, made once (random, 48 characters each) and kept in <var>/secrets.env."""
    path = var_dir / "secrets.env"
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    wanted = {f"PROMPTLINK_{name.upper()}" for name in DEMO_SECRETS}
    if not wanted <= set(values):
        values = {key: secrets.token_urlsafe(36) for key in sorted(wanted)}
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# Shared by every process of the local cluster (python -m promptlink cluster).\n")
            out.writelines(f"{key}={value}\n" for key, value in values.items())
    return values


def render_haproxy(layout: Layout, template: Path = DEPLOY / "haproxy.cfg") -> str:
    """deploy/haproxy.cfg with the lines marked `# cluster:` set to this layout's addresses."""
    servers = [
        f"    server {layout.backend_name(k)} {h}:{p} check cookie {layout.backend_name(k)}"
        for k, (h, p) in enumerate(layout.backends)
    ]
    out: list[str] = []
    for line in template.read_text().splitlines():
        marker = re.search(r"# cluster: (.+)$", line)
        if line.strip().startswith("log /dev/log"):
            continue  # no syslog socket needed on one machine; the supervisor logs the process
        if line.strip().startswith("maxconn"):
            # Two descriptors per proxied connection: stay within what this machine allows a process.
            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            maxconn = 20000 if limit == resource.RLIM_INFINITY else min(20000, (limit - 100) // 2)
            out.append(f"    maxconn {maxconn}")
            continue
        if marker is None:
            out.append(line)
            continue
        what = marker.group(1).strip()
        if what == "stats socket":
            out.append(f"    stats socket {layout.run_dir / 'haproxy.sock'} mode 600 level admin")
        elif what == "frontend":
            out.append(f"    bind {layout.haproxy[0]}:{layout.haproxy[1]}")
        elif what == "stats":
            out.append(f"    bind {layout.stats[0]}:{layout.stats[1]}")
        elif what == "server":
            out += servers
            servers = []
    return "\n".join(out) + "\n"


def _privileged_argv(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user (setpriv execs, no fork)."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", *argv]


def private_services(layout: Layout, base: dict[str, str]) -> list[Child]:
    """A private PostgreSQL (initdb once) and Redis (nothing saved), as supervised children."""
    pg_dir = layout.var_dir / "pg"
    data = pg_dir / "data"
    if not (data / "PG_VERSION").exists():
        pg_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(pg_dir, "postgres", "postgres")
        subprocess.run(
            _privileged_argv(["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    postgres = Child(
        "postgres",
        _privileged_argv(
            [
                "postgres",
                "-D",
                str(data),
                "-p",
                str(layout.pg_port),
                "-k",
                str(pg_dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
                "-c",
                "fsync=on",
            ]
        ),
        dict(base),
    )
    redis = Child(
        "redis",
        ["redis-server", "--port", str(layout.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        dict(base),
    )
    return [postgres, redis]


def wait_port(host: str, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s") from None
            time.sleep(0.2)


async def prepare_databases(layout: Layout) -> None:
    """Create the backend's and Rasa's databases when missing (the backend's is migrated by the caller)."""
    import asyncpg

    deadline = time.monotonic() + 60
    while True:
        try:
            conn = await asyncpg.connect(layout.admin_url, timeout=5)
            break
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    try:
        for name in (layout.database, f"{layout.database}_rasa"):
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def cluster_children(layout: Layout, model: Path, shared: dict[str, str]) -> list[Child]:
    """The processes of the topology, their environments built by the supervisor's `build_children`
    and adjusted for several machines: one set of secrets, PostgreSQL and Redis, addresses apart."""
    first_backend = layout.backends[0]
    fields: dict[str, Any] = {key.removeprefix("PROMPTLINK_").lower(): value for key, value in shared.items()}
    fields.update(
        demo=True,
        host=first_backend[0],
        port=first_backend[1],
        rasa_urls=",".join(layout.rasa_urls),
        actions_url=layout.actions_url,
    )
    settings = Settings(**fields)
    run_dir = layout.run_dir
    backend, *rasas, actions = build_children(settings, model, run_dir, active_model(settings.models_dir, model))
    common = dict(shared, PROMPTLINK_DEMO="1")
    pg_host, pg_port = layout.pg
    redis_host, redis_port = layout.redis_address
    children: list[Child] = []
    for k, rasa in enumerate(rasas):
        argv = list(rasa.argv)
        argv[argv.index("--endpoints") + 1] = str(DEPLOY / "rasa" / "endpoints.yml")
        argv[argv.index("--log-file") + 1] = str(layout.var_dir / "log" / f"{layout.rasa_name(k)}.log")
        env = dict(rasa.env)
        env.pop("PROMPTLINK_RASA_TRACKER_DB", None)
        env.update(
            PROMPTLINK_RASA_PG_HOST=f"{pg_host}:{pg_port}",
            PROMPTLINK_RASA_PG_DB=f"{layout.database}_rasa",
            PROMPTLINK_RASA_PG_USER=layout.pg_user,
            PROMPTLINK_RASA_PG_PASSWORD=layout.pg_password,
            PROMPTLINK_RASA_REDIS_HOST=redis_host,
            PROMPTLINK_RASA_REDIS_PORT=str(redis_port),
            PROMPTLINK_RASA_REDIS_DB="1",
            PROMPTLINK_RASA_REDIS_PASSWORD="",
        )
        children.append(Child(layout.rasa_name(k), argv, env, model=rasa.model))
    actions.env["PROMPTLINK_BACKEND_URL"] = layout.public_url  # any healthy backend, through HAProxy
    children.append(actions)
    for k, (host, port) in enumerate(layout.backends):
        env = dict(backend.env, **common)
        env.update(
            PROMPTLINK_HOST=host,
            PROMPTLINK_PORT=str(port),
            PROMPTLINK_PUBLIC_URL=layout.public_url,
            PROMPTLINK_VAR_DIR=str(layout.var_dir / "data"),  # attachments, demo mailbox: shared by all
            PROMPTLINK_DATABASE_URL=layout.database_url,
            PROMPTLINK_REDIS_URL=layout.redis_url,
            PROMPTLINK_REDIS_CHANNEL=layout.redis_channel,
            PROMPTLINK_RASA_URLS=",".join(layout.rasa_urls),
            PROMPTLINK_ACTIONS_URL=layout.actions_url,
            SANIC_PROXIES_COUNT="1",  # behind HAProxy (`option forwardfor`)
        )
        # Every backend competes for the singletons (SMTP intake, SNMP receiver, sweeper, ...: one
        # PostgreSQL advisory lock each, infra/lease.py). The intake addresses are the cluster's own,
        # not a backend's: whichever backend holds the lease binds them, as a floating address
        # (keepalived) would move between machines (deploy/README.md).
        env.update(
            PROMPTLINK_SMTP_INTAKE_HOST=layout.service_host,
            PROMPTLINK_SMTP_INTAKE_PORT=str(layout.smtp_port),
            PROMPTLINK_SNMP_HOST=layout.service_host,
            PROMPTLINK_SNMP_PORT=str(layout.snmp_port),
        )
        children.append(Child(layout.backend_name(k), list(backend.argv), env))
    cfg = layout.var_dir / "haproxy.cfg"
    cfg.write_text(render_haproxy(layout))
    children.append(Child("haproxy", ["haproxy", "-db", "-f", str(cfg)], dict(backend.env)))
    return children


def banner(layout: Layout) -> str:
    from promptlink.services.demo_data import DEMO_AGENTS

    base = layout.public_url
    lines = [
        "",
        "Promptlink Assist cluster is running (HAProxy in front of every backend).",
        f"  Demo site with the chat widget:  {base}/",
        f"  Agent console:                   {base}/console",
        f"  Administration:                  {base}/admin",
        f"  Health:                          {base}/api/v1/health",
        f"  HAProxy stats:                   {layout.stats_url}",
        f"  HAProxy admin socket:            {layout.run_dir / 'haproxy.sock'}",
        *(f"  {layout.backend_name(k) + ':':33}{url}" for k, url in enumerate(layout.backend_urls)),
        *(f"  {layout.rasa_name(k) + ' (token required):':33}{url}" for k, url in enumerate(layout.rasa_urls)),
        f"  {'actions (internal):':33}{layout.actions_url}",
        f"  {'E-mail intake (lease holder):':33}{layout.service_host}:{layout.smtp_port}",
        f"  {'SNMP traps (lease holder):':33}udp://{layout.service_host}:{layout.snmp_port}",
        f"  {'PostgreSQL:':33}{layout.database_url.split('@')[-1]} (+ {layout.database}_rasa)",
        f"  {'Redis:':33}{layout.redis_url}",
        f"  Demo mailbox (e-mail sent):      {base}/demo/mailbox",
        "  Demo logins (agents):",
        *(f"    {a.email:34} {a.password:22} {a.role} {a.tiers}" for a in DEMO_AGENTS),
        "Press Ctrl-C to stop all processes.",
    ]
    return "\n".join(lines)


def _migrate_and_seed(env: dict[str, str]) -> None:
    for command in ("migrate", "seed"):
        subprocess.run(
            [sys.executable, "-m", "promptlink", command],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


async def run_cluster(layout: Layout, model: Path) -> int:
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    (layout.var_dir / "log").mkdir(parents=True, exist_ok=True)
    (layout.var_dir / "data").mkdir(parents=True, exist_ok=True)
    shared = cluster_secrets(layout.var_dir)
    base = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT / "backend"))
    services = private_services(layout, base) if layout.private else []
    supervisor = Supervisor(services, layout.run_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stopping.set)
    watchers = [asyncio.create_task(supervisor.watch(c)) for c in services]
    try:
        if layout.private:
            await asyncio.to_thread(wait_port, "127.0.0.1", layout.pg_port)
            await asyncio.to_thread(wait_port, "127.0.0.1", layout.redis_port)
        await prepare_databases(layout)
        children = cluster_children(layout, model, shared)
        # Migrations are one job, before any backend starts (as in production: deploy/README.md).
        await asyncio.to_thread(_migrate_and_seed, dict(children[-2].env))
    except BaseException:
        await supervisor.stop()
        raise
    supervisor.children += children
    watchers += [asyncio.create_task(supervisor.watch(c)) for c in children]
    log("cluster starting", children=[c.name for c in supervisor.children], model=str(model))
    health = await wait_healthy(layout.public_url + "/api/v1/health", supervisor.stopping)
    if health is not None:
        print(banner(layout), flush=True)
    elif not supervisor.stopping.is_set():
        log("cluster did not become healthy in time", url=layout.public_url)
    await supervisor.stopping.wait()
    await supervisor.stop()
    await asyncio.gather(*watchers, return_exceptions=True)
    return 0


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def _hp(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Layout()
    parser.add_argument("--model", help="Rasa model file (default: the active one, else the current data's)")
    parser.add_argument("--private", action="store_true", help="start a private PostgreSQL and Redis under var/")
    parser.add_argument("--var-dir", type=Path, default=d.var_dir, help=f"data, pid files, logs (default {d.var_dir})")
    parser.add_argument("--backends", default=",".join(f"{h}:{p}" for h, p in d.backends), help="host:port,...")
    parser.add_argument("--rasa", default=",".join(f"{h}:{p}" for h, p in d.rasa), help="host:port,...")
    parser.add_argument("--actions", default=_hp(d.actions), help="host:port")
    parser.add_argument("--haproxy", default=_hp(d.haproxy), help="public host:port")
    parser.add_argument("--stats", default=_hp(d.stats), help="HAProxy stats host:port")
    parser.add_argument("--smtp-port", type=int, default=d.smtp_port)
    parser.add_argument("--snmp-port", type=int, default=d.snmp_port)
    parser.add_argument("--pg", default=d.pg_admin_url, help="the machine's PostgreSQL admin URL (libpq form)")
    parser.add_argument("--redis", default=_hp(d.redis), help="the machine's Redis host:port")
    parser.add_argument("--pg-port", type=int, default=d.pg_port, help="private PostgreSQL port")
    parser.add_argument("--redis-port", type=int, default=d.redis_port, help="private Redis port")
    parser.add_argument("--database", default=d.database, help="backend database (Rasa's: <name>_rasa)")
    parser.add_argument("--redis-channel", default=d.redis_channel)


def layout_from(args: Any) -> Layout:
    return Layout(
        backends=[_address(a) for a in args.backends.split(",")],
        rasa=[_address(a) for a in args.rasa.split(",")],
        actions=_address(args.actions),
        haproxy=_address(args.haproxy),
        stats=_address(args.stats),
        smtp_port=args.smtp_port,
        snmp_port=args.snmp_port,
        var_dir=Path(args.var_dir).resolve(),
        pg_admin_url=args.pg,
        redis=_address(args.redis),
        private=args.private,
        pg_port=args.pg_port,
        redis_port=args.redis_port,
        database=args.database,
        redis_channel=args.redis_channel,
    )


def main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(PROJECT_ROOT))
    from bot.model import model_path
    from promptlink.assistant.workspace import read_active_pointer
    from promptlink.infra.settings import get_settings

    if shutil.which("haproxy") is None:
        print("promptlink cluster: haproxy is not installed (apt-get install haproxy).", file=sys.stderr)
        return 2
    models_dir = get_settings().models_dir
    model = Path(args.model) if args.model else (read_active_pointer(models_dir) or model_path())
    if not model.exists():
        print(f"promptlink cluster: no Rasa model at {model}; run `python bot/model.py ensure` first.", file=sys.stderr)
        return 2
    return asyncio.run(run_cluster(layout_from(args), model))
