"""Ordered storage under moto's tables: a Query costs O(log n + items read), a Scan page O(page).

moto 5.2.5 keeps a table as ``Table.items`` (hash key -> range key -> Item) and answers a
base-table Query by walking and sorting every item of the table, an index Query by scanning
and sorting the whole table, and each Scan page by re-walking the table from its start.

Here every table gets, next to ``Table.items`` (still the one store of items), sorted maps of
keys, maintained on every write path (Table.put_item and Table.delete_item, which PutItem,
BatchWriteItem and transactions go through; DynamoDBBackend.update_item; the transaction
rollback through :func:`reindex`):

* the base table: ``(hash, range)`` in DynamoDB's key order;
* each secondary index: ``(index hash, index range, table hash, table range)``, holding only
  the items that carry the index's key attributes (sparse, as DynamoDB's).

Query and Scan bisect those maps to the first key they may return and read forward (or
backward) only the items they return or evaluate. moto still evaluates key conditions'
values, filters, projections and index projections, and computes LastEvaluatedKey.

A global secondary index can lag (see :mod:`infra.local.behaviours`): its entry changes are
then queued with a seeded delay and a copy of the item as it was written, and applied when
due, before any read of that index.
"""

from __future__ import annotations

import base64
import copy
import heapq
import itertools
import time
import weakref
from decimal import Decimal
from typing import Any

from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import GlobalSecondaryIndex, SecondaryIndex, Table
from sortedcontainers import SortedDict

from infra.local import behaviours, limits
from measure.meter import read_units

# 1 MB, as DynamoDB counts it, of items read per Query or Scan page.
PAGE_BYTES = 1024 * 1024

_MOTO_QUERY = Table.query
_MOTO_SCAN = Table.scan
_MOTO_PUT_ITEM = Table.put_item
_MOTO_DELETE_ITEM = Table.delete_item
_MOTO_UPDATE_ITEM = DynamoDBBackend.update_item
_MOTO_UPDATE_GLOBAL_INDEXES = DynamoDBBackend.update_table_global_indexes

_STATE = "_navigator_ordered"
_LAGGING: weakref.WeakSet[_Index] = weakref.WeakSet()  # indexes that have queued changes


class _Top:
    """Greater than every key component: closes a key range at its upper end."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __le__(self, other: object) -> bool:
        return other is self

    def __ge__(self, other: object) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0


TOP = _Top()
_ABSENT: tuple[str, Any] = ("", "")  # the range part of a key where the schema has none


class Visits:
    """Items read by the ordered Query and Scan: what the engine tests count."""

    items = 0


def native(value: DynamoType | None) -> tuple[str, Any]:
    """A key value as a comparable tuple, in DynamoDB's order within each type: strings by
    code point (the same as UTF-8 bytes), numbers by value, binary by bytes."""
    if value is None:
        return _ABSENT
    if value.type == "N":
        return ("N", Decimal(value.value))
    if value.type == "B":
        raw = value.value
        return ("B", base64.b64decode(raw) if isinstance(raw, str) else bytes(raw))
    return (value.type, value.value)


def _native_json(value: dict[str, Any] | None) -> tuple[str, Any]:
    return native(DynamoType(value)) if value is not None else _ABSENT


class _Index:
    """One secondary index's entries in its key order, with its lag queue."""

    def __init__(self, table: Table, index: SecondaryIndex) -> None:
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        self.index = index
        self.table = table
        # moto also models multi-attribute index keys; those queries stay moto's own.
        self.supported = len(hashes) == 1 and len(ranges) <= 1
        self.hash_attr = hashes[0] if hashes else ""
        self.range_attr = ranges[0] if ranges else None
        self.lags = isinstance(index, GlobalSecondaryIndex)
        self.entries: SortedDict = SortedDict()  # key -> (hash, range) or an Item copy
        self.by_primary: dict[tuple[Any, Any], tuple[Any, ...]] = {}
        self.pending: list[tuple[float, int, tuple[Any, Any], Any, Any]] = []
        self.last_due: dict[tuple[Any, Any], float] = {}
        self._seq = itertools.count()

    def key_of(self, item: Item | None, primary: tuple[Any, Any]) -> tuple[Any, ...] | None:
        if item is None or self.hash_attr not in item.attrs:
            return None
        if self.range_attr is None:
            return (native(item.attrs[self.hash_attr]), _ABSENT, *primary)
        if self.range_attr not in item.attrs:
            return None
        return (native(item.attrs[self.hash_attr]), native(item.attrs[self.range_attr]), *primary)

    def key_of_json(self, key: dict[str, Any]) -> tuple[Any, ...]:
        table = self.table
        primary = (
            _native_json(key.get(table.hash_key_attr)),
            _native_json(key.get(table.range_key_attr)) if table.range_key_attr else _ABSENT,
        )
        ranged = _native_json(key.get(self.range_attr)) if self.range_attr else _ABSENT
        return (_native_json(key.get(self.hash_attr)), ranged, *primary)

    def write(self, primary: tuple[Any, Any], ref: tuple[Any, Any], item: Item | None) -> None:
        new_key = self.key_of(item, primary)
        lag = behaviours.current().index_lag_seconds() if self.lags else None
        if lag is None:
            self.apply(primary, new_key, ref)
            return
        # Per item, changes reach the index in the order they were made.
        due = max(time.monotonic() + lag, self.last_due.get(primary, 0.0))
        self.last_due[primary] = due
        snapshot = copy.deepcopy(item) if new_key is not None else None
        heapq.heappush(self.pending, (due, next(self._seq), primary, new_key, snapshot))
        _LAGGING.add(self)

    def apply(self, primary: tuple[Any, Any], new_key: tuple[Any, ...] | None, value: Any) -> None:
        old_key = self.by_primary.pop(primary, None)
        if old_key is not None:
            del self.entries[old_key]
        if new_key is not None:
            self.entries[new_key] = value
            self.by_primary[primary] = new_key

    def catch_up(self) -> None:
        """Apply the queued changes that are due (all of them once lag is switched off)."""
        if not self.pending:
            return
        now = time.monotonic() if behaviours.current().lag else float("inf")
        while self.pending and self.pending[0][0] <= now:
            due, _, primary, new_key, snapshot = heapq.heappop(self.pending)
            self.apply(primary, new_key, snapshot)
            if self.last_due.get(primary) == due:
                del self.last_due[primary]

    def item(self, value: Any) -> Item | None:
        return value if isinstance(value, Item) else stored(self.table, *value)


