"""Errors Sanic raises itself (no route, wrong method, body too large) and bugs: the API answers
{detail, message} like every other error; a page answers a short Spanish page the CSP allows."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import httpx
import pytest
from promptlink.transports.http.api import ErrorOut
from promptlink.transports.http.errors import unexpected_error


def _error(response: httpx.Response) -> ErrorOut:
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    return ErrorOut.model_validate(response.json())


def test_the_api_answers_its_own_shape_for_what_sanic_refuses(lone_backend) -> None:
    with httpx.Client(base_url=lone_backend.base_url, timeout=10) as api:
        missing = api.get("/api/v1/no-such-thing")
        assert missing.status_code == 404
        assert _error(missing) == ErrorOut(
            detail="Requested URL /api/v1/no-such-thing not found", message="La dirección solicitada no existe."
        )
        # Whatever the client accepts.
        assert _error(api.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})).message == (
            "La dirección solicitada no existe."
        )
        wrong = api.patch("/api/v1/auth/login", json={})
        assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
        assert _error(wrong).message == "Esta dirección no admite ese método."
        too_big = api.post(
            "/api/v1/auth/login", content=b"{" + b" " * 1_100_000 + b"}", headers={"Content-Type": "application/json"}
        )
        assert too_big.status_code == 413
        assert _error(too_big) == ErrorOut(
            detail="Request body exceeds the size limit", message="La solicitud es demasiado grande."
        )
        # The server goes on serving.
        assert api.get("/api/v1/health").status_code in (200, 503)


def test_a_page_that_does_not_exist_is_a_short_spanish_page_without_inline_code(lone_backend) -> None:
    page = httpx.get(lone_backend.base_url + "/consola/<script>alert(1)</script>", timeout=10)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    body = page.text
    assert '<html lang="es">' in body and "<h1>Página no encontrada</h1>" in body
    assert "La dirección solicitada no existe." in body and 'href="/"' in body
    # Nothing the policy blocks (Sanic's own page has inline script and style), and the path is not echoed.
    assert "<script" not in body and "<style" not in body and "style=" not in body and "alert" not in body
    assert len(body) < 2_000


async def test_a_bug_is_logged_whole_and_answered_without_its_details(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("secret table layout: users.password_hash")
    except RuntimeError as exc:
        bug = exc
    api_request = SimpleNamespace(path="/api/v1/tickets", method="POST")
    with caplog.at_level(logging.ERROR, logger="promptlink.transports.http.errors"):
        response = await unexpected_error(api_request, bug)  # type: ignore[arg-type]
    assert response.status == 500
    assert response.body is not None and b"secret" not in response.body
    assert ErrorOut.model_validate_json(response.body) == ErrorOut(
        detail="internal server error", message="Ocurrió un error interno; inténtelo de nuevo en unos minutos."
    )
    [record] = caplog.records
    assert record.exc_info is not None and record.exc_info[1] is bug and record.path == "/api/v1/tickets"  # type: ignore[attr-defined]
    page = await unexpected_error(SimpleNamespace(path="/console", method="GET"), bug)  # type: ignore[arg-type]
    assert page.status == 500 and page.body is not None and b"<h1>Error interno</h1>" in page.body
