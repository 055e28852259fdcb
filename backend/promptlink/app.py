"""The backend application factory: Sanic + socket.io, resources on `app.ctx`."""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import socketio
from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import BaseHTTPResponse, HTTPResponse, file, json
from sanic_ext.extensions.openapi import openapi

from promptlink import __version__
from promptlink.assistant.client import RasaClient
from promptlink.assistant.runner import TrainingConfig, TrainingRunner
from promptlink.background import OutboxSender, run_periodically, send_training_notices_once, sweep_once
from promptlink.chat.attachments import ChatAttachments
from promptlink.chat.gateway import ChatGateway
from promptlink.chat.handoff import Handoff
from promptlink.chat.live_chat import LiveChat
from promptlink.infra import metrics
from promptlink.infra.clock import SystemClock
from promptlink.infra.db import create_engine, create_sessionmaker
from promptlink.infra.lease import Fence, Lease, Singleton, Start, Stop
from promptlink.infra.settings import PROJECT_ROOT, Settings, get_settings
from promptlink.services import attachments as attachment_files
from promptlink.services import conversation_token
from promptlink.services.canned_responses import CannedFile
from promptlink.services.errors import DomainError
from promptlink.transports.http import (
    admin,
    alarms,
    attachments,
    auth,
    bugs,
    canned,
    conversations,
    courses,
    demo,
    deployment,
    devices,
    health,
    queues,
    rmas,
    tickets,
    verification,
)
from promptlink.transports.http import errors as http_errors
from promptlink.transports.http.common import bounded_path_ids
from promptlink.transports.smtp.server import SmtpIntake
from promptlink.transports.socket.agent import AgentNamespace
from promptlink.transports.socket.bus import ResyncingRedisManager
from promptlink.transports.socket.chat import ChatNamespace

log = logging.getLogger(__name__)

PAGES = Path(__file__).parent / "web" / "pages"
CONSOLE_DIR = Path(__file__).parent / "web" / "console"
ADMIN_DIR = Path(__file__).parent / "web" / "admin"
CHART_JS = PROJECT_ROOT / "webchat" / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
WEBCHAT_SRC = PROJECT_ROOT / "webchat" / "src"
SOCKETIO_JS = PROJECT_ROOT / "webchat" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    manager = ResyncingRedisManager(settings.redis_url, channel=settings.redis_channel) if settings.redis_url else None
    origins: list[str] | str = [settings.public_url] if settings.public_url else []
    return socketio.AsyncServer(
        async_mode="sanic",
        client_manager=manager,
        cors_allowed_origins=origins or None,
        max_http_buffer_size=64 * 1024,
        ping_interval=10,
        ping_timeout=10,
    )


def _describe_api(app: Sanic[Any, Any], sio: socketio.AsyncServer) -> None:
    """The OpenAPI document at /docs/openapi.json covers the REST API only.

    Sanic-Ext's browsable UIs load from a CDN, which neither the CSP nor an offline
    support centre allows: /docs is our own page that renders the same document.
    """
    app.config.OAS_UI_SWAGGER = False
    app.config.OAS_UI_REDOC = True
    app.config.OAS_UI_DEFAULT = "redoc"
    app.config.OAS_PATH_TO_REDOC_HTML = str(PAGES / "api-docs.html")
    app.ext.openapi.describe(
        "Promptlink Assist API",
        version=__version__,
        description=(
            "REST API of the Promptlink Assist backend. The chat protocol (socket.io) is in docs/chat-protocol.md."
        ),
    )
    openapi.exclude(bp=demo.bp)
    for route in app.router.routes:
        if not route.path.startswith("api/"):
            openapi.exclude()(route.handler)


def _start_chat(
    ctx: Any, settings: Settings, sio: socketio.AsyncServer, chat_sockets: ChatNamespace, agent_sockets: AgentNamespace
) -> None:
    """The chat path at server start: gateway, live chat and handoff, and the namespaces bound to them."""
    ctx.gateway = ChatGateway(
        sessions=ctx.sessions, assistant=ctx.assistant, emitter=sio, max_chars=settings.max_message_chars
    )
    ctx.live = LiveChat(
        sessions=ctx.sessions,
        gateway=ctx.gateway,
        emitter=sio,
        clock=ctx.clock,
        assignment=settings.chat_assignment,
        default_wait_seconds=settings.handoff_default_wait_seconds,
        max_chars=settings.max_message_chars,
    )
    ctx.handoff = Handoff(
        sessions=ctx.sessions,
        clock=ctx.clock,
        gateway=ctx.gateway,
        after_queued=ctx.live.after_queued,
        default_wait_seconds=settings.handoff_default_wait_seconds,
    )
    ctx.gateway.use_handoff(ctx.handoff)
    ctx.attachments = ChatAttachments(
        sessions=ctx.sessions,
        emitter=sio,
        root=settings.var_dir / "attachments",
        max_bytes=settings.attachment_max_bytes,
    )
    chat_sockets.bind(gateway=ctx.gateway, live=ctx.live)
    agent_sockets.bind(sessions=ctx.sessions, gateway=ctx.gateway, live=ctx.live)


