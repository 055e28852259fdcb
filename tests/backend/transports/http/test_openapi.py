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


def test_every_operation_documents_its_body_and_responses_with_schemas(lone_backend) -> None:
    """The typed boundary (transports/http/api.py): each operation names its request body's
    schema (where it takes one) and a schema for every response it documents."""
    spec = httpx.get(lone_backend.base_url + "/docs/openapi.json", timeout=10).json()
    schemas = spec["components"]["schemas"]
    missing = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            responses = op.get("responses", {})
            if not responses or "default" in responses:
                missing.append(f"{where}: responses not declared")
            for status, response in responses.items():
                # JSON, or the one media type of a text answer (a CSV export, Prometheus metrics)
                content = response.get("content", {})
                media = content.get("application/json") or next(iter(content.values()), {})
                ref = media.get("schema", {}).get("$ref", "")
                if ref.rsplit("/", 1)[-1] not in schemas:
                    missing.append(f"{where} {status}: no schema")
            if method in {"post", "put", "patch"} and "requestBody" in op:
                # JSON, or the one media type of an upload (multipart/form-data)
                content = op["requestBody"]["content"]
                media = content.get("application/json") or next(iter(content.values()), {})
                ref = media.get("schema", {}).get("$ref", "")
                if ref.rsplit("/", 1)[-1] not in schemas:
                    missing.append(f"{where}: request body without schema")
    assert not missing, "\n".join(missing)
    assert "ErrorOut" in schemas and set(schemas["ErrorOut"]["required"]) == {"detail", "message"}


def test_a_body_the_model_refuses_is_a_422_naming_the_field(lone_backend, auth_headers) -> None:
    from testkit.api_roles import call

    too_long = call(lone_backend, auth_headers, "l3", "PATCH", "/rmas/RMA-NOPE", json={"status": "x" * 33})
    assert too_long.status_code == 422
    assert too_long.json()["detail"].startswith("body invalid: status:")
    assert too_long.json()["message"] == "El campo «status» es demasiado largo."
    bad_query = call(lone_backend, auth_headers, "l3", "GET", "/rmas?limit=0")
    assert bad_query.status_code == 422 and "limit" in bad_query.json()["detail"]
