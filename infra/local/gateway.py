"""The local API gateway: Chalice's local server, routes from template.yaml, Cognito-like auth.

Besides the API, the gateway serves a few local-only pages that are no part of the API and
never reach Chalice's route table: the portal (`/`, `/portal/...`), a sign-in stand-in for
Cognito's hosted page (`/portal/session`), Swagger UI (`/docs`) and `/openapi.json`.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import ipaddress
import json
import logging
import threading
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from chalice import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer, LocalGatewayException
from chalice.local import ThreadedHTTPServer as ChaliceThreadedServer

from infra.local.events import rest_event
from infra.local.tokens import InvalidToken, verify_token
from infra.local.workers import WorkerPool
from infra.openapi import DOCUMENT as OPENAPI_FILE  # where `make openapi` writes it
from infra.template import Route, binary_media_types

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
        # As API Gateway: a base64 body of these types reaches the client as bytes.
        self.api.binary_types = binary_media_types()
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
        return _as_chalice_response(result, self.api.binary_types)


def _never_called() -> None:  # pragma: no cover - GatewayApp.__call__ dispatches instead
    raise AssertionError


def _as_chalice_response(result: dict[str, Any], binary_types: list[str]) -> dict[str, Any]:
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
        # API Gateway decodes a base64 body only for a binary media type, else passes it on.
        "isBase64Encoded": bool(result.get("isBase64Encoded")) and _is_binary(single, binary_types),
    }


def _is_binary(headers: dict[str, Any], binary_types: list[str]) -> bool:
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    return content_type.split(";")[0].strip() in binary_types


# --- Local pages: the portal, the sign-in stand-in, Swagger UI and the OpenAPI document ---------

PORTAL_DIR = Path(__file__).resolve().parent / "portal"
SWAGGER_ASSETS_PREFIX = "/docs/assets/"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".json": "application/json",
}
# Exact paths to files of infra/local/portal; nothing else of that folder is served.
PORTAL_FILES = {
    "/": "index.html",
    "/portal/app.js": "app.js",
    "/portal/style.css": "style.css",
    "/docs": "docs.html",
    "/docs/": "docs.html",
    "/docs/init.js": "docs-init.js",
}
# The files of swagger-ui-py's static folder that /docs uses, by name; nothing else is served.
SWAGGER_ASSETS = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
        "index.css",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)
# The pages load nothing from another origin and run no inline script.
PORTAL_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI styles some elements inline; "Try it out" may call the servers the document names.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src *; base-uri 'none'; frame-ancestors 'none'"
)

Page = tuple[int, dict[str, str], bytes]


@functools.cache
def swagger_static_dir() -> Path | None:
    """swagger-ui-py's static folder, found without importing the package."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def local_page(method: str, raw_path: str, loopback: bool = True) -> Page | None:
    """The answer to a GET or HEAD of a local page, or None for the API's own routes.

    The demo sign-in hands out operator tokens to whoever asks: it is served only when the
    gateway listens on loopback, never to a network (`navigator serve --host 0.0.0.0`).
    """
    if method not in ("GET", "HEAD"):
        return None
    parts = urlsplit(raw_path)
    path = parts.path
    if path in PORTAL_FILES:
        csp = DOCS_CSP if path.startswith("/docs") else PORTAL_CSP
        return _file(PORTAL_DIR / PORTAL_FILES[path], csp)
    if path == "/portal/session":
        if not loopback:
            return _not_found("The demo sign-in is served on loopback only.")
        return _session(parse_qs(parts.query).get("role", [""])[0])
    if path == "/openapi.json":
        if not OPENAPI_FILE.is_file():
            return _not_found("The OpenAPI document has not been generated (docs/openapi.json).")
        return _file(OPENAPI_FILE)
    if path.startswith(SWAGGER_ASSETS_PREFIX):
        # A whitelist of plain names: "..", "/" and their encodings never match one.
        name = unquote(path[len(SWAGGER_ASSETS_PREFIX) :])
        static = swagger_static_dir()
        if name not in SWAGGER_ASSETS or static is None:
            return _not_found("No such file.")
        return _file(static / name)
    if path.startswith(("/portal/", "/docs/")):
        return _not_found("No such file.")
    return None


def _file(file: Path, csp: str | None = None) -> Page:
    try:
        body = file.read_bytes()
    except OSError:
        return _not_found("No such file.")
    headers = {
        "Content-Type": CONTENT_TYPES.get(file.suffix, "application/octet-stream"),
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if csp:
        headers["Content-Security-Policy"] = csp
    return 200, headers, body


def _not_found(message: str) -> Page:
    response = _envelope(404, "not_found", message)
    return 404, response["headers"], response["body"].encode()


def _session(role: str) -> Page:
    """A demo token for the portal: locally, this stands in for Cognito's sign-in page."""
    from infra.local.demo import (
        DEMO_OPERATOR_SUB,
        DEMO_PARENT_SUB,
        DEMO_PAYER_ID,
        DEMO_PAYER_SUB,
        DEMO_PROVIDER_SUB,
        demo_provider_id,
    )
    from infra.local.tokens import issue_token

    subs = {
        "parent": DEMO_PARENT_SUB,
        "provider": DEMO_PROVIDER_SUB,
        "payer": DEMO_PAYER_SUB,
        "operator": DEMO_OPERATOR_SUB,
    }
    if role not in subs:
        body = {
            "error": {
                "code": "validation_error",
                "message": "The request failed validation.",
                "details": {
                    "fields": [
                        {"field": "role", "problem": "must be parent, provider, payer or operator"}
                    ]
                },
            }
        }
        return 422, {"Content-Type": "application/json"}, json.dumps(body).encode()
    provider_id = demo_provider_id() if role == "provider" else None
    payer_id = DEMO_PAYER_ID if role == "payer" else None
    session = {
        "role": role,
        "sub": subs[role],
        "provider_id": provider_id,
        "payer_id": payer_id,
        "token": issue_token(role, subs[role], provider_id, payer_id=payer_id),
    }
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    return 200, headers, json.dumps(session).encode()


class _RequestHandler(ChaliceRequestHandler):
    def do_GET(self) -> None:
        host = str(self.server.server_address[0])
        page = local_page(self.command, self.path, ipaddress.ip_address(host).is_loopback)
        if page is None:
            self._generic_handle()
        else:
            self._send_page(*page)

    do_HEAD = do_GET

    def __getattr__(self, name: str) -> Any:
        # http.server answers a method it has no do_<METHOD> for (TRACE, CONNECT, ...) with an
        # HTML 501; API Gateway answers a method that no resource has as an unknown path.
        if name.startswith("do_"):
            return self._send_no_route
        raise AttributeError(name)

    def _send_no_route(self) -> None:
        self._send_page(*_not_found("No such route."))

    def _send_page(self, status: int, headers: dict[str, str], body: bytes) -> None:
        length = self.headers.get("content-length") or "0"
        if length.isdigit() and int(length) > 0:
            self.rfile.read(int(length))  # keep the connection usable for the next request
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

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