class _Ordered:
    """A table's keys in order: the base table's, and each index's."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.base: SortedDict = SortedDict()  # (hash, range) -> (hash DynamoType, range)
        self.indexes = {index.name: _Index(table, index) for index in table.all_indexes()}
        for hash_key, partition in table.items.items():
            if table.range_key_attr:
                for range_key in list(partition):
                    self.write(hash_key, range_key)
            else:
                self.write(hash_key, None)

    def write(self, hash_key: DynamoType, range_key: DynamoType | None) -> None:
        primary = (native(hash_key), native(range_key) if self.table.range_key_attr else _ABSENT)
        item = stored(self.table, hash_key, range_key)
        if item is None:
            self.base.pop(primary, None)
        else:
            self.base[primary] = (hash_key, range_key)
        for index in self.indexes.values():
            index.write(primary, (hash_key, range_key), item)

    def base_key_of_json(self, key: dict[str, Any]) -> tuple[Any, ...]:
        table = self.table
        ranged = _native_json(key.get(table.range_key_attr)) if table.range_key_attr else _ABSENT
        return (_native_json(key.get(table.hash_key_attr)), ranged)


def stored(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    """The item under a key, read without defaultdict's side effect of adding a partition."""
    partition = table.items.get(hash_key)
    if partition is None:
        return None
    if table.range_key_attr:
        found: Item | None = partition.get(range_key)
        return found
    return partition  # type: ignore[return-value]


def state(table: Table) -> _Ordered:
    ordered: _Ordered | None = table.__dict__.get(_STATE)
    if ordered is None:
        ordered = _Ordered(table)
        table.__dict__[_STATE] = ordered
    return ordered


