"""Prometheus metrics of a Rasa server and of the action server (`GET /metrics`, bot environment).

Each process labels every sample `process="rasa@<host>:<port>"` or `"actions@<host>:<port>"`
(the backend's are `backend@...`, docs/operations.md), and exposes:

- `promptlink_bot_request_seconds{route,method,status}`: every HTTP request the Sanic app
  answered, by the route's pattern (`/webhooks/promptlink/webhook` is the backend's turn,
  `/model/parse`, `/webhook` on the action server, ...), never the raw URL;
- prometheus-client's process and platform collectors (CPU, RSS, open files, Python).

`/metrics` needs no token (Prometheus scrapes it as is): both servers bind 127.0.0.1 by default
and the exposition holds counts and timings only, no conversation content.

The Rasa server builds its Sanic app inside Rasa: `install_rasa(host, port)` wraps
`rasa.core.channels.channel.register` (called once, while the app is built, before it serves)
so the route and the timing middleware go on that app. The action server's app is ours
(`bot/action_server.py` calls `attach`).
"""

from __future__ import annotations

import socket
import time
from typing import Any, Iterator, List, Optional

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

disable_created_metrics()  # no `*_created` series
_metrics = CollectorRegistry()
for _default in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    _metrics.register(_default)

REQUEST_SECONDS = Histogram(
    "promptlink_bot_request_seconds",
    "HTTP requests this Rasa or action server answered, by route pattern, method and status.",
    ["route", "method", "status"],
    buckets=BUCKETS,
    registry=_metrics,
)


class _ProcessLabelled(Collector):
    """Every metric of `inner` with `process="<name>"` added to its samples."""

    def __init__(self, inner: CollectorRegistry) -> None:
        self.inner = inner
        self.name = f"python@{socket.gethostname()}"

    def collect(self) -> Iterator[Metric]:
        for family in self.inner.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [s._replace(labels={"process": self.name, **s.labels}) for s in family.samples]
            yield labelled


_labelled = _ProcessLabelled(_metrics)
REGISTRY = CollectorRegistry()
REGISTRY.register(_labelled)


def process_name(kind: str, host: str, port: int) -> str:
    shown = socket.gethostname() if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - a name, not a bind
    return f"{kind}@{shown}:{port}"


def render() -> bytes:
    return generate_latest(REGISTRY)


async def _serve(_request: Request) -> HTTPResponse:
    return response.raw(render(), content_type=CONTENT_TYPE)


def attach(app: Sanic, name: str) -> Sanic:
    """`GET /metrics` on `app`, every request timed; samples labelled `process=name`."""
    _labelled.name = name

    async def started(request: Request) -> None:
        request.ctx.metrics_started = time.perf_counter()

    async def answered(request: Request, reply: Any) -> None:
        began = getattr(request.ctx, "metrics_started", None)
        if began is None or reply is None:
            return
        route = request.route.path if request.route is not None else "unmatched"
        REQUEST_SECONDS.labels("/" + route.lstrip("/"), request.method, str(reply.status)).observe(
            time.perf_counter() - began
        )

    app.register_middleware(started, "request")
    app.register_middleware(answered, "response")
    app.add_route(_serve, "/metrics", methods=["GET"], name="promptlink_metrics")
    return app


def rasa_address(argv: List[str]) -> tuple:
    """The interface and port of `rasa run ...` arguments (Rasa's defaults when absent)."""
    host, port = "0.0.0.0", 5005  # noqa: S104 - Rasa's own default, named only
    for k in range(len(argv) - 1):
        flag, value = argv[k], argv[k + 1]
        if flag in ("-i", "--interface"):
            host = value
        elif flag in ("-p", "--port"):
            port = int(value)
    return host, port


_installed: Optional[str] = None


def install_rasa(name: str) -> None:
    """Attach the metrics to the Sanic app Rasa builds (when it registers its input channels)."""
    global _installed
    if _installed is not None:
        _installed = name
        return
    from rasa.core.channels import channel

    original = channel.register

    def register(input_channels: List[Any], app: Sanic, route: Optional[str]) -> None:
        original(input_channels, app, route)
        attach(app, _installed or name)

    channel.register = register
    _installed = name
