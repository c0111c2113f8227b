"""The one place where refusals become HTTP: the error envelope and its status table."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from navigator.domain.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    InvalidCursor,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    StoreUnavailable,
    Unauthenticated,
)

HTTP_STATUS: dict[type[DomainError], int] = {
    BadRequest: 400,
    InvalidCursor: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    InvalidInput: 422,
    StoreUnavailable: 503,
}

RETRY_AFTER_SECONDS = "1"
JSON = "application/json"


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    return Response(
        status_code=status,
        content_type=JSON,
        body=dumps(envelope(code, message, details)),
        headers=headers,
    )


def response_for(error: DomainError) -> Response:
    return error_response(HTTP_STATUS[type(error)], error.code, error.message, error.details)


def validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Pydantic's errors as {"fields": [{"field", "problem"}]}, without echoing the input."""
    fields = []
    for err in errors:
        loc = [
            str(part)
            for part in err.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        fields.append({"field": ".".join(loc) or "body", "problem": _problem(err)})
    return {"fields": fields}


def _problem(err: dict[str, Any]) -> str:
    message = str(err.get("msg", "is invalid"))
    # Our own validators raise ValueError("..."); pydantic prefixes it.
    return message.removeprefix("Value error, ")


def is_malformed_json(errors: list[dict[str, Any]]) -> bool:
    return any(err.get("type") == "json_invalid" for err in errors)


def proxy_result(error: DomainError) -> dict[str, Any]:
    """A REST proxy result for a refusal made before the resolver runs."""
    status = HTTP_STATUS[type(error)]
    headers: dict[str, list[str]] = {"Content-Type": [JSON]}
    if status == 503:
        headers["Retry-After"] = [RETRY_AFTER_SECONDS]
    return {
        "statusCode": status,
        "multiValueHeaders": headers,
        "body": dumps(envelope(error.code, error.message, error.details)),
        "isBase64Encoded": False,
    }