def reindex(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> None:
    """Bring the sorted maps in line with what ``Table.items`` holds under this key."""
    state(table).write(hash_key, range_key)


# --- Write paths --------------------------------------------------------------------------------


def _put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    limits.check_item(item_attrs)
    item = _MOTO_PUT_ITEM(self, item_attrs, *args, **kwargs)
    reindex(self, item.hash_key, item.range_key)
    return item


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    item = _MOTO_DELETE_ITEM(self, hash_key, range_key)
    reindex(self, hash_key, range_key)
    return item


def _update_item(
    self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
) -> Item:
    table = self.get_table(table_name)
    try:
        hash_key, range_key = self.get_keys_value(table, key)
    except Exception:  # noqa: BLE001 - a malformed key: moto answers it and writes nothing
        return _MOTO_UPDATE_ITEM(self, table_name, key, *args, **kwargs)
    before = copy.deepcopy(stored(table, hash_key, range_key))
    try:
        item = _MOTO_UPDATE_ITEM(self, table_name, key, *args, **kwargs)
        try:
            limits.check_updated(item)
        except MockValidationException:
            _put_back(table, hash_key, range_key, before)
            raise
        return item
    finally:
        # moto's UpdateExpression mutates the stored Item in place, sometimes before failing.
        reindex(table, hash_key, range_key)


def _put_back(
    table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None
) -> None:
    if item is None:
        _MOTO_DELETE_ITEM(table, hash_key, range_key)
    elif table.range_key_attr:
        table.items[hash_key][range_key] = item
    else:
        table.items[hash_key] = item


def _update_global_indexes(self: DynamoDBBackend, table: Table, *args: Any, **kwargs: Any) -> Any:
    result = _MOTO_UPDATE_GLOBAL_INDEXES(self, table, *args, **kwargs)
    table.__dict__.pop(_STATE, None)  # rebuilt with the new index on next use
    return result


# --- Query ---------------------------------------------------------------------------------------


def _index_for_read(table: Table, index_name: str, consistent_read: bool) -> _Index:
    indexes = state(table).indexes
    if index_name not in indexes:
        names = ", ".join(indexes)
        raise MockValidationException(
            f"Invalid index: {index_name} for table: {table.name}. Available indexes are: {names}"
        )
    index = indexes[index_name]
    if consistent_read and index.lags:
        raise MockValidationException(
            "Consistent reads are not supported on global secondary indexes"
        )
    index.catch_up()
    return index


def _prefix_end(prefix: Any) -> Any:
    """The least value greater than every value starting with ``prefix`` (None: unbounded)."""
    if isinstance(prefix, str):
        stripped = prefix.rstrip(chr(0x10FFFF))
        return stripped[:-1] + chr(ord(stripped[-1]) + 1) if stripped else None
    stripped_bytes = bytes(prefix).rstrip(b"\xff")
    if not stripped_bytes:
        return None
    return stripped_bytes[:-1] + bytes([stripped_bytes[-1] + 1])


_OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def _bounds(
    hash_value: Any, comparison: str | None, values: list[DynamoType]
) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[bool, bool]]:
    """The key range ``(low, high, inclusive)`` of one partition's key condition."""
    h = hash_value
    whole = ((h,), (h, TOP), (True, True))
    if comparison is None:
        return whole
    v = [native(value) for value in values]
    comparison = _OPERATORS.get(comparison, comparison.upper())
    if comparison == "EQ":
        return (h, v[0]), (h, v[0], TOP), (True, True)
    if comparison == "LT":
        return (h,), (h, v[0]), (True, False)
    if comparison == "LE":
        return (h,), (h, v[0], TOP), (True, True)
    if comparison == "GT":
        return (h, v[0], TOP), (h, TOP), (False, True)
    if comparison == "GE":
        return (h, v[0]), (h, TOP), (True, True)
    if comparison == "BETWEEN":
        return (h, v[0]), (h, v[1], TOP), (True, True)
    if comparison == "BEGINS_WITH":
        tag, prefix = v[0]
        end = _prefix_end(prefix)
        return (h, v[0]), ((h, (tag, end)) if end is not None else (h, TOP)), (True, False)
    raise ValueError(f"unknown key comparison {comparison}")


def _after_start(
    low: tuple[Any, ...],
    high: tuple[Any, ...],
    inclusive: tuple[bool, bool],
    start: tuple[Any, ...] | None,
    forward: bool,
) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[bool, bool]]:
    """Narrow a key range to what lies after ExclusiveStartKey in the reading direction."""
    if start is None:
        return low, high, inclusive
    if forward and start >= low:
        return start, high, (False, inclusive[1])
    if not forward and start <= high:
        return low, start, (inclusive[0], False)
    return low, high, inclusive


def _read_page(
    source: _Index | _Ordered, keys: Any, limit: int | None, segments: Any = (None, None)
) -> tuple[list[Item], list[Item]]:
    """Read items in key order up to ``limit`` or 1 MB; return (page, the item after it)."""
    page: list[Item] = []
    size = 0
    table = source.table
    for key in keys:
        value = source.entries[key] if isinstance(source, _Index) else source.base[key]
        item = source.item(value) if isinstance(source, _Index) else stored(table, *value)
        if item is None:
            continue
        Visits.items += 1
        if segments != (None, None) and not item.is_within_segment(segments):
            continue
        item_size = item.size()
        if (limit is not None and len(page) == limit) or size + item_size > PAGE_BYTES:
            return page, [item]
        page.append(item)
        size += item_size
    return page, []