def create_app(settings: Settings | None = None, *, name: str = "promptlink") -> Sanic[Any, Any]:
    """Build the backend app; engine, clients and gateway are created at server start."""
    settings = settings or get_settings()
    app = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.ctx.settings = settings
    app.ctx.clock = SystemClock()
    app.ctx.canned = CannedFile()  # the console's canned replies, re-read on change
    metrics.configure(settings.process_name or metrics.default_name("backend", settings.host, settings.port))
    app.ctx.singletons = {}  # name -> Singleton: components that run in one process of the cluster
    # The conversation tokens the chat gateway puts in Rasa's metadata (services/conversation_token.py).
    conversation_token.configure(settings.secret("session_secret"))
    attachment_files.configure(settings.secret("session_secret"))  # signed download links (issue 15)
    _attach_sockets(app, settings)
    for blueprint in BLUEPRINTS:
        app.blueprint(blueprint)
    # Order matters: the receivers start once the sessions exist and close before the engine
    # goes (Sanic runs shutdown listeners in reverse order).
    app.before_server_start(_start_core)
    app.after_server_stop(_stop_core)
    app.before_server_start(_start_snmp)
    app.after_server_stop(_stop_snmp)
    app.before_server_start(_start_smtp_intake)
    app.after_server_stop(_stop_smtp_intake)
    app.before_server_start(_begin_singletons)  # the components above that run once in the cluster
    app.after_server_start(_freeze_startup_heap)
    _serve_pages(app)
    _describe_api(app, app.ctx.sio)
    app.on_request(bounded_path_ids)  # integer path ids beyond BIGINT are 404, not a driver overflow
    app.register_middleware(_security_headers, "response")
    app.register_middleware(_count_request, "response")
    app.exception(DomainError)(_domain_error)
    # What Sanic raises itself (404, 405, 413…) and any bug: {detail, message} on the API, a page elsewhere.
    app.exception(SanicException)(http_errors.sanic_error)
    app.exception(Exception)(http_errors.unexpected_error)
    return app


BLUEPRINTS = (
    health.bp,
    demo.bp,
    auth.bp,
    tickets.bp,
    queues.bp,
    conversations.bp,
    verification.bp,
    bugs.bp,
    deployment.bp,
    devices.bp,
    courses.bp,
    rmas.bp,
    alarms.bp,
    admin.bp,
    canned.bp,
    attachments.bp,
)


def _attach_sockets(app: Sanic[Any, Any], settings: Settings) -> None:
    sio = create_socket_server(settings)
    sio.attach(app)
    app.ctx.sio = sio
    app.ctx.chat_sockets, app.ctx.agent_sockets = ChatNamespace(settings), AgentNamespace(settings)
    sio.register_namespace(app.ctx.chat_sockets)
    sio.register_namespace(app.ctx.agent_sockets)
    app.ctx.end_agent_sockets = app.ctx.agent_sockets.end_sessions  # a revoked login closes its console sockets


async def _freeze_startup_heap(app: Sanic[Any, Any]) -> None:
    """Move what the start-up made out of the cyclic collector's reach (`gc.freeze`).

    Python's full collections (generation 2) scanned every object the process made while starting —
    modules, SQLAlchemy's mappers and statement caches, the app, OpenAPI, rules — with the event loop
    stopped: 108–190 ms each at start-up, 145 ms once in a 300-chat run; with the freeze, 13 and 52 ms
    (docs/performance.md, session 13). Those objects live as long as the process; what is made later
    is collected as before.
    """
    gc.collect()
    gc.freeze()
    log.info("startup heap frozen", extra={"objects": gc.get_freeze_count()})


