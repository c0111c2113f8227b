"""The domain's refusals. They carry a stable code; HTTP is mapped in navigator.api.errors."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    message = "The request was refused."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        if code is not None:
            self.code = code
        self.details = details


class Unauthenticated(DomainError):
    code = "unauthorized"
    message = "A valid access token is required."


class Forbidden(DomainError):
    code = "forbidden"
    message = "You may not do this."


class NotFound(DomainError):
    code = "not_found"
    message = "No such object."


class Conflict(DomainError):
    code = "conflict"
    message = "The request conflicts with the current state."


class InvalidInput(DomainError):
    code = "validation_error"
    message = "The request failed validation."


class BadRequest(DomainError):
    code = "bad_request"
    message = "The request body is not valid JSON."


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    message = "The cursor was not issued by this API for this query."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    message = "The request body is larger than 64 KB."


class StoreUnavailable(DomainError):
    code = "unavailable"
    message = "The service is temporarily unavailable; please retry."
