"""The local API gateway: Chalice's local server, routes from template.yaml, Cognito-like auth."""

from __future__ import annotations

import base64
import json
import logging
import threading
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from chalice import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer, LocalGatewayException
from chalice.local import ThreadedHTTPServer as ChaliceThreadedServer

from infra.local.events import rest_event
from infra.local.tokens import InvalidToken, verify_token
from infra.local.workers import WorkerPool
from infra.template import Route

LOG = logging.getLogger("navigator.gateway")
# The handler's own time limit in the template is 10 s; a stuck worker must not hang a client.
INVOKE_TIMEOUT_SECONDS = 30


def _envelope(status: int, code: str, message: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if status == 503:
        headers["Retry-After"] = "1"
    return {
        "statusCode": status,
        "headers": headers,
        "multiValueHeaders": {},
        "body": json.dumps({"error": {"code": code, "message": message}}),
    }


class GatewayApp(Chalice):
    """Chalice holds the route table; each request becomes a REST v1 event for a worker."""

    def __init__(self, routes: list[Route], pool: WorkerPool) -> None:
        super().__init__("navigator-local")
        self._pool = pool
        self._routes = {(r.method, r.path): r for r in routes}
        by_path: dict[str, list[str]] = {}
        for route in routes:
            by_path.setdefault(route.path, []).append(route.method)
        for index, (path, methods) in enumerate(sorted(by_path.items())):
            self.route(path, methods=methods, name=f"route{index}")(_never_called)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        context_in = event["requestContext"]
        method, resource = context_in["httpMethod"], context_in["resourcePath"]
        route = self._routes.get((method, resource))
        if route is None:
            return _envelope(404, "not_found", "No such route.")
        headers = event.get("headers") or {}
        claims = None
        if route.authorized:
            try:
                claims = verify_token(headers.get("authorization"))
            except InvalidToken:
                return _envelope(401, "unauthorized", "A valid access token is required.")
        body = event.get("body")
        if event.get("isBase64Encoded") and isinstance(body, str):
            body = base64.b64decode(body)
        full = rest_event(
            method,
            resource,
            context_in["path"],
            headers=headers,
            query=event.get("multiValueQueryStringParameters") or None,
            path_parameters=event.get("pathParameters") or None,
            body=body,
            claims=claims,
        )
        try:
            result = self._pool.submit(route.handler, full).result(INVOKE_TIMEOUT_SECONDS)
        except BrokenProcessPool:
            LOG.exception("a worker died")
            return _envelope(503, "unavailable", "The service is temporarily unavailable.")
        return _as_chalice_response(result)


def _never_called() -> None:  # pragma: no cover - GatewayApp.__call__ dispatches instead
    raise AssertionError


def _as_chalice_response(result: dict[str, Any]) -> dict[str, Any]:
    multi = {k: list(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
    single = dict(result.get("headers") or {})
    # Chalice writes single headers, then lists; give it each name once.
    for name, values in list(multi.items()):
        if len(values) == 1:
            single[name] = values[0]
            del multi[name]
    return {
        "statusCode": result["statusCode"],
        "headers": single,
        "multiValueHeaders": multi,
        "body": result.get("body"),
        "isBase64Encoded": result.get("isBase64Encoded", False),
    }


class _RequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        # Chalice answers an unknown path as API Gateway does (403 "Missing Authentication
        # Token"); our template maps that gateway response to the envelope's 404.
        response = _envelope(404, "not_found", "No such route.")
        self._send_http_response(404, response["headers"], response["body"])

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        LOG.debug(format, *args)


class _Server(ChaliceThreadedServer):
    # The default backlog of 5 resets connections when a few dozen clients arrive at once.
    request_queue_size = 1024
    daemon_threads = True
    allow_reuse_address = True


class LocalGateway:
    def __init__(self, routes: list[Route], pool: WorkerPool, host: str, port: int) -> None:
        self.app = GatewayApp(routes, pool)
        config = Config.create(lambda_timeout=INVOKE_TIMEOUT_SECONDS)
        self.server = LocalDevServer(
            self.app, config, host, port, handler_cls=_RequestHandler, server_cls=_Server
        )
        self.host, self.port = self.server.server.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        self.server.server.serve_forever()

    def start(self) -> str:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server.server_close()
