"""A capacity meter: the DynamoDB read and write units this process's calls would be billed.

    with CapacityMeter() as meter:
        ...                      # boto3 clients, boto3 resources, PynamoDB: all are seen
    meter.read_units, meter.write_units, meter.calls
    meter.per_item()             # (table, key) -> (read units, write units): the hot items

How calls are seen
    While at least one meter is active, ``botocore.client.BaseClient._make_request`` is
    wrapped. That is the one place every botocore client passes through (PynamoDB's own
    client included) with the request already serialized to DynamoDB's wire JSON and the
    response parsed but not yet converted by boto3's resource layer, so items are always in
    the typed form (``{"S": ...}``, ``{"N": ...}``). moto answers below this point (on
    ``before-send``), so mocked calls are metered too. Only the ``dynamodb`` service counts.

How units are computed (DynamoDB's documented rules, approximated where the data isn't there)
    * Item size: per attribute, the UTF-8 length of its name plus its value: strings UTF-8
      bytes, binary raw bytes, numbers 1 byte per two significant digits plus 1, booleans and
      nulls 1 byte, sets the sum of their elements, lists and maps 3 bytes plus 1 byte per
      element plus the elements (map keys count like attribute names).
    * Writes: 1 WCU per started KB, minimum 1; items of TransactWriteItems count double.
      - Put: the size of the request's item. (DynamoDB bills the larger of the old and the
        new item; the old one is not looked up, so replacing a bigger item is undercounted.)
      - Update / Delete: the request does not carry the item. With ``probe=True`` (default)
        the meter reads the item with a separate, unmetered client just before and just after
        the call and bills the larger of the two; with ``probe=False``, or if the probe fails,
        it bills the minimum, 1 WCU (2 in a transaction). Probing is right for moto and local
        runs; against real AWS it costs real reads, so pass ``probe=False`` there.
      - Failed conditional writes are billed like successful ones, as DynamoDB does.
      - BatchWriteItem: per item, less the ones returned as UnprocessedItems.
      - ConditionCheck in a transaction: 2 units on the read side (size not looked up).
    * Reads: 1 RCU per started 4 KB; eventually consistent reads cost half.
      - GetItem: the returned item, minimum one unit (0.5 eventually consistent).
      - Query / Scan: the sum of the *returned* items' sizes, rounded up to 4 KB once per
        call, minimum one unit, halved unless ConsistentRead (a GSI query is always
        eventually consistent). DynamoDB bills what it examined before a FilterExpression
        and the whole item before a ProjectionExpression; the wire response carries only
        ScannedCount, not those sizes, so filtered or projected reads are undercounted
        (``Call.scanned`` keeps ScannedCount so a caller can see the gap). ``Select=COUNT``
        returns no items and is billed the minimum.
      - BatchGetItem: per returned item, each rounded up to 4 KB, halved per table unless
        ConsistentRead.
      - TransactGetItems: per returned item, doubled, minimum 2 per requested item.
    * ConsumedCapacity in the response is ignored (moto does not fill it reliably).
    * Control-plane calls (CreateTable, DescribeTable...) are recorded with 0 units.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any

from botocore.client import BaseClient

KB = 1024
READ_UNIT = 4 * KB

__all__ = ["Call", "CapacityMeter", "item_size"]


@dataclass
class Call:
    """One DynamoDB call and what it would be billed."""

    operation: str
    table: str  # the table, or the sorted names joined by "," for multi-table calls
    rcu: float = 0.0
    wcu: float = 0.0
    index: str | None = None
    consistent: bool = False
    items: int = 0  # items returned (reads) or written (writes)
    scanned: int | None = None  # ScannedCount of a Query or Scan
    item_bytes: int = 0  # the summed item sizes the units were computed from
    error: str | None = None  # the error code, if the call failed
    seconds: float = 0.0  # time spent in the request itself (HTTP or moto), probes excluded
    tables: dict[str, tuple[float, float]] = field(default_factory=dict)  # table -> (rcu, wcu)
    # (table, key as sorted JSON) -> (rcu, wcu), for the calls that name single items: gets,
    # puts, updates, deletes, and the items of batches and transactions (not queries or scans)
    items_units: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)


# --------------------------------------------------------------------------- item size


def _number_size(text: str) -> int:
    try:
        significant = len(Decimal(text).normalize().as_tuple().digits)
    except InvalidOperation:
        significant = sum(c.isdigit() for c in text)
    significant = significant or 1
    return math.ceil(significant / 2) + 1


def _binary_size(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    # On the wire (the JSON body) binary values are base64 text.
    try:
        return len(base64.b64decode(value))
    except (ValueError, TypeError):
        return len(str(value))


def value_size(value: dict[str, Any]) -> int:
    """The size of one typed attribute value, without its name."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return _binary_size(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in data)
    if kind == "NS":
        return sum(_number_size(n) for n in data)
    if kind == "BS":
        return sum(_binary_size(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """DynamoDB's size of a typed item: attribute names plus values, in bytes."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int) -> int:
    return max(1, math.ceil(size / READ_UNIT))


# ------------------------------------------------------------------------------ hook

_lock = threading.Lock()
_meters: list[CapacityMeter] = []
_original_make_request: Any = None
_local = threading.local()  # .probing: the meter's own probe calls are not metered


def _install() -> None:
    global _original_make_request
    if _original_make_request is None:
        _original_make_request = BaseClient._make_request  # type: ignore[attr-defined]
        BaseClient._make_request = _metered_make_request  # type: ignore[attr-defined]


def _uninstall() -> None:
    global _original_make_request
    if _original_make_request is not None:
        BaseClient._make_request = _original_make_request  # type: ignore[attr-defined]
        _original_make_request = None


def _metered_make_request(
    self: BaseClient, operation_model: Any, request_dict: dict[str, Any], request_context: Any
) -> Any:
    original = _original_make_request or BaseClient._make_request  # type: ignore[attr-defined]
    meters = list(_meters)
    if (
        not meters
        or getattr(_local, "probing", False)
        or operation_model.service_model.service_name != "dynamodb"
    ):
        return original(self, operation_model, request_dict, request_context)
    params = _request_params(request_dict)
    operation = operation_model.name
    probe = any(m.probe for m in meters)
    before = _probe_items(self, operation, params) if probe else None
    began = time.perf_counter()
    http, parsed = original(self, operation_model, request_dict, request_context)
    seconds = time.perf_counter() - began
    after = _probe_items(self, operation, params) if probe else None
    call = _price(
        operation,
        params,
        parsed if isinstance(parsed, dict) else {},
        before,
        after,
        lambda table: _key_names(self, table),
    )
    call.seconds = seconds
    for meter in meters:
        meter._record(call)
    return http, parsed


def _request_params(request_dict: dict[str, Any]) -> dict[str, Any]:
    body = request_dict.get("body")
    if not body:
        return {}
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- probing

_probe_clients: dict[tuple[str | None, str | None], Any] = {}


def _probe_client(client: BaseClient) -> Any:
    key = (client.meta.region_name, client.meta.endpoint_url)
    found = _probe_clients.get(key)
    if found is None:
        import boto3

        found = boto3.session.Session().client("dynamodb", region_name=key[0], endpoint_url=key[1])
        _probe_clients[key] = found
    return found


def _keys_to_probe(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params.get("TableName", ""), params.get("Key") or {})]
    if operation == "TransactWriteItems":
        out = []
        for entry in params.get("TransactItems", []):
            for kind in ("Update", "Delete"):
                if kind in entry:
                    out.append((entry[kind]["TableName"], entry[kind]["Key"]))
        return out
    if operation == "BatchWriteItem":
        return [
            (table, request["DeleteRequest"]["Key"])
            for table, requests in (params.get("RequestItems") or {}).items()
            for request in requests
            if "DeleteRequest" in request
        ]
    return []


def _probe_items(
    client: BaseClient, operation: str, params: dict[str, Any]
) -> dict[tuple[str, str], int] | None:
    """Sizes of the items an Update/Delete names, read without metering; None if unknown."""
    keys = _keys_to_probe(operation, params)
    if not keys:
        return None
    sizes: dict[tuple[str, str], int] = {}
    _local.probing = True
    try:
        reader = _probe_client(client)
        for table, key in keys:
            reply = reader.get_item(TableName=table, Key=key, ConsistentRead=True)
            sizes[(table, _key_id(key))] = item_size(reply.get("Item"))
    except Exception:  # a probe must never break the call it measures
        return None
    finally:
        _local.probing = False
    return sizes


def _key_id(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


_key_schemas: dict[tuple[str | None, str], tuple[str, ...]] = {}


def _key_names(client: BaseClient, table: str) -> tuple[str, ...]:
    """A table's key attributes (DescribeTable once per table and endpoint, unmetered)."""
    ident = (client.meta.endpoint_url, table)
    if ident not in _key_schemas:
        _local.probing = True
        try:
            schema = _probe_client(client).describe_table(TableName=table)["Table"]["KeySchema"]
            _key_schemas[ident] = tuple(k["AttributeName"] for k in schema)
        except Exception:  # a probe must never break the call it measures
            return ()
        finally:
            _local.probing = False
    return _key_schemas[ident]


# --------------------------------------------------------------------------- pricing


def _changed_size(
    table: str,
    key: dict[str, Any],
    before: dict[tuple[str, str], int] | None,
    after: dict[tuple[str, str], int] | None,
) -> int:
    ident = (table, _key_id(key))
    return max((before or {}).get(ident, 0), (after or {}).get(ident, 0))


class _Bill:
    """Units per table while one call is priced."""

    def __init__(self, call: Call, key_names: Any = None) -> None:
        self.call = call
        self.per_table: dict[str, list[float]] = {}
        self.per_item: dict[tuple[str, str], list[float]] = {}
        self.key_names = key_names or (lambda table: ())

    def add(
        self,
        name: str,
        rcu: float = 0.0,
        wcu: float = 0.0,
        key: dict[str, Any] | None = None,
        item: dict[str, Any] | None = None,
    ) -> None:
        """Units on a table; on one item too, named by its `key` or found in the `item`."""
        units = self.per_table.setdefault(name, [0.0, 0.0])
        units[0] += rcu
        units[1] += wcu
        if key is None and item is not None:
            names = self.key_names(name)
            key = {n: item[n] for n in names if n in item} if names else None
        if key:
            on_item = self.per_item.setdefault((name, _key_id(key)), [0.0, 0.0])
            on_item[0] += rcu
            on_item[1] += wcu

    def item(self, size: int) -> None:
        self.call.items += 1
        self.call.item_bytes += size


_Sizes = dict[tuple[str, str], int] | None


def _price_put(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    size = item_size(params.get("Item"))
    bill.item(size)
    bill.add(bill.call.table, wcu=write_units(size), item=params.get("Item") or {})


def _price_update(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    size = _changed_size(bill.call.table, params.get("Key") or {}, b, a)
    bill.item(size)
    bill.add(bill.call.table, wcu=write_units(size), key=params.get("Key"))


def _price_batch_write(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    unprocessed = parsed.get("UnprocessedItems") or {}
    for name, requests in (params.get("RequestItems") or {}).items():
        skipped = {json.dumps(r, sort_keys=True) for r in unprocessed.get(name, [])}
        for request in requests:
            if json.dumps(request, sort_keys=True) in skipped:
                continue
            if "PutRequest" in request:
                item = request["PutRequest"].get("Item") or {}
                size, key = item_size(item), None
            else:
                item, key = None, request["DeleteRequest"]["Key"]
                size = _changed_size(name, key, b, None)
            bill.item(size)
            bill.add(name, wcu=write_units(size), key=key, item=item)


def _price_transact_write(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    for entry in params.get("TransactItems", []):
        ((kind, op),) = entry.items()
        name = op.get("TableName", "")
        if kind == "ConditionCheck":
            bill.add(name, rcu=2, key=op.get("Key"))
            continue
        if kind == "Put":
            size = item_size(op.get("Item"))
            bill.item(size)
            bill.add(name, wcu=2 * write_units(size), item=op.get("Item") or {})
            continue
        size = _changed_size(name, op.get("Key") or {}, b, a)
        bill.item(size)
        bill.add(name, wcu=2 * write_units(size), key=op.get("Key"))


def _price_get(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    bill.call.consistent = bool(params.get("ConsistentRead"))
    if parsed.get("Item"):
        bill.item(item_size(parsed["Item"]))
    factor = 1 if bill.call.consistent else 0.5
    bill.add(bill.call.table, rcu=read_units(bill.call.item_bytes) * factor, key=params.get("Key"))


def _price_query(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    bill.call.index = params.get("IndexName")
    # LSIs allow consistent reads, GSIs don't (DynamoDB rejects such a request).
    bill.call.consistent = bool(params.get("ConsistentRead"))
    for item in parsed.get("Items") or []:
        bill.item(item_size(item))
    bill.call.scanned = parsed.get("ScannedCount")
    factor = 1 if bill.call.consistent else 0.5
    bill.add(bill.call.table, rcu=read_units(bill.call.item_bytes) * factor)


def _price_batch_get(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    requested = params.get("RequestItems") or {}
    for name in requested:
        bill.add(name)
    for name, items in (parsed.get("Responses") or {}).items():
        factor = 1 if (requested.get(name) or {}).get("ConsistentRead") else 0.5
        for item in items:
            size = item_size(item)
            bill.item(size)
            bill.add(name, rcu=read_units(size) * factor, item=item)


def _price_transact_get(
    bill: _Bill, params: dict[str, Any], parsed: dict[str, Any], b: _Sizes, a: _Sizes
) -> None:
    gets = params.get("TransactItems", [])
    responses = parsed.get("Responses") or [{} for _ in gets]
    for entry, response in zip(gets, responses, strict=False):
        item = (response or {}).get("Item")
        size = item_size(item)
        if item:
            bill.item(size)
        bill.add(
            entry["Get"].get("TableName", ""), rcu=2 * read_units(size), key=entry["Get"].get("Key")
        )


_PRICES = {
    "PutItem": _price_put,
    "UpdateItem": _price_update,
    "DeleteItem": _price_update,
    "BatchWriteItem": _price_batch_write,
    "TransactWriteItems": _price_transact_write,
    "GetItem": _price_get,
    "Query": _price_query,
    "Scan": _price_query,
    "BatchGetItem": _price_batch_get,
    "TransactGetItems": _price_transact_get,
}


def _price(
    operation: str,
    params: dict[str, Any],
    parsed: dict[str, Any],
    before: _Sizes,
    after: _Sizes,
    key_names: Any = None,
) -> Call:
    error = (parsed.get("Error") or {}).get("Code")
    table = params.get("TableName", "")
    bill = _Bill(Call(operation=operation, table=table, error=error), key_names)
    price = _PRICES.get(operation)
    if price is not None:
        price(bill, params, parsed, before, after)
    elif table:
        bill.add(table)  # control plane: recorded, free
    call = bill.call
    call.tables = {name: (units[0], units[1]) for name, units in bill.per_table.items()}
    call.items_units = {ident: (units[0], units[1]) for ident, units in bill.per_item.items()}
    call.rcu = sum(units[0] for units in bill.per_table.values())
    call.wcu = sum(units[1] for units in bill.per_table.values())
    if not table and bill.per_table:
        call.table = ",".join(sorted(bill.per_table))
    return call


# ----------------------------------------------------------------------------- meter


class CapacityMeter:
    """Records every DynamoDB call of this process while active (a context manager).

    Meters may nest or overlap; each records the calls made while it is active. Calls from
    every thread are recorded.
    """

    def __init__(self, probe: bool = True) -> None:
        self.probe = probe
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()

    def __enter__(self) -> CapacityMeter:
        with _lock:
            _install()
            _meters.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with _lock:
            if self in _meters:
                _meters.remove(self)
            if not _meters:
                _uninstall()

    def _record(self, call: Call) -> None:
        with self._calls_lock:
            self.calls.append(call)

    @property
    def read_units(self) -> float:
        return sum(c.rcu for c in self.calls)

    @property
    def write_units(self) -> float:
        return sum(c.wcu for c in self.calls)

    def per_item(self) -> dict[tuple[str, str], tuple[float, float]]:
        """(table, key as sorted JSON) -> (read units, write units) over every recorded call."""
        totals: dict[tuple[str, str], list[float]] = {}
        for call in self.calls:
            for ident, (rcu, wcu) in call.items_units.items():
                units = totals.setdefault(ident, [0.0, 0.0])
                units[0] += rcu
                units[1] += wcu
        return {ident: (units[0], units[1]) for ident, units in totals.items()}

    def reset(self) -> None:
        with self._calls_lock:
            self.calls = []

    def summary(self) -> dict[str, float]:
        """Operation -> number of calls, plus the unit totals."""
        out: dict[str, float] = {}
        for call in self.calls:
            out[call.operation] = out.get(call.operation, 0) + 1
        out["read_units"] = self.read_units
        out["write_units"] = self.write_units
        return out