async def _start_core(app: Sanic[Any, Any]) -> None:
    """Database, Rasa client, chat path, NLU retraining and the periodic workers."""
    settings: Settings = app.ctx.settings
    app.ctx.engine = create_engine(settings.database_url)
    app.ctx.sessions = create_sessionmaker(app.ctx.engine)
    app.ctx.unregister_pool = metrics.register(metrics.PoolCollector(app.ctx.engine))
    app.ctx.assistant = RasaClient(
        rasa_urls=settings.rasa_servers,
        rasa_token=settings.secret("rasa_token"),
        channel_token=settings.secret("rasa_channel_token"),
        actions_url=settings.actions_url,
        timeout=settings.rasa_timeout_seconds,
    )
    _start_chat(app.ctx, settings, app.ctx.sio, app.ctx.chat_sockets, app.ctx.agent_sockets)
    app.ctx.training = TrainingRunner(
        sessions=app.ctx.sessions,
        rasa=app.ctx.assistant,
        config=TrainingConfig(
            project=settings.bot_project_dir,
            models_dir=settings.models_dir,
            work_dir=settings.var_dir / "training",
            rasa_bin=PROJECT_ROOT / ".venv-bot" / "bin" / "rasa",
            cache_dir=settings.bot_project_dir / ".rasa" / "cache",
            var_dir=settings.var_dir,
            lease_idle_seconds=settings.lease_idle_seconds,
        ),
    )
    await app.ctx.training.recover()
    app.ctx.workers = []
    if settings.workers_enabled:
        app.ctx.workers = _start_workers(app.ctx, settings)
        _singleton_workers(app, settings)
    log.info(
        "backend started",
        extra={"db": app.ctx.engine.url.render_as_string(hide_password=True), "demo": settings.demo},
    )


def _start_workers(ctx: Any, settings: Settings) -> list[asyncio.Task[None]]:
    """The outbox sender, in every process (each delivery is claimed by one of them)."""
    sender = OutboxSender(sessions=ctx.sessions, settings=settings, clock=ctx.clock, gateway=ctx.gateway)
    return [asyncio.create_task(run_periodically("outbox", settings.outbox_interval_seconds, sender.run_once))]


def _singleton_workers(app: Sanic[Any, Any], settings: Settings) -> None:
    """The cadence sweeper and the training-course notices: one process of the cluster runs each,
    and every transaction they commit checks its lease's fencing generation first."""
    ctx = app.ctx

    async def _sweep(fence: Fence) -> None:
        await sweep_once(sessions=ctx.sessions, settings=settings, clock=ctx.clock, fence=fence)

    async def _training_notices(fence: Fence) -> None:
        await send_training_notices_once(sessions=ctx.sessions, clock=ctx.clock, fence=fence)

    async def _unanswered_turns(_fence: Fence) -> None:
        # Every turn ends (replies, or the notice) within the Rasa timeout; a customer message still
        # unanswered three timeouts later lost its turn with a backend process (bench/cluster.py).
        older = timedelta(seconds=max(90.0, 3 * settings.rasa_timeout_seconds))
        await ctx.gateway.answer_orphans(now=ctx.clock.now(), older_than=older, within=timedelta(minutes=30))

    _singleton(app, "sweeper", *_periodic("sweeper", settings.sweeper_interval_seconds, _sweep))
    _singleton(app, "unanswered-turns", *_periodic("unanswered_turns", 15.0, _unanswered_turns))
    _singleton(
        app, "training-notices", *_periodic("training_notices", settings.sweeper_interval_seconds, _training_notices)
    )


def _periodic(name: str, interval: float, job: Any) -> tuple[Start, Stop]:
    """A periodic worker as a singleton's start (with the lease's fence) and stop."""
    running: list[asyncio.Task[None]] = []

    async def start(fence: Fence) -> None:
        running.append(asyncio.create_task(run_periodically(name, interval, lambda: job(fence))))

    async def stop() -> None:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        running.clear()

    return start, stop


def _singleton(app: Sanic[Any, Any], name: str, start: Start, stop: Stop) -> Singleton:
    """The component under lease `name`: it starts here if this process gets the lease (at server
    start, `_begin_singletons`, or at a later poll when its holder is gone)."""
    settings: Settings = app.ctx.settings
    singleton = Singleton(
        Lease(name, sessions=app.ctx.sessions, var_dir=settings.var_dir, idle_timeout=settings.lease_idle_seconds),
        start=start,
        stop=stop,
        poll=settings.lease_poll_seconds,
    )
    app.ctx.singletons[name] = singleton
    return singleton


async def _begin_singletons(app: Sanic[Any, Any]) -> None:
    """Every singleton's first attempt at once (on PostgreSQL each waits half a poll after acquiring),
    then their poll loops."""
    await asyncio.gather(*(singleton.begin() for singleton in app.ctx.singletons.values()))


async def _stop_singleton(app: Sanic[Any, Any], name: str) -> None:
    singleton = app.ctx.singletons.pop(name, None)
    if singleton is not None:
        await singleton.close()


