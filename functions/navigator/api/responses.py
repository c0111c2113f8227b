"""What a route answers, declared once per route for the generated OpenAPI document.

Each route names its success model and its refusals (status -> error codes); the statuses
that every route of a kind can answer are added here, so that the document lists exactly
what API.md's conventions promise: 401 and 403 for routes with a role, 400/413/422 for
bodies, 422 for validated parameters, 429 from API Gateway and 503 from a failing store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

JSON = "application/json"

DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Malformed JSON, or a cursor this API did not issue for this query",
    401: "No valid token",
    403: "The wrong role for the route, or another party's object",
    404: "No such object, or one the caller may not know of",
    409: "A conflict with the current state",
    413: "A body over 64 KB",
    422: "The request failed validation; the failing fields are in details.fields",
    429: "Throttled by API Gateway",
    503: "The store failed or throttled; retry after Retry-After seconds. Nothing was written",
}

RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}
}


def error_schema(codes: Sequence[str]) -> dict[str, Any]:
    """The error envelope with the codes this route can answer under one status."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": sorted(set(codes))},
                    "message": {"type": "string", "description": "For a person to read"},
                    "details": {"type": "object"},
                },
            }
        },
    }


def route_responses(
    status: int,
    model: Any,
    refusals: Mapping[int, Sequence[str]],
    *,
    protected: bool,
    body: bool,
    validated: bool,
) -> dict[int, dict[str, Any]]:
    """Powertools' `responses` for one route: the success model and every refusal."""
    codes: dict[int, list[str]] = {429: ["throttled"], 503: ["unavailable"]}
    if protected:
        codes[401] = ["unauthorized"]
        codes[403] = ["forbidden"]
    if body:
        codes[400] = ["bad_request"]
        codes[413] = ["payload_too_large"]
    if body or validated:
        codes[422] = ["validation_error"]
    for refusal_status, names in refusals.items():
        codes.setdefault(refusal_status, []).extend(names)
    # A dict of media types documents a file (a register), not a JSON model.
    content = model if isinstance(model, dict) else {JSON: {"model": model}}
    out: dict[int, dict[str, Any]] = {
        status: {"description": DESCRIPTIONS[status], "content": content}
    }
    for refusal_status in sorted(codes):
        response: dict[str, Any] = {
            "description": DESCRIPTIONS[refusal_status],
            "content": {JSON: {"schema": error_schema(codes[refusal_status])}},
        }
        if refusal_status in (429, 503):
            response["headers"] = RETRY_AFTER
        out[refusal_status] = response
    return out
