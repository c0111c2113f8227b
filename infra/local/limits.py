"""DynamoDB's request and item limits, enforced as AWS enforces them, with its error texts.

moto 5.2.5 already enforces, with AWS's texts: key attribute sizes (2,048 bytes for a
partition key, 1,024 for a sort key, also for index keys), 100 keys per BatchGetItem and 100
items per TransactWriteItems. Added or corrected here:

* 400 KB items, measured as AWS does (measure.meter.item_size: names plus values, numbers by
  their significant digits), once per put or update; moto checked about 405,000 bytes of its
  own measure on every attribute set;
* 25 requests per BatchWriteItem (moto took any number);
* 4 MB per TransactWriteItems (the items it puts, and the stored items it updates, deletes
  or checks), 100 items per TransactGetItems (moto: 25, AWS's old limit);
* 1 MB of items read per Query or Scan page: infra.local.ordered.PAGE_BYTES.
"""

from __future__ import annotations

import json
from typing import Any

import moto.dynamodb.responses as moto_responses
from moto.dynamodb.exceptions import (
    ItemSizeTooLarge,
    ItemSizeToUpdateTooLarge,
    MockValidationException,
)
from moto.dynamodb.models.dynamo_type import LimitedSizeDict

from measure.meter import item_size

ITEM_BYTES = 400 * 1024
TRANSACTION_BYTES = 4 * 1024 * 1024
TRANSACTION_ITEMS = 100
BATCH_WRITE_ITEMS = 25


def check_item(attrs: dict[str, Any]) -> None:
    """ValidationException, as AWS words it, for an item over 400 KB (wire-format attrs)."""
    if item_size(attrs) > ITEM_BYTES:
        raise ItemSizeTooLarge


def _unchecked_setitem(self: LimitedSizeDict, key: str, value: Any) -> None:
    # moto re-summed the whole item on every attribute set (O(attributes^2) per item, 11 ms
    # for a 20-attribute item); the size is checked once per write instead (check_item,
    # check_updated).
    dict.__setitem__(self, key, value)


def check_updated(item: Any) -> None:
    """ValidationException, as AWS words it, when an update made an item over 400 KB."""
    if item_size(item.to_json()["Attributes"]) > ITEM_BYTES:
        raise ItemSizeToUpdateTooLarge


def _batch_write(handler: Any) -> None:
    requests = handler.body.get("RequestItems") or {}
    for name, table_requests in requests.items():
        if len(table_requests) > BATCH_WRITE_ITEMS:
            shown = json.dumps({name: "[...]"})
            raise MockValidationException(
                f"1 validation error detected: Value '{shown}' at 'requestItems' failed to "
                "satisfy constraint: Map value must satisfy constraint: [Member must have "
                f"length less than or equal to {BATCH_WRITE_ITEMS}, Member must have length "
                "greater than or equal to 1]"
            )
    if sum(len(r) for r in requests.values()) > BATCH_WRITE_ITEMS:
        raise MockValidationException("Too many items requested for the BatchWriteItem call")


def _transaction_bytes(handler: Any) -> int:
    from infra.local.ordered import stored

    backend = handler.dynamodb_backend
    total = 0
    for entry in handler.body.get("TransactItems") or []:
        op_type, op = next(iter(entry.items()))
        if op_type == "Put":
            total += item_size(op.get("Item"))
            continue
        try:
            table = backend.get_table(op["TableName"])
            item = stored(table, *backend.get_keys_value(table, op["Key"]))
        except Exception:  # noqa: BLE001 - moto reports a bad table or key itself
            item = None
        total += item_size(item.to_json()["Attributes"]) if item else 0
    return total


def _transact_write(handler: Any) -> None:
    if _transaction_bytes(handler) > TRANSACTION_BYTES:
        raise MockValidationException("Transaction request cannot be larger than 4 MB")


_CHECKS = {"batch_write_item": _batch_write, "transact_write_items": _transact_write}


def check(operation: str, handler: Any) -> None:
    """The request limits of one operation, before anything runs."""
    checker = _CHECKS.get(operation)
    if checker is not None:
        checker(handler)


def install() -> None:
    LimitedSizeDict.__setitem__ = _unchecked_setitem  # type: ignore[method-assign]
    moto_responses.TRANSACTION_MAX_ITEMS = TRANSACTION_ITEMS  # read by TransactGetItems
