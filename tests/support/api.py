"""Callers and requests: real-shaped API Gateway REST events through the template's routes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.local.events import rest_event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        return (
            (self.body or {}).get("error", {}).get("code") if isinstance(self.body, dict) else None
        )


PARENT = {"sub": "parent-1", "cognito:groups": "parents"}
OTHER_PARENT = {"sub": "parent-2", "cognito:groups": "parents"}
OPERATOR = {"sub": "operator-1", "cognito:groups": "operators"}


def provider(provider_id: str, sub: str | None = None) -> dict[str, str]:
    return {
        "sub": sub or f"clerk-{provider_id}",
        "cognito:groups": "providers",
        "custom:provider_id": provider_id,
    }


def call(
    handler: Any,
    method: str,
    resource: str,
    path: str | None = None,
    *,
    body: Any = None,
    raw_body: str | None = None,
    claims: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Invoke a handler as API Gateway would, with a REST v1 proxy event."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    event = rest_event(
        method,
        resource,
        path or resource,
        headers={"content-type": "application/json", **(headers or {})},
        query={k: [v] for k, v in (query or {}).items()} or None,
        path_parameters=path_parameters,
        body=text,
        claims=claims,
    )
    return invoke(handler, event)


def invoke(handler: Any, event: dict[str, Any]) -> Reply:
    """Invoke a handler with a proxy event as it is (tests that shape the event themselves)."""
    from infra.local.workers import LocalLambdaContext

    result = handler(event, LocalLambdaContext(function_name="test", aws_request_id="req-1"))
    headers = {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()}
    headers.update(result.get("headers") or {})
    payload = json.loads(result["body"]) if result.get("body") else None
    return Reply(result["statusCode"], headers, payload)


def _match(method: str, path: str) -> tuple[Any, str, dict[str, str]]:
    """The template's route for a concrete path: its handler, resource and path parameters."""
    import importlib

    from infra.template import api_routes

    parts = path.strip("/").split("/")
    for route in api_routes():
        pattern = route.path.strip("/").split("/")
        if route.method != method or len(pattern) != len(parts):
            continue
        params: dict[str, str] = {}
        for want, got in zip(pattern, parts, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            module, attr = route.handler.rsplit(".", 1)
            return getattr(importlib.import_module(module), attr), route.path, params
    raise LookupError(f"no route {method} {path} in template.yaml")


def request(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    claims: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Call the handler that template.yaml routes `method path` to, in-process."""
    handler, resource, params = _match(method, path)
    return call(
        handler,
        method,
        resource,
        path,
        body=body,
        raw_body=raw_body,
        claims=claims,
        query=query,
        path_parameters=params or None,
        headers=headers,
    )


def program_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /programs body."""
    body = {
        "title": "Шахматы для начинающих",
        "description": "Учимся играть в шахматы.",
        "direction": "technical",
        "municipality": "Красноярск",
        "address": "ул. Мира, 1",
        "age_min": 7,
        "age_max": 12,
        "price_per_month_kopecks": 200000,
        "start_month": "2026-09",
        "end_month": "2027-05",
        "capacity": 10,
        "funding": "certificate",
    }
    body.update(overrides)
    return body
