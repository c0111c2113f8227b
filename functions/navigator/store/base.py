"""What every table's model shares: lazy table names and endpoint, and store-error translation."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from navigator.domain.errors import StoreUnavailable
from navigator.settings import get_settings

CONDITION_FAILED = "ConditionalCheckFailedException"
# The one attempt budget of every read-decide-commit loop, and its pause: jittered, doubling
# from 10 ms, so a crowd on the last seats spreads out (at most ~1.3 s of pauses in all).
ATTEMPTS = 8
BACKOFF_SECONDS = 0.01
T = TypeVar("T")

# At DEBUG, PynamoDB and botocore log whole requests: items with children's names. Whatever
# level the function runs at, those libraries say only warnings and errors.
for _library in ("pynamodb", "botocore", "boto3", "urllib3"):
    logging.getLogger(_library).setLevel(logging.WARNING)


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
    _connection.cache_clear()


@lru_cache(maxsize=4)
def _connection(region: str, host: str | None) -> Connection:
    return Connection(region=region, host=host)


def connection() -> Connection:
    """The process's DynamoDB connection, for transactions and batch reads across tables."""
    settings = get_settings()
    return _connection(settings.region, settings.dynamodb_endpoint)


def table(model: type[Model]) -> TableConnection:
    """A model's table connection, for raw queries (the only use of PynamoDB's private getter:
    it carries the model's key schema, so no DescribeTable is sent)."""
    return model._get_connection()


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


class Contended(StoreUnavailable):
    """The attempt budget ran out while others kept changing the same items (503, retry)."""


def backoff(attempt: int) -> None:
    """No pause before the first attempt; then a jittered, doubling one."""
    if attempt:
        time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))


def retrying(
    attempt: Callable[[], T],
    *,
    retry: Callable[[Cancelled], bool] = lambda cancelled: True,
    what: str = "The data",
) -> T:
    """Run `attempt` (read, decide, commit) until it returns; a Cancelled that `retry` accepts
    starts it again after a pause, any other propagates; Contended when the budget is spent."""
    for number in range(ATTEMPTS):
        backoff(number)
        try:
            return attempt()
        except Cancelled as cancelled:
            if not retry(cancelled):
                raise
    raise Contended(f"{what} kept changing; please retry.")


def only_conflicts(cancelled: Cancelled) -> bool:
    """Retry a transaction another one held; a refusal of a condition is an answer."""
    return not cancelled.failed


class Cancelled(Exception):
    """A transaction refused by its conditions; `failed` names the operations that refused."""

    def __init__(self, failed: set[str], conflicted: bool) -> None:
        super().__init__(", ".join(sorted(failed)) or "transaction conflict")
        self.failed = failed
        # Another transaction held an item: nothing refused, so the caller may simply retry.
        self.conflicted = conflicted


class Transaction:
    """One TransactWriteItems whose operations carry labels, so refusals can be told apart.

    PynamoDB sends condition checks, then deletes, then puts, then updates, and DynamoDB
    answers its cancellation reasons in that order; the labels follow the same order.
    """

    _ORDER = ("check", "delete", "put", "update")

    def __init__(self) -> None:
        self._ops: list[tuple[str, str, Any]] = []

    def check(self, label: str, model_cls: type[Model], key: tuple[str, str], condition: Any):
        self._ops.append(("check", label, (model_cls, key, condition)))

    def put(self, label: str, item: Model, condition: Any = None) -> None:
        self._ops.append(("put", label, (item, condition)))

    def update(self, label: str, item: Model, actions: list[Any], condition: Any = None):
        self._ops.append(("update", label, (item, actions, condition)))

    def delete(self, label: str, item: Model, condition: Any = None) -> None:
        self._ops.append(("delete", label, (item, condition)))

    def __len__(self) -> int:
        return len(self._ops)

    def commit(self, token: str | None = None) -> None:
        """Commit, or raise Cancelled; any other store failure is StoreUnavailable. `token`
        (ClientRequestToken) makes a retry of a commit whose answer was lost succeed instead of
        meeting its own writes' conditions."""
        with unavailable_on_failure():
            self._commit(token)

    def _commit(self, token: str | None) -> None:
        from pynamodb.exceptions import TransactWriteError
        from pynamodb.transactions import TransactWrite

        try:
            with TransactWrite(connection=connection(), client_request_token=token) as tx:
                for kind, _, args in self._ops:
                    if kind == "check":
                        model_cls, key, condition = args
                        tx.condition_check(model_cls, key[0], key[1], condition=condition)
                    elif kind == "put":
                        tx.save(args[0], condition=args[1])
                    elif kind == "update":
                        tx.update(args[0], actions=args[1], condition=args[2])
                    else:
                        tx.delete(args[0], condition=args[1])
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if not reasons:
                raise
            labels = [label for kind in self._ORDER for k, label, _ in self._ops if k == kind]
            failed = {
                label
                for label, reason in zip(labels, reasons, strict=False)
                if reason is not None and reason.code == "ConditionalCheckFailed"
            }
            conflicted = any(
                reason is not None and reason.code == "TransactionConflict" for reason in reasons
            )
            if not failed and not conflicted:
                raise
            raise Cancelled(failed, conflicted) from error


