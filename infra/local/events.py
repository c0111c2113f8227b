"""Real-shaped API Gateway REST (v1) proxy events, for the local gateway and the tests."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qs


def rest_event(
    method: str,
    resource: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    path_parameters: dict[str, str] | None = None,
    body: bytes | str | None = None,
    claims: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    headers = dict(headers or {})
    is_base64 = False
    text: str | None
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
    else:
        text = body
    request_id = str(uuid.uuid4())
    context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "stage": "local",
        "requestId": request_id,
        "extendedRequestId": request_id,
        "httpMethod": method,
        "path": path,
        "resourcePath": resource,
        "resourceId": "local",
        "protocol": "HTTP/1.1",
        "requestTimeEpoch": int(time.time() * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("user-agent", "")},
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": is_base64,
    }


def query_from_url(url: str) -> dict[str, list[str]]:
    return parse_qs(url.split("?", 1)[1], keep_blank_values=True) if "?" in url else {}