def _finish(
    table: Table,
    page: list[Item],
    more: list[Item],
    index_name: str | None,
    filter_expression: Any,
    projection: list[list[str]] | None,
) -> tuple[list[Item], int, dict[str, Any] | None]:
    """moto's own tail of a Query or Scan: copies, index projection, filter, projection."""
    last = table._get_last_evaluated_key(page[-1], index_name) if more and page else None
    results = copy.deepcopy(page)
    if index_name:
        index = table.get_index(index_name)
        results = [index.project(item) for item in results]
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection:
        results = [item.project(projection) for item in results]
    return results, len(page), last


def _query(
    self: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Item], int, dict[str, Any] | None]:
    source: _Index | _Ordered = state(self)
    if index_name:
        source = _index_for_read(self, index_name, consistent_read)
    multi = len(hash_key_conditions or ()) > 1 or len(range_key_conditions or ()) > 1
    if (
        filter_kwargs
        or multi
        or hash_key is None
        or (isinstance(source, _Index) and not source.supported)
    ):
        return _MOTO_QUERY(
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,  # type: ignore[arg-type]
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )
    low, high, inclusive = _bounds(native(hash_key), range_comparison, range_objs)
    start = None
    if exclusive_start_key:
        start = (
            source.key_of_json(exclusive_start_key)
            if isinstance(source, _Index)
            else source.base_key_of_json(exclusive_start_key)
        )
    low, high, inclusive = _after_start(low, high, inclusive, start, scan_index_forward)
    mapping = source.entries if isinstance(source, _Index) else source.base
    keys = mapping.irange(low, high, inclusive, reverse=not scan_index_forward)
    partition = native(hash_key)
    if not behaviours.readable(self.name, index_name, partition):
        raise behaviours.throughput_exceeded()
    page, more = _read_page(source, keys, limit)
    units = read_units(sum(item.size() for item in page))
    behaviours.charge_read(
        self.name, index_name, partition, units if consistent_read else units / 2
    )
    return _finish(self, page, more, index_name, filter_expression, projection_expressions)


def _scan(
    self: Table,
    filters: dict[str, Any],
    limit: int,
    exclusive_start_key: dict[str, Any] | None,
    filter_expression: Any = None,
    index_name: str | None = None,
    consistent_read: bool = False,
    projection_expression: list[list[str]] | None = None,
    segments: Any = (None, None),
) -> tuple[list[Item], int, dict[str, Any] | None]:
    source: _Index | _Ordered = state(self)
    if index_name:
        self.get_index(index_name, error_if_not=True)  # moto's error for an unknown index
        source = _index_for_read(self, index_name, consistent_read)
    if filters or (isinstance(source, _Index) and not source.supported):
        return _MOTO_SCAN(
            self,
            filters,
            limit,
            exclusive_start_key,  # type: ignore[arg-type]
            filter_expression,
            index_name,
            consistent_read,
            projection_expression,
            segments=segments,
        )
    mapping = source.entries if isinstance(source, _Index) else source.base
    if exclusive_start_key:
        start = (
            source.key_of_json(exclusive_start_key)
            if isinstance(source, _Index)
            else source.base_key_of_json(exclusive_start_key)
        )
        keys = mapping.irange(minimum=start, inclusive=(False, True))
    else:
        keys = iter(mapping)
    page, more = _read_page(source, keys, limit, segments)
    return _finish(self, page, more, index_name, filter_expression, projection_expression)


def settle(timeout: float = 10.0) -> None:
    """Wait until every index change queued so far is due, as a reader of what the API lets lag
    (GET /programs: 10 s) waits on AWS. The lag stays on: later writes lag again."""
    due = max((entry[0] for index in list(_LAGGING) for entry in index.pending), default=0.0)
    time.sleep(min(timeout, max(0.0, due - time.monotonic())))


def install() -> None:
    """Route moto's Query, Scan and write paths through the ordered maps. Idempotent."""
    Table.query = _query  # type: ignore[method-assign]
    Table.scan = _scan  # type: ignore[method-assign]
    Table.put_item = _put_item  # type: ignore[method-assign]
    Table.delete_item = _delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    DynamoDBBackend.update_table_global_indexes = _update_global_indexes  # type: ignore[method-assign]


def uninstall() -> None:
    """moto's own Query and Scan again (benchmarks compare against them)."""
    Table.query = _MOTO_QUERY  # type: ignore[method-assign]
    Table.scan = _MOTO_SCAN  # type: ignore[method-assign]
