"""What every table's model shares: lazy table names and endpoint, and store-error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from navigator.domain.errors import StoreUnavailable
from navigator.settings import get_settings

CONDITION_FAILED = "ConditionalCheckFailedException"


class TableMeta(type):
    """A PynamoDB Meta whose table name, endpoint and region come from the settings, lazily."""

    settings_field: str

    @property
    def table_name(cls) -> str:
        return str(getattr(get_settings(), cls.settings_field))

    @property
    def host(cls) -> str | None:
        return get_settings().dynamodb_endpoint

    @property
    def region(cls) -> str:
        return get_settings().region


_MODELS: list[type[Model]] = []


def register(model: type[Model]) -> type[Model]:
    _MODELS.append(model)
    return model


def reset_connections() -> None:
    """Drop cached connections (the endpoint or table names changed, as in tests)."""
    for model in _MODELS:
        model._connection = None


def cause_code(error: BaseException) -> str | None:
    """The DynamoDB error code behind a PynamoDB or botocore error."""
    if isinstance(error, PynamoDBException):
        return error.cause_response_code
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code"))
    return None


def is_condition_failure(error: BaseException) -> bool:
    return cause_code(error) == CONDITION_FAILED


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """Any store failure that is not a refusal of ours becomes StoreUnavailable (503)."""
    try:
        yield
    except (PynamoDBException, ClientError, BotoCoreError) as error:
        raise StoreUnavailable() from error


def as_dict(model: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in fields}