BATCH_GET_KEYS = 100  # BatchGetItem's limit


def read_together(wanted: list[tuple[type[Model], str, str]]) -> list[Any]:
    """Several items from any tables, read consistently (one BatchGetItem per 100 keys);
    None where absent."""
    keys: list[tuple[str, str, str]] = []
    for model, hash_key, range_key in wanted:
        key = (model.Meta.table_name, hash_key, range_key)
        if key not in keys:
            keys.append(key)
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    with unavailable_on_failure():
        for start in range(0, len(keys), BATCH_GET_KEYS):
            request: dict[str, dict[str, Any]] = {}
            for table_name, hash_key, range_key in keys[start : start + BATCH_GET_KEYS]:
                request.setdefault(table_name, {"Keys": [], "ConsistentRead": True})["Keys"].append(
                    {"pk": {"S": hash_key}, "sk": {"S": range_key}}
                )
            attempt = 0
            while request:
                backoff(attempt)  # unprocessed keys: DynamoDB asks for a pause before asking again
                attempt = min(attempt + 1, ATTEMPTS - 1)
                client: Any = connection().client
                response = client.batch_get_item(RequestItems=request)
                for table_name, items in response.get("Responses", {}).items():
                    for raw in items:
                        found[(table_name, raw["pk"]["S"], raw["sk"]["S"])] = raw
                request = response.get("UnprocessedKeys") or {}
    out: list[Any] = []
    for model, hash_key, range_key in wanted:
        raw = found.get((model.Meta.table_name, hash_key, range_key))
        out.append(model.from_raw_data(raw) if raw is not None else None)
    return out


def listed_ids(
    listing: type[Model],
    partition: str,
    prefix: str,
    limit: int | None = None,
    after: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str] | None]:
    """The ids that a list's items (pk = the owner, sk = the list's order, `listed_id`) hold
    under `prefix`, in order, read consistently: every answered write is in them. With
    `limit`, one page after the key `after`, and the key to go on from (None at the end)."""
    kwargs: dict[str, Any] = {"consistent_read": True}
    if limit is not None:
        kwargs["limit"] = limit
    if after:
        kwargs["last_evaluated_key"] = {k: {"S": v} for k, v in after.items()}
    sort_key: Any = listing.sk  # type: ignore[attr-defined]
    with unavailable_on_failure():
        result = listing.query(partition, sort_key.startswith(prefix), **kwargs)
        ids = [str(item.listed_id) for item in result]  # type: ignore[attr-defined]
    last = result.last_evaluated_key if limit is not None else None
    return ids, ({k: v["S"] for k, v in last.items()} if last else None)


def read_snapshot(wanted: list[tuple[type[Model], str, str]]) -> list[Any]:
    """Several items as they all stood at one moment (TransactGetItems, at most 100); None
    where absent. Cancelled (a conflict) when a transaction was writing one of them."""
    items = [
        {
            "Get": {
                "TableName": model.Meta.table_name,
                "Key": {"pk": {"S": hash_key}, "sk": {"S": range_key}},
            }
        }
        for model, hash_key, range_key in wanted
    ]
    client: Any = connection().client
    try:
        response = client.transact_get_items(TransactItems=items)
    except ClientError as error:
        if cause_code(error) == "TransactionCanceledException":
            raise Cancelled(set(), conflicted=True) from error
        raise StoreUnavailable() from error
    except BotoCoreError as error:
        raise StoreUnavailable() from error
    return [
        model.from_raw_data(answer["Item"]) if answer.get("Item") else None
        for (model, _, _), answer in zip(wanted, response["Responses"], strict=True)
    ]
