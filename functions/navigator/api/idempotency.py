"""Idempotency-Key for POST routes, on Powertools Idempotency (API.md's exact rules).

The record is keyed on the caller's `sub` and the header's value and kept 24 hours. The
first completed answer (a 201 or a 409 refusal) is stored and replayed to a retry with the
same JSON body; another body is `409 idempotency_key_reused`; a retry while the first is in
flight is `409 request_in_progress`. Other answers raise, so Powertools keeps nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from navigator.api.errors import envelope
from navigator.domain.errors import Conflict, InvalidInput, StoreUnavailable
from navigator.settings import get_settings

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEEP_SECONDS = 24 * 3600

Answer = tuple[dict[str, Any], int]


@cache
def _runner() -> Any:
    import boto3
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    settings = get_settings()
    client = boto3.client(
        "dynamodb", endpoint_url=settings.dynamodb_endpoint, region_name=settings.region
    )
    store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=client)
    config = IdempotencyConfig(
        event_key_jmespath="[sub, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=KEEP_SECONDS,
        raise_on_no_idempotency_key=True,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=config)
    def run(request: dict[str, Any], work: Callable[[], Answer]) -> dict[str, Any]:
        try:
            body, status = work()
        except Conflict as refusal:
            body, status = envelope(refusal.code, refusal.message, refusal.details), 409
        return {"status": status, "body": body}

    return run, config


def run_once(
    key: str | None, sub: str, body: dict[str, Any], context: Any, work: Callable[[], Answer]
) -> Answer:
    """`work()` once per (caller, key, body); without a key, just `work()`."""
    if key is None:
        return work()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            details={"fields": [{"field": HEADER, "problem": "must be 1 to 255 characters"}]}
        )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    run, config = _runner()
    if context is not None:
        config.register_lambda_context(context)
    try:
        answer = run(request={"sub": sub, "key": key, "body": body}, work=work)
    except IdempotencyValidationError as error:
        raise Conflict(
            "This Idempotency-Key was used with another body.", code="idempotency_key_reused"
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise Conflict(
            "The first request with this Idempotency-Key is still in progress.",
            code="request_in_progress",
        ) from error
    except IdempotencyPersistenceLayerError as error:
        raise StoreUnavailable() from error
    return answer["body"], int(answer["status"])


def reset() -> None:
    """Forget the persistence layer (tests change endpoints)."""
    _runner.cache_clear()
