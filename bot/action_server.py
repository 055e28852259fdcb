"""The action server (`rasa run actions`), behind a bearer token only Rasa has.

Rasa sends `Authorization: Bearer $PROMPTLINK_ACTIONS_TOKEN` on every action call
(`bot/endpoints.yml`); anything else gets 401 before an action runs. `/health` stays open (it
tells nothing), and `/metrics` (Prometheus, bot/metrics.py). For each call, the conversation
token the backend put in the message metadata is handed to the actions' backend client
(`actions.backend`), which sends it with every API call: the backend then acts only for that
conversation's contact (docs/security.md).

Run as `python -m bot.action_server --actions actions --port 5055` (the supervisor does);
the other options are `rasa run actions`'s.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import sys
import zlib
from typing import Any, List, Optional

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.backend import METADATA_TOKEN_KEY, set_conversation_token
from bot import metrics

log = logging.getLogger(__name__)

TOKEN_ENV = "PROMPTLINK_ACTIONS_TOKEN"
OPEN_PATHS = frozenset({"/health", "/metrics"})  # /metrics: Prometheus, on an internal address (bot/metrics.py)


def conversation_token_of(action_call: Any) -> Optional[str]:
    """The backend's conversation token in the action call's latest message metadata, if any."""
    if not isinstance(action_call, dict):
        return None
    tracker = action_call.get("tracker")
    latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
    metadata = latest.get("metadata") if isinstance(latest, dict) else None
    token = metadata.get(METADATA_TOKEN_KEY) if isinstance(metadata, dict) else None
    return token if isinstance(token, str) and token else None


def _action_call(request: Request) -> Any:
    """The JSON body as rasa_sdk reads it (deflate-compressed or not); None when it is not JSON."""
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            return json.loads(zlib.decompress(request.body))
        return request.json
    except Exception:  # noqa: BLE001 - any unreadable body: rasa_sdk's handler answers it
        return None


def protect(app: Sanic, token: str) -> Sanic:
    """Refuse every call without `Authorization: Bearer <token>` (but `/health`), and pass each
    action call's conversation token on to the actions' backend client."""
    expected = token.encode()

    @app.middleware("request")
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            log.warning("action server call refused: missing or wrong bearer token (%s)", request.path)
            return response.json({"error": "missing or wrong bearer token"}, status=401)
        # Set on every call (also to None): the context outlives a request on a kept-alive connection.
        set_conversation_token(conversation_token_of(_action_call(request)) if request.path == "/webhook" else None)
        return None

    return app


def build_app(actions: str, token: str, cors: Optional[List[str]] = None, *, process: str = "actions") -> Sanic:
    """rasa_sdk's app, its Prometheus metrics (`process` label; refused calls timed too), then the token."""
    if not token:
        raise ValueError(f"{TOKEN_ENV} is not set: the action server needs the token Rasa sends it")
    return protect(metrics.attach(create_app(actions, cors_origins=cors or ""), process), token)


def main(argv: Optional[List[str]] = None) -> None:
    args = create_argument_parser().parse_args(argv)
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    try:
        app = build_app(
            args.actions,
            os.environ.get(TOKEN_ENV, ""),
            args.cors,
            process=metrics.process_name("actions", host, int(args.port)),
        )
    except ValueError as exc:
        sys.exit(f"bot.action_server: {exc}")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    log.info("action server on %s://%s:%s (bearer token required)", "https" if ssl_context else "http", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
