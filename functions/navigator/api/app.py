"""The REST resolver, set up once: roles per route, body limits, errors in the envelope."""

from __future__ import annotations

import base64
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel
from pynamodb.exceptions import PynamoDBException

from navigator.api import errors
from navigator.api.responses import route_responses
from navigator.domain.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    PayloadTooLarge,
    StoreUnavailable,
    Unauthenticated,
)
from navigator.identity import Caller, caller_from_event
from navigator.metrics import metrics

MAX_BODY_BYTES = 64 * 1024
PUBLIC: frozenset[str] = frozenset()
BEARER = "cognito"  # the document's security scheme: a Cognito access token as a bearer JWT
Roles = frozenset[str] | set[str]

logger = Logger()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Api:
    """One function's routes, each declared with the Cognito groups that may call it."""

    def __init__(self) -> None:
        self.app = APIGatewayRestResolver(
            enable_validation=True, serializer=errors.dumps, strip_prefixes=None
        )
        self.roles: dict[tuple[str, str], frozenset[str]] = {}
        self.bodies: set[tuple[str, str]] = set()  # routes that read a JSON body
        self.context: Any = None  # this invocation's Lambda context (one event at a time)
        self._register_error_handlers()

    def route(
        self,
        method: str,
        path: str,
        roles: Roles = PUBLIC,
        *,
        returns: Any,
        status: int = 200,
        refusals: Mapping[int, Sequence[str]] | None = None,
        summary: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a route; `roles` empty means public (any token is ignored).

        `returns` (the success model), `status` and `refusals` (status -> error codes) are
        what the generated OpenAPI document says this route answers; the refusals common to
        every route of its kind are added by `route_responses`.
        """
        resource = re.sub(r"<(\w+)>", r"{\1}", path)
        self.roles[(method.upper(), resource)] = frozenset(roles)

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            body, validated = _inputs(func)
            if body:
                self.bodies.add((method.upper(), resource))
            responses = route_responses(
                status,
                returns,
                refusals or {},
                protected=bool(roles),
                body=body,
                validated=validated,
            )
            description = None
            if roles:
                description = "Open to the Cognito groups: " + ", ".join(sorted(roles)) + "."
            return self.app.route(
                path,
                method.upper(),
                responses=responses,  # type: ignore[arg-type]
                security=[{BEARER: []}] if roles else None,
                summary=summary,
                description=description,
            )(func)

        return register

    def get(self, path: str, roles: Roles = PUBLIC, **kw: Any):
        return self.route("GET", path, roles, **kw)

    def post(self, path: str, roles: Roles = PUBLIC, **kw: Any):
        return self.route("POST", path, roles, **kw)

    def put(self, path: str, roles: Roles = PUBLIC, **kw: Any):
        return self.route("PUT", path, roles, **kw)

    def patch(self, path: str, roles: Roles = PUBLIC, **kw: Any):
        return self.route("PATCH", path, roles, **kw)

    def caller(self) -> Caller:
        """The authenticated caller of the current request (routes with roles only)."""
        caller = caller_from_event(self.app.current_event.raw_event)
        if caller is None:
            raise Unauthenticated()
        return caller

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Authentication, then the route's role, then the body's size, then the route itself."""
        self.context = context
        try:
            self._precheck(event)
        except DomainError as refusal:
            return errors.proxy_result(refusal)
        return self.app.resolve(_as_json(event), context)

    def lambda_handler(self) -> Handler:
        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
        @metrics.log_metrics(raise_on_empty_metrics=False)
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return self.handle(event, context)

        return handler

    def _precheck(self, event: dict[str, Any]) -> None:
        route = (str(event.get("httpMethod", "")).upper(), event.get("resource", ""))
        roles = self.roles.get(route)
        if roles:
            caller = caller_from_event(event)
            if caller is None:
                raise Unauthenticated()
            if not roles & caller.groups:
                raise Forbidden("This route is not open to your role.")
        if route not in self.bodies:
            return  # the route reads no body, so none can be refused
        body = _body_bytes(event)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRequest("The body is not UTF-8 text.") from error

    def _register_error_handlers(self) -> None:
        app = self.app

        @app.exception_handler(DomainError)
        def _domain(error: DomainError) -> Response:
            return errors.response_for(error)

        @app.exception_handler(RequestValidationError)
        def _invalid(error: RequestValidationError) -> Response:
            problems = list(error.errors())
            if errors.is_malformed_json(problems):
                return errors.error_response(400, "bad_request", "The body is not valid JSON.")
            return errors.error_response(
                422,
                "validation_error",
                "The request failed validation.",
                errors.validation_details(problems),
            )

        @app.exception_handler([ClientError, BotoCoreError, PynamoDBException])
        def _store(error: Exception) -> Response:
            logger.warning("store unavailable", extra={"error": type(error).__name__})
            return errors.response_for(StoreUnavailable())

        @app.not_found
        def _not_found(_: Exception) -> Response:
            return errors.error_response(404, "not_found", "No such route.")

        @app.exception_handler(Exception)
        def _bug(error: Exception) -> Response:
            logger.exception("unhandled error")
            return errors.error_response(500, "internal_error", "An internal error occurred.")


def _inputs(func: Callable[..., Any]) -> tuple[bool, bool]:
    """Whether a route takes a JSON body, and whether any of its inputs can fail validation."""
    hints = typing.get_type_hints(func, include_extras=True)
    hints.pop("return", None)
    body = any(isinstance(h, type) and issubclass(h, BaseModel) for h in hints.values())
    validated = body or any(h is not str for h in hints.values())
    return body, validated


def _as_json(event: dict[str, Any]) -> dict[str, Any]:
    """Bodies are JSON whatever Content-Type says (curl -d sends a form type)."""
    if not event.get("body"):
        return event
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    headers["content-type"] = "application/json"
    multi = {
        k: v
        for k, v in (event.get("multiValueHeaders") or {}).items()
        if k.lower() != "content-type"
    }
    # Powertools reads multiValueHeaders when present: a header given only singly stays seen.
    known = {k.lower() for k in multi}
    multi.update({k: [v] for k, v in headers.items() if k.lower() not in known})
    multi["content-type"] = ["application/json"]
    return {**event, "headers": headers, "multiValueHeaders": multi}


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if not body:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as error:
            raise BadRequest("The body is not valid base64.") from error
    if isinstance(body, str):  # a lone surrogate passes here, and fails the UTF-8 check
        return body.encode("utf-8", "surrogatepass")
    return bytes(body)