async def _stop_core(app: Sanic[Any, Any]) -> None:
    for name in ("sweeper", "training-notices"):
        await _stop_singleton(app, name)
    for task in app.ctx.workers:
        task.cancel()
    await app.ctx.training.stop()
    await asyncio.gather(*app.ctx.workers, return_exceptions=True)
    await app.ctx.gateway.drain()
    await app.ctx.assistant.close()
    app.ctx.live.shutdown()
    app.ctx.unregister_pool()
    await app.ctx.engine.dispose()


async def _start_snmp(app: Sanic[Any, Any]) -> None:
    """The trap receiver (it needs the sessions and the running loop), in the process holding the
    "snmp-receiver" lease (a `python -m promptlink snmp` process competes for it too)."""
    settings: Settings = app.ctx.settings
    app.ctx.trap_intake = None
    app.ctx.snmp_error = None
    if not settings.snmp_enabled:
        return
    from promptlink.transports.snmp.intake import TrapIntake

    async def start(_fence: Fence) -> None:
        try:
            app.ctx.trap_intake = TrapIntake.start(
                settings=settings, sessions=app.ctx.sessions, emitter=app.ctx.sio, clock=app.ctx.clock
            )
        except OSError as exc:
            # The rest of the backend still serves; /api/v1/health names the receiver as down.
            error = f"cannot listen on UDP {settings.snmp_host}:{settings.snmp_port}: {exc}"
            if error != app.ctx.snmp_error:
                log.error(
                    "snmp receiver not started",
                    extra={"address": f"{settings.snmp_host}:{settings.snmp_port}", "error": str(exc)},
                )
            app.ctx.snmp_error = error
            raise RuntimeError(error) from exc
        app.ctx.snmp_error = None

    async def stop() -> None:
        intake, app.ctx.trap_intake = app.ctx.trap_intake, None
        if intake is not None:
            await intake.close()

    _singleton(app, "snmp-receiver", start, stop)


async def _stop_snmp(app: Sanic[Any, Any]) -> None:
    await _stop_singleton(app, "snmp-receiver")


async def _start_smtp_intake(app: Sanic[Any, Any]) -> None:
    """The SMTP intake, in the process holding the "smtp-intake" lease."""
    settings: Settings = app.ctx.settings
    app.ctx.smtp_intake = None
    if not settings.smtp_intake_enabled:
        return

    async def start(_fence: Fence) -> None:
        app.ctx.smtp_intake = await SmtpIntake.start(sessions=app.ctx.sessions, clock=app.ctx.clock, settings=settings)

    async def stop() -> None:
        intake, app.ctx.smtp_intake = app.ctx.smtp_intake, None
        if intake is not None:
            await intake.close()

    _singleton(app, "smtp-intake", start, stop)


async def _stop_smtp_intake(app: Sanic[Any, Any]) -> None:
    await _stop_singleton(app, "smtp-intake")


def _serve_pages(app: Sanic[Any, Any]) -> None:
    """The widget's demo page, the console, the admin pages and their static assets."""

    async def index(_request: Request) -> HTTPResponse:
        return await file(PAGES / "index.html", mime_type="text/html; charset=utf-8")

    async def admin_page(_request: Request) -> HTTPResponse:
        return await file(ADMIN_DIR / "index.html", mime_type="text/html; charset=utf-8")

    async def console(_request: Request) -> HTTPResponse:
        return await file(CONSOLE_DIR / "index.html", mime_type="text/html; charset=utf-8")

    app.add_route(index, "/", methods=["GET"], name="index")
    app.add_route(admin_page, "/admin", methods=["GET"], name="admin_page")
    app.add_route(console, "/console", methods=["GET"], name="console")
    app.static("/webchat/vendor/socket.io.min.js", SOCKETIO_JS, name="socketio_js")
    app.static("/webchat", WEBCHAT_SRC, name="webchat")
    app.static("/console/assets", CONSOLE_DIR, name="console_assets")
    app.static("/admin/vendor/chart.umd.min.js", CHART_JS, name="chart_js")
    app.static("/admin/assets", ADMIN_DIR, name="admin_assets")


async def _security_headers(_request: Request, response: BaseHTTPResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")


async def _count_request(request: Request, response: BaseHTTPResponse) -> None:
    """promptlink_http_requests_total by the route's pattern (bounded: never the raw URL)."""
    route = request.route.path if request.route is not None else "unmatched"
    metrics.HTTP_REQUESTS.labels("/" + route.lstrip("/"), request.method, str(response.status)).inc()


async def _domain_error(_request: Request, exc: DomainError) -> HTTPResponse:
    # `detail` is for logs and developers (English); `message` may be shown to a person (Spanish).
    return json({**exc.fields(), "detail": exc.detail, "message": exc.public}, status=exc.status)
