"""The OpenAPI description's error answers: every operation lists the statuses it can
answer, each with the one error body (errors.py).

Most follow from the operation itself, so a new route cannot forget them: a JSON body can
be malformed (400), too large (413) or invalid (422); any parameter can be refused (422,
the text rule included); a key can be missing (401) or not allowed (403); a path names
something that may not exist (404); an admin write can conflict (409). The rest a route
declares with ``responses=errors(...)`` (the device API's own signatures, webhooks,
resend limits).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

DESCRIPTIONS = {
    400: "The body is not valid JSON (`malformed_json`)",
    401: "No valid key or signature (`unauthenticated`)",
    403: "Not allowed (`forbidden` and the codes of docs/error-codes.md)",
    404: "Not found (`not_found`, `tenant_not_found`, `user_not_found`, ...)",
    409: "Conflict (`conflict`, `user_exists`, ...)",
    413: "The body is too large (`body_too_large`)",
    422: "Invalid input (`invalid_request`, `invalid_setting`, ...)",
    429: "Too many texts or calls (`rate_limited`)",
}
_ADMIN_PREFIXES = ("/v1/tenants", "/v1/keys")
# Every answer carries the request's id (request_ids.py): the caller's, when it sent a
# usable one, else a new one. The same id is in the server's log lines and audit event.
REQUEST_ID_HEADER = {
    "description": (
        "The request's id: the caller's `X-Request-ID` when it is 1-128 printable ASCII "
        "characters, else one made by the server (32 hex digits). Logs and the audit "
        "event carry the same id."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
}
_REF = "#/components/schemas/Error"


class ErrorDetail(BaseModel):
    field: str  # "" when the problem is about no one field (a whole document)
    problem: str
    # A refused document's problems (migration_refused) also say which record, whose, and
    # a code of their own.
    where: str | None = None
    user: str | None = None
    code: str | None = None


class ErrorInfo(BaseModel):
    code: str
    message: str
    field: str | None = None  # the input the error is about
    details: list[ErrorDetail] | None = None  # request-schema errors: every problem


class Error(BaseModel):
    """Every error answer: ``{"error": {"code", "message", ...}}``."""

    error: ErrorInfo


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error answers a route declares beyond those derived for every operation."""
    return {status: {"model": Error, "description": DESCRIPTIONS[status]} for status in statuses}


def install(api: FastAPI) -> None:
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document_errors(generate())
        assert api.openapi_schema is not None
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def document_errors(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    described = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(described.pop("$defs", {}))
    components["Error"] = described
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_derived(path, method, operation)):
                if str(status) not in responses or _fastapi_422(responses[str(status)]):
                    responses[str(status)] = {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": _REF}}},
                    }
            for answer in responses.values():
                answer.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
    # FastAPI's own 422 body ({"detail": [...]}) is never answered.
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    _integral_bounds(schema)


def _integral_bounds(node: Any) -> None:
    """FastAPI's OpenAPI models hold bounds as floats: an integer's bounds are integers."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "integer":
                for key in ("minimum", "maximum"):
                    if isinstance(item.get(key), float) and item[key].is_integer():
                        item[key] = int(item[key])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _fastapi_422(answer: dict[str, Any]) -> bool:
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def _derived(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    if body is not None:
        statuses |= {400, 413, 422}
    if parameters:
        statuses.add(422)
    if operation.get("security"):
        statuses |= {401, 403}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if method != "get" and path.startswith(_ADMIN_PREFIXES):
        statuses.add(409)  # a concurrent write lost the race (or the resource exists)
    return statuses
