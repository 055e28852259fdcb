"""The typed boundary of the REST API: request and response models, one decorator per operation.

Every operation is declared with `@endpoint(...)`:

    @bp.patch("/<number:str>")
    @endpoint(
        summary="Move an RMA on",
        body=RmaUpdate,                                   # request model (pydantic v2)
        responses={200: RmaUpdated, 404: None, 422: None},  # status -> response model
        query=RmaListQuery,                               # optional: the query string's model
    )
    async def patch(request: Request, number: str) -> HTTPResponse:
        data = parse_body(request, RmaUpdate)             # validated, or a clear 422
        ...
        return reply(views.rma_updated(row, event))       # a view builds the JSON

What it gives:
- **OpenAPI**: the request body's schema, one response per status code with its schema (the
  `ErrorOut` shape for 4xx/5xx given as `None`) and the query parameters, generated from the
  models; `/docs/openapi.json` is built from them.
- **Validation**: `parse_body` / `parse_query` validate with the model. A refused input is a 422
  `InvalidInput` with an English `detail` naming the field and a Spanish `message`, the same
  error shape as every other domain error; nothing is stored.

Response models document what the views build; the views return plain dicts (no second
validation per request), and `tests/backend/transports/http/test_openapi.py` checks real
responses against the documented schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sanic import Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sanic_ext.extensions.openapi.definitions import Component, Parameter, RequestBody, Response
from sanic_ext.extensions.openapi.types import Schema

from promptlink.services.errors import InvalidInput
from promptlink.transports.http.common import body as json_object

M = TypeVar("M", bound=BaseModel)
H = TypeVar("H", bound=Callable[..., Any])


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are ignored (clients may send more), strings are
    taken as given (the services trim and check their own rules)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class QueryModel(BaseModel):
    """Base of query-string models: every value arrives as text and is converted by the model."""

    model_config = ConfigDict(extra="ignore")


class ResponseModel(BaseModel):
    """Base of response documents (what a view builds)."""

    model_config = ConfigDict(extra="allow")


class ErrorOut(ResponseModel):
    """Every error: `detail` for logs and developers (English), `message` for people (Spanish)."""

    detail: str = Field(description="What went wrong, in English")
    message: str = Field(description="The same in Spanish, fit to show to a customer or agent")


class Ok(ResponseModel):
    ok: bool = True


_ERROR_TEXT = {
    400: "Bad request",
    401: "Not signed in (missing, expired or revoked token)",
    403: "The caller's role may not do this",
    404: "Not found (or not the caller's)",
    409: "Conflicts with the current state",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
    503: "A dependency is down",
}

_SPANISH_REASON = {
    "missing": "es obligatorio",
    "string_too_long": "es demasiado largo",
    "string_too_short": "es demasiado corto",
    "too_long": "tiene demasiados elementos",
    "too_short": "tiene muy pocos elementos",
    "literal_error": "no tiene un valor permitido",
    "enum": "no tiene un valor permitido",
    "int_parsing": "debe ser un número entero",
    "int_type": "debe ser un número entero",
    "bool_parsing": "debe ser verdadero o falso",
    "bool_type": "debe ser verdadero o falso",
    "greater_than_equal": "está fuera de rango",
    "less_than_equal": "está fuera de rango",
    "greater_than": "está fuera de rango",
    "less_than": "está fuera de rango",
    "string_type": "debe ser un texto",
    "list_type": "debe ser una lista",
    "dict_type": "debe ser un objeto",
    "datetime_parsing": "debe ser una fecha y hora ISO 8601",
    "datetime_from_date_parsing": "debe ser una fecha y hora ISO 8601",
}


def invalid(exc: ValidationError, *, where: str = "body") -> InvalidInput:
    """A pydantic error as the API's 422: English detail per field, one Spanish sentence."""
    errors = exc.errors(include_url=False)
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err["loc"]) or where
        parts.append(f"{loc}: {err['msg']}")
    first = errors[0] if errors else {"loc": (), "type": ""}
    name = ".".join(str(p) for p in first["loc"]) or where
    reason = _SPANISH_REASON.get(str(first["type"]), "no es válido")
    return InvalidInput(f"{where} invalid: " + "; ".join(parts), public=f"El campo «{name}» {reason}.")


def parse_body(request: Request, model: type[M]) -> M:
    """The JSON body as `model`, or a 422 (not JSON, not an object, bad text, or the model refuses)."""
    data = json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from None


def parse_query(request: Request, model: type[M]) -> M:
    """The query string as `model` (a repeated key becomes a list only where the model says so)."""
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        annotation = model.model_fields.get(key)
        wants_list = annotation is not None and "list" in str(annotation.annotation)
        data[key] = values if wants_list else values[-1]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, where="query") from None


def reply(data: Any, *, status: int = 200) -> HTTPResponse:
    """A view's document as the JSON response (models are dumped in JSON mode)."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return json(data, status=status)


def _query_parameters(model: type[BaseModel]) -> list[Parameter]:
    properties = model.model_json_schema()["properties"]
    params = []
    for name, field in model.model_fields.items():
        raw = properties.get(name, {"type": "string"})
        schema = {k: v for k, v in raw.items() if k not in {"title", "description"}}
        params.append(
            Parameter(
                name,
                Schema(**schema),  # type: ignore[no-untyped-call]  # sanic-ext's Schema is untyped
                "query",
                required=field.is_required(),
                description=field.description or "",
            )
        )
    return params


def endpoint(
    *,
    summary: str,
    description: str | None = None,
    body: type[BaseModel] | None = None,
    responses: dict[int, type[BaseModel] | None],
    query: type[BaseModel] | None = None,
    tag: str | None = None,
    form: type[BaseModel] | None = None,
) -> Callable[[H], H]:
    """Declare an operation: its request body, query and responses go into the OpenAPI document.
    A status mapped to `None` is documented with the common `ErrorOut` shape; `form` documents a
    `multipart/form-data` body (a file upload) instead of a JSON one."""
    documented = []
    for status, model in sorted(responses.items()):
        text = _ERROR_TEXT.get(status, "OK" if status < 300 else "Error")
        content = {"application/json": Component(model if model is not None else ErrorOut)}
        documented.append(Response(content, status=status, description=text))
    kwargs: dict[str, Any] = {"summary": summary, "response": documented}
    if description:
        kwargs["description"] = description
    if body is not None:
        kwargs["body"] = RequestBody({"application/json": Component(body)}, required=True)
    if form is not None:
        kwargs["body"] = RequestBody({"multipart/form-data": Component(form)}, required=True)
    if query is not None:
        kwargs["parameter"] = _query_parameters(query)
    if tag:
        kwargs["tag"] = tag
    return openapi.definition(**kwargs)
