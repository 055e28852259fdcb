"""The errors Sanic raises itself, and unexpected failures, in the project's own shapes.

Sanic answers a request no route takes (404), a method the route lacks (405), a body over the size
limit (413) or a malformed request (400) by itself: in plain text, in JSON as
`{description, status, message}` with an English `message`, or as an HTML page of 70 KB with inline
script and style, which the pages' Content Security Policy blocks and the browser reports as errors.
Here the API (`/api/…`) answers every such error as it answers a `DomainError`, `{detail, message}`
(English, Spanish), and anything else gets a short Spanish page the policy allows. An unexpected
exception is logged with its traceback and answered the same way as a 500, with no internals.
"""

from __future__ import annotations

import logging
from html import escape

from sanic import Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, html, json

log = logging.getLogger(__name__)

SPANISH = {
    400: "La solicitud no es válida.",
    401: "Debe iniciar sesión.",
    403: "No tiene permiso para esta acción.",
    404: "La dirección solicitada no existe.",
    405: "Esta dirección no admite ese método.",
    408: "La solicitud tardó demasiado; inténtelo de nuevo.",
    413: "La solicitud es demasiado grande.",
    414: "La dirección es demasiado larga.",
    416: "El rango solicitado no es válido.",
    429: "Demasiadas solicitudes; espere un momento e inténtelo de nuevo.",
    500: "Ocurrió un error interno; inténtelo de nuevo en unos minutos.",
    503: "El servicio no está disponible por ahora; inténtelo de nuevo en unos minutos.",
}
OTHERWISE = "No se pudo atender la solicitud."

PAGE = """<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title} — Promptlink Assist</title>
</head>
<body>
<main>
<h1>{title}</h1>
<p>{message}</p>
<p><a href="/">Ir al inicio</a> · <a href="/console">Consola de agentes</a></p>
</main>
</body>
</html>
"""

TITLES = {404: "Página no encontrada", 500: "Error interno"}


def _answer(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> HTTPResponse:
    message = SPANISH.get(status, OTHERWISE)
    if request.path.startswith("/api/"):
        return json({"detail": detail, "message": message}, status=status, headers=headers)
    title = TITLES.get(status, f"Error {status}")
    page = PAGE.format(title=escape(title), message=escape(message))
    return html(page if request.method != "HEAD" else "", status=status, headers=headers)


async def sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
    """404, 405, 413, 400… raised by Sanic itself (or by a route, as `NotFound`)."""
    status = int(exc.status_code)
    if status >= 500:
        log.error("request failed", extra={"path": request.path, "status": status, "error": str(exc)})
    # Sanic's own texts are English and name no internals («Requested URL /x not found»).
    detail = str(exc) or "request failed"
    headers = {str(k): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}  # Allow on a 405
    return _answer(request, status, detail[:300], headers or None)


async def unexpected_error(request: Request, exc: Exception) -> HTTPResponse:
    """A bug: logged whole, answered 500 without its details."""
    log.error("unhandled error", exc_info=exc, extra={"path": request.path, "method": request.method})
    return _answer(request, 500, "internal server error")
