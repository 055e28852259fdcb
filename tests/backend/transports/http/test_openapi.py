"""The served OpenAPI document covers the REST API, and /docs renders it without a CDN."""

from __future__ import annotations

import httpx


def test_openapi_document_lists_the_rest_api_only(lone_backend) -> None:
    spec = httpx.get(lone_backend.base_url + "/docs/openapi.json", timeout=10).json()
    assert spec["info"]["title"] == "Promptlink Assist API"
    assert all(path.startswith("/api/") for path in spec["paths"]), list(spec["paths"])
    health = spec["paths"]["/api/v1/health"]["get"]
    assert set(health["responses"]) == {"200", "503"}


def test_docs_page_is_local_and_loads_its_own_script(lone_backend) -> None:
    page = httpx.get(lone_backend.base_url + "/docs", timeout=10)
    assert page.status_code == 200
    assert 'data-spec="/docs/openapi.json"' in page.text
    assert "cdn" not in page.text.lower()
    assert httpx.get(lone_backend.base_url + "/webchat/api-docs.js", timeout=10).status_code == 200
