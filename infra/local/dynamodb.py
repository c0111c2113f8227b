"""Embedded DynamoDB for the local stack and tests: moto's server, in-process, on loopback.

moto evaluates every expression, condition and cancellation reason; around it:

* :mod:`infra.local.ordered`: sorted key maps, so a Query costs O(log n + items read) and a
  Scan page O(page), whatever the table holds;
* :mod:`infra.local.limits`: DynamoDB's item and request limits as AWS enforces them;
* :mod:`infra.local.behaviours`: AWS's index lag, throttling, conflicts, partial batches and
  transient faults, switchable (off by default);

and two fixes over ``moto.server.ThreadedMotoServer``:

* moto's models are not thread-safe (concurrent conditional transactions fail with
  ``RuntimeError: dictionary changed size during iteration`` and HTTP 500s), so every
  request runs under one process-wide lock. DynamoDB's conditional writes and
  transactions are serializable anyway, so this changes timing, not semantics.
* moto's ``transact_write_items`` deep-copies every table it touches so that it can roll
  back, which makes a transaction cost O(table size) (about 1 s at 40,000 items).
  ``install_patches()`` replaces it with a version that backs up only the items the
  transaction names.

And one limit brought up to date: moto 5.2.5 refuses a TransactGetItems of more than 25
items, DynamoDB's limit before 2022; it has been 100 since, and an enrollment's snapshot with
a budget's 32 slices needs more than 25.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from infra.local import behaviours as behaviours_module
from infra.local import limits, ordered
from infra.local.behaviours import Behaviours

# Kept so that benchmarks and tests can compare against moto's own implementation.
_MOTO_TRANSACT_WRITE_ITEMS = DynamoDBBackend.transact_write_items

# One lock for the whole process, not one per server: moto's backends are module globals,
# shared by every server in this process.
_REQUEST_LOCK = threading.Lock()

_PASSED: tuple[None, None, None] = (None, None, None)
_WRITES = {"Put", "Delete", "Update"}


TRANSACT_GET_MAX_ITEMS = 100  # DynamoDB's TransactGetItems limit (moto says 25)


def install_patches(behaviours: Behaviours | str | None = None) -> Behaviours:
    """Install the engine over moto (idempotent): ordered storage, AWS's limits, cheap
    transaction rollback, and the switchable behaviours, given here or read from
    ``NAVIGATOR_DYNAMODB_BEHAVIOURS`` (off when neither says otherwise)."""
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    dynamodb_responses.TRANSACTION_MAX_ITEMS = TRANSACT_GET_MAX_ITEMS
    ordered.install()
    limits.install()
    behaviours_module.install()
    if behaviours is None:
        return behaviours_module.configure_from_environment()
    return behaviours_module.configure(behaviours)


# --- TransactWriteItems -------------------------------------------------------------------------
# Mirrors moto 5.2.5's DynamoDBBackend.transact_write_items; only the backup differs.


class _Undo:
    """The pre-transaction state of the items a transaction names."""

    def __init__(self) -> None:
        self._items: list[tuple[Table, DynamoType, DynamoType | None, Item | None]] = []
        self._streams: dict[int, tuple[StreamShard, list[Any], int]] = {}

    def remember(
        self, table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None
    ) -> None:
        # A copy, because UpdateExpression execution mutates the stored Item in place.
        self._items.append((table, hash_key, range_key, copy.deepcopy(item)))
        shard = table.stream_shard
        if shard is not None and id(shard) not in self._streams:
            # moto's whole-table restore also dropped the stream records of a cancelled
            # transaction; remembering the list and its length does the same in O(1).
            self._streams[id(shard)] = (shard, shard.items, len(shard.items))

    def rollback(self) -> None:
        # Reversed, so that if moto's uniqueness check (which compares the raw request
        # keys) lets two operations reach one item, the older backup wins.
        for table, hash_key, range_key, item in reversed(self._items):
            _restore(table, hash_key, range_key, item)
        for shard, records, length in self._streams.values():
            del records[length:]
            shard.items = records


def _restore(
    table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None
) -> None:
    # Straight into Table.items, the only storage: scans, queries and indexes all read it,
    # and ItemCount is computed from it (moto keeps no counters, TableSizeBytes is always 0).
    # Table.put_item/delete_item are not used as they would append stream records.
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item  # type: ignore[assignment]
    elif item is None:
        table.items[hash_key].pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item
    ordered.reindex(table, hash_key, range_key)


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _Undo()
    seen: set[tuple[str, str]] = set()
    try:
        # Like moto, every item is attempted, so that each gets a cancellation reason.
        reasons = [_write_one(self, item, seen, undo) for item in transact_items]
    except MockValidationException:
        # Covers MultipleTransactionsException and TransactWriteSingleOpException too;
        # moto did not roll back for the latter, which is a bug.
        undo.rollback()
        raise
    if any(code is not None for code, _, _ in reasons):
        undo.rollback()
        raise TransactionCanceledException(reasons)


def _write_one(
    backend: DynamoDBBackend,
    transact_item: dict[str, Any],
    seen: set[tuple[str, str]],
    undo: _Undo,
) -> tuple[Any, Any, Any]:
    """Apply one transact item; return its cancellation reason ``(code, message, item)``."""
    if len(transact_item) > 1:
        raise TransactWriteSingleOpException
    old_image: dict[str, Any] | None = None
    try:
        op_type, op = next(iter(transact_item.items()))
        if op_type not in {"ConditionCheck", *_WRITES}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        key = _key_of(backend, op_type, op)

        unique = (str(table_name), str(dict(sorted(key.items()))))
        if unique in seen:
            raise MultipleTransactionsException()
        seen.add(unique)

        table = backend.get_table(table_name)
        hash_key, range_key = backend.get_keys_value(table, key)
        current = table.get_item(hash_key, range_key)
        undo.remember(table, hash_key, range_key, current)

        if not _condition_holds(op, current):
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old_image = current.to_json()["Attributes"]
            raise ConditionalCheckFailed(item=old_image)
        _apply(backend, op_type, op, key)
        return _PASSED
    except MockValidationException:
        raise
    except ConditionalCheckFailed as e:
        return ("ConditionalCheckFailed", str(e.message), old_image)
    except Exception as e:  # as moto: any other failure becomes this item's reason
        return (type(e).__name__, str(e), old_image)


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _condition_holds(op: dict[str, Any], current: Item | None) -> bool:
    if op.get("ConditionExpression") is None:
        return True
    condition = get_filter_expression(
        op["ConditionExpression"],
        op.get("ExpressionAttributeNames"),
        op.get("ExpressionAttributeValues"),
    )
    return bool(condition.expr(current))


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    condition: dict[str, Any] = {
        "condition_expression": op.get("ConditionExpression"),
        "expression_attribute_names": op.get("ExpressionAttributeNames"),
        "expression_attribute_values": op.get("ExpressionAttributeValues"),
    }
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"], **condition)
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key, **condition)
    elif op_type == "Update":
        backend.update_item(
            op["TableName"], key, update_expression=op["UpdateExpression"], **condition
        )


# --- Server -------------------------------------------------------------------------------------


class _SerializedApp:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        behaviours_module.mark_arrival()  # before the wait: how conflicts see overlap
        with _REQUEST_LOCK:
            # The body is drained under the lock too: a lazy WSGI iterable could still be
            # reading moto's models after __call__ returns.
            response = self._app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()


class _QuietRequestHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one log line per request costs about 1 s per 1,000 calls; errors still log


class EmbeddedDynamoDB:
    """moto's DynamoDB on loopback in a daemon thread; accepts any fake credentials."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        behaviours: Behaviours | str | None = None,
    ) -> None:
        self._behaviours = behaviours  # None: NAVIGATOR_DYNAMODB_BEHAVIOURS decides
        self._host = host
        self._port = port  # 0: the OS picks a free one
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        if self._server is None:
            install_patches(self._behaviours)
            # Otherwise moto answers 500 to a region it does not know (e.g. "local").
            os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            app = _SerializedApp(DomainDispatcherApplication(create_backend_app))
            # The socket listens once make_server returns, so the endpoint is usable at once.
            self._server = make_server(
                self._host, self._port, app, threaded=True, request_handler=_QuietRequestHandler
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="embedded-dynamodb", daemon=True
            )
            self._thread.start()
        return self.endpoint

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("EmbeddedDynamoDB is not started")
        return f"http://{self._host}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> EmbeddedDynamoDB:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
