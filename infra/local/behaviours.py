"""AWS's behaviours the embedded DynamoDB can switch on: lag, throttling, conflicts, partial
batches, transient faults. All off unless configured; every random choice is seeded.

Switch them on with ``NAVIGATOR_DYNAMODB_BEHAVIOURS`` (read when the patches are installed)
or ``navigator serve --dynamodb-behaviours``: ``all``, or a comma-separated list of

    lag=LOW-HIGH      a global secondary index shows a write after LOW-HIGH ms (all: 0-1000)
    throttle          per partition key, token buckets of 1,000 write and 3,000 read units
                      a second (units as measure.meter computes them)
    conflicts         TransactionConflict for transactions overlapping on an item, client
                      request tokens as DynamoDB keeps them (10 minutes)
    unprocessed=RATE  each BatchGetItem key / BatchWriteItem item is left unprocessed with
                      this probability, never all of one call (all: 0.1)
    faults=RATE       a data-plane call fails with InternalServerError or ServiceUnavailable
                      before it runs, with this probability (all: 0.01)
    seed=N            the seed of every random choice (default 0)

Faults, throttles, conflicts and partial batches are decided per request by wrapping moto's
DynamoHandler methods, so they apply over HTTP and under in-process ``mock_aws`` alike; lag
lives in :mod:`infra.local.ordered`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, TransactionCanceledException

from infra.local import limits
from measure.meter import item_size, read_units, write_units

ENV = "NAVIGATOR_DYNAMODB_BEHAVIOURS"

WRITE_UNITS_PER_PARTITION = 1000.0
READ_UNITS_PER_PARTITION = 3000.0
TOKEN_SECONDS = 600.0  # how long DynamoDB remembers a ClientRequestToken

THROUGHPUT_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is "
    "automatically scaling your table or index so please try again shortly. If exceptions "
    "persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
CONFLICT_MESSAGE = "Transaction is ongoing for the item"


@dataclass(frozen=True)
class Behaviours:
    lag: tuple[float, float] | None = None  # ms
    throttle: bool = False
    conflicts: bool = False
    unprocessed: float = 0.0
    faults: float = 0.0
    seed: int = 0

    @property
    def active(self) -> bool:
        return bool(self.lag or self.throttle or self.conflicts or self.unprocessed or self.faults)

    def index_lag_seconds(self) -> float | None:
        if not self.lag:
            return None
        low, high = self.lag
        return _STATE.rng.uniform(low, high) / 1000.0

    def describe(self) -> str:
        parts = []
        if self.lag:
            parts.append(f"lag={self.lag[0]:g}-{self.lag[1]:g}")
        parts += [name for name in ("throttle", "conflicts") if getattr(self, name)]
        parts += [
            f"{n}={getattr(self, n):g}" for n in ("unprocessed", "faults") if getattr(self, n)
        ]
        return ",".join(parts + [f"seed={self.seed}"]) if parts else "off"


ALL = Behaviours(lag=(0.0, 1000.0), throttle=True, conflicts=True, unprocessed=0.1, faults=0.01)


def parse(text: str | None) -> Behaviours:
    """``all``, ``off``/empty, or the comma-separated list described in the module."""
    result = Behaviours()
    for part in (p.strip() for p in (text or "").split(",")):
        if part in ("", "off", "none"):
            continue
        name, _, value = part.partition("=")
        if name == "all":
            result = replace(ALL, seed=result.seed)
        elif name == "lag":
            low, _, high = (value or "0-1000").partition("-")
            result = replace(result, lag=(float(low), float(high or low)))
        elif name in ("throttle", "conflicts"):
            result = replace(result, **{name: True})  # type: ignore[arg-type]
        elif name in ("unprocessed", "faults"):
            result = replace(result, **{name: float(value or getattr(ALL, name))})  # type: ignore[arg-type]
        elif name == "seed":
            result = replace(result, seed=int(value))
        else:
            raise ValueError(f"unknown DynamoDB behaviour {part!r} in {text!r}")
    return result


class _State:
    def __init__(self, behaviours: Behaviours) -> None:
        self.behaviours = behaviours
        self.rng = random.Random(behaviours.seed)
        self.buckets: dict[tuple[Any, ...], list[float]] = {}
        self.peaks: dict[tuple[Any, ...], list[float]] = {}  # key -> [second, units, peak]
        self.transaction_end: dict[tuple[str, str], float] = {}
        self.write_end: dict[tuple[str, str], float] = {}
        self.tokens: dict[str, tuple[str, float, bool]] = {}
        self.injected: Counter[str] = Counter()


_STATE = _State(Behaviours())
_CONFIGURED = False
_ARRIVAL = threading.local()


def configure(behaviours: Behaviours | str | None) -> Behaviours:
    """Switch behaviours (and reset buckets, conflict windows, tokens, the random seed)."""
    global _STATE, _CONFIGURED
    chosen = behaviours if isinstance(behaviours, Behaviours) else parse(behaviours)
    _STATE = _State(chosen)
    _CONFIGURED = True
    return chosen


def configure_from_environment() -> Behaviours:
    return configure(os.environ.get(ENV))


def current() -> Behaviours:
    if not _CONFIGURED:
        configure_from_environment()
    return _STATE.behaviours


def injected() -> Counter[str]:
    """What was injected so far, by kind (``ThrottlingError``, ``UnprocessedItems``...)."""
    return _STATE.injected


def partition_peaks(kind: str = "write") -> list[tuple[tuple[Any, ...], float]]:
    """Per partition key, the most units consumed in one wall-clock second, busiest first
    (recorded while throttling is on)."""
    peaks = [(key[1:], v[2]) for key, v in _STATE.peaks.items() if key[0] == kind]
    return sorted(peaks, key=lambda kv: -kv[1])


def mark_arrival() -> None:
    """Called when a request arrives, before it waits for the engine's lock."""
    _ARRIVAL.at = time.monotonic()


def _arrival() -> float:
    at: float | None = getattr(_ARRIVAL, "at", None)
    _ARRIVAL.at = None
    return at if at is not None else time.monotonic()


# --- Errors -------------------------------------------------------------------------------------


class _AwsError(JsonRESTError):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(ERROR_TYPE_PREFIX + code, message)
        self.code = status


def throughput_exceeded() -> JsonRESTError:
    _STATE.injected["ProvisionedThroughputExceededException"] += 1
    return _AwsError("ProvisionedThroughputExceededException", THROUGHPUT_MESSAGE)


# --- Token buckets ------------------------------------------------------------------------------


def _bucket(key: tuple[Any, ...], rate: float) -> list[float]:
    now = time.monotonic()
    bucket = _STATE.buckets.get(key)
    if bucket is None:
        bucket = _STATE.buckets[key] = [rate, now]
    bucket[0] = min(rate, bucket[0] + (now - bucket[1]) * rate)
    bucket[1] = now
    return bucket


def _record(key: tuple[Any, ...], units: float) -> None:
    second = float(int(time.time()))
    peak = _STATE.peaks.setdefault(key, [second, 0.0, 0.0])
    if peak[0] != second:
        peak[0], peak[1] = second, 0.0
    peak[1] += units
    peak[2] = max(peak[2], peak[1])


def take_write(table: str, partition: Any, units: float) -> bool:
    """Take write units from a partition's bucket; False (nothing taken) if it lacks them."""
    if not _STATE.behaviours.throttle:
        return True
    key = ("write", table, partition)
    bucket = _bucket(key, WRITE_UNITS_PER_PARTITION)
    if bucket[0] < units:
        return False
    bucket[0] -= units
    _record(key, units)
    return True


def readable(table: str, index: str | None, partition: Any) -> bool:
    """Whether a partition (of a table or an index) may be read now."""
    if not _STATE.behaviours.throttle:
        return True
    return _bucket(("read", table, index, partition), READ_UNITS_PER_PARTITION)[0] > 0


def charge_read(table: str, index: str | None, partition: Any, units: float) -> None:
    """Reads are billed after the fact (their size is known then); a bucket may go negative."""
    if _STATE.behaviours.throttle:
        key = ("read", table, index, partition)
        _bucket(key, READ_UNITS_PER_PARTITION)[0] -= units
        _record(key, units)


# --- Request wrappers ----------------------------------------------------------------------------


def _key_id(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def _table_key(backend: Any, table_name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    table = backend.get_table(table_name)
    key = {table.hash_key_attr: attrs.get(table.hash_key_attr)}
    if table.range_key_attr:
        key[table.range_key_attr] = attrs.get(table.range_key_attr)
    return key


def _current_units(backend: Any, table_name: str, key: dict[str, Any]) -> int:
    from infra.local.ordered import stored

    table = backend.get_table(table_name)
    try:
        item = stored(table, *backend.get_keys_value(table, key))
    except Exception:  # noqa: BLE001 - moto reports the malformed key itself
        return 1
    return write_units(item_size(item.to_json()["Attributes"]) if item else 0)


def _partition(key: dict[str, Any], backend: Any, table_name: str) -> str:
    return _key_id(key.get(backend.get_table(table_name).hash_key_attr) or {})


def _fault() -> None:
    rate = _STATE.behaviours.faults
    if rate and _STATE.rng.random() < rate:
        if _STATE.rng.random() < 0.5:
            _STATE.injected["InternalServerError"] += 1
            raise _AwsError("InternalServerError", "Internal server error", 500)
        _STATE.injected["ServiceUnavailable"] += 1
        raise _AwsError("ServiceUnavailable", "Service Unavailable", 503)


def _single_write(handler: Any, original: Callable[[Any], Any], arrival: float) -> Any:
    body, backend = handler.body, handler.dynamodb_backend
    name = body["TableName"]
    if "Item" in body:
        key = _table_key(backend, name, body["Item"])
        units = write_units(item_size(body["Item"]))
    else:
        key = body["Key"]
        units = _current_units(backend, name, key)
    item = (name, _key_id(key))
    if _STATE.behaviours.conflicts and _STATE.transaction_end.get(item, 0.0) > arrival:
        _STATE.injected["TransactionConflictException"] += 1
        raise _AwsError("TransactionConflictException", CONFLICT_MESSAGE)
    if not take_write(name, _partition(key, backend, name), units):
        raise throughput_exceeded()
    try:
        return original(handler)
    finally:
        _STATE.write_end[item] = time.monotonic()


def _transaction_items(handler: Any) -> list[tuple[tuple[str, str], str, int]]:
    """Per transact item: (table, key id), its partition, its write units (doubled)."""
    backend = handler.dynamodb_backend
    found = []
    for entry in handler.body["TransactItems"]:
        op_type, op = next(iter(entry.items()))
        name = op["TableName"]
        if op_type == "Put":
            key, units = _table_key(backend, name, op["Item"]), write_units(item_size(op["Item"]))
        else:
            key, units = op["Key"], _current_units(backend, name, op["Key"])
        found.append(((name, _key_id(key)), _partition(key, backend, name), 2 * units))
    return found


def _transaction_reasons(
    items: list[tuple[tuple[str, str], str, int]], arrival: float
) -> list[tuple[Any, Any, Any]] | None:
    state = _STATE
    reasons: list[tuple[Any, Any, Any]] = []
    for item, partition, units in items:
        ongoing = max(state.transaction_end.get(item, 0.0), state.write_end.get(item, 0.0))
        if state.behaviours.conflicts and ongoing > arrival:
            state.injected["TransactionConflict"] += 1
            reasons.append(("TransactionConflict", CONFLICT_MESSAGE, None))
        elif not take_write(item[0], partition, units):
            state.injected["ThrottlingError"] += 1
            reasons.append(("ThrottlingError", THROUGHPUT_MESSAGE, None))
        else:
            reasons.append((None, None, None))
    return reasons if any(code for code, _, _ in reasons) else None


def _replayed(handler: Any, arrival: float) -> tuple[str | None, str, bool]:
    """(token, digest, whether this is a finished success to answer without re-applying)."""
    body = handler.body
    token = body.get("ClientRequestToken")
    content = {k: v for k, v in body.items() if k != "ClientRequestToken"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    if token is None or not _STATE.behaviours.conflicts:
        return None, digest, False
    seen = _STATE.tokens.get(token)
    if seen is None or seen[1] < time.monotonic() - TOKEN_SECONDS:
        return token, digest, False
    seen_digest, finished_at, succeeded = seen
    if finished_at > arrival:
        _STATE.injected["TransactionInProgressException"] += 1
        raise _AwsError(
            "TransactionInProgressException",
            "The transaction with the given request token is already in progress.",
        )
    if seen_digest != digest:
        _STATE.injected["IdempotentParameterMismatchException"] += 1
        raise _AwsError(
            "IdempotentParameterMismatchException",
            "Specified idempotent token was used with different request parameters",
        )
    return token, digest, succeeded


def _transact_write(handler: Any, original: Callable[[Any], Any], arrival: float) -> Any:
    from moto.core.responses import ActionResult

    token, digest, replay = _replayed(handler, arrival)
    if replay:
        return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
    items = _transaction_items(handler)
    succeeded = False
    try:
        reasons = _transaction_reasons(items, arrival)
        if reasons is not None:
            raise TransactionCanceledException(reasons)
        result = original(handler)
        succeeded = True
        return result
    finally:
        now = time.monotonic()
        for item, _, _ in items:
            _STATE.transaction_end[item] = now
        if token is not None:
            _STATE.tokens[token] = (digest, now, succeeded)
        _prune(now)


def _prune(now: float) -> None:
    for table in (_STATE.transaction_end, _STATE.write_end):
        if len(table) > 100_000:
            for item in [k for k, end in table.items() if end < now - 10.0]:
                del table[item]
    if len(_STATE.tokens) > 100_000:
        for token in [k for k, v in _STATE.tokens.items() if v[1] < now - TOKEN_SECONDS]:
            del _STATE.tokens[token]


def _leave_out(requests: list[Any], keep_one: bool) -> tuple[list[Any], list[Any]]:
    rate = _STATE.behaviours.unprocessed
    kept: list[Any] = []
    left: list[Any] = []
    for request in requests:
        (kept if not rate or _STATE.rng.random() >= rate else left).append(request)
    if keep_one and not kept and left:
        kept.append(left.pop(0))
    return kept, left


def _batch_write(handler: Any, original: Callable[[Any], Any], arrival: float) -> Any:
    backend = handler.dynamodb_backend
    unprocessed: dict[str, list[Any]] = {}
    processed = 0
    for name, requests in list(handler.body["RequestItems"].items()):
        kept, left = _leave_out(requests, keep_one=True)
        admitted: list[Any] = []
        for request in kept:
            put = request.get("PutRequest")
            key = _table_key(backend, name, put["Item"]) if put else request["DeleteRequest"]["Key"]
            units = write_units(item_size(put["Item"])) if put else 1
            (admitted if take_write(name, _partition(key, backend, name), units) else left).append(
                request
            )
        processed += len(admitted)
        handler.body["RequestItems"][name] = admitted
        if left:
            unprocessed[name] = left
    if not processed:
        raise throughput_exceeded()
    handler.body["RequestItems"] = {n: r for n, r in handler.body["RequestItems"].items() if r}
    result = original(handler)
    _STATE.injected["UnprocessedItems"] += sum(len(r) for r in unprocessed.values())
    result.result["UnprocessedItems"] = unprocessed
    return result


def _batch_get(handler: Any, original: Callable[[Any], Any], arrival: float) -> Any:
    unprocessed: dict[str, Any] = {}
    for name, request in list(handler.body["RequestItems"].items()):
        kept, left = _leave_out(request["Keys"], keep_one=True)
        request["Keys"] = kept
        if left:
            unprocessed[name] = {**request, "Keys": left}
        if not kept:
            del handler.body["RequestItems"][name]
    result = original(handler)
    _STATE.injected["UnprocessedKeys"] += sum(len(r["Keys"]) for r in unprocessed.values())
    result.result["UnprocessedKeys"] = unprocessed
    return result


def _get_item(handler: Any, original: Callable[[Any], Any], arrival: float) -> Any:
    body = handler.body
    name = body["TableName"]
    partition = _partition(body["Key"], handler.dynamodb_backend, name)
    if not readable(name, None, partition):
        raise throughput_exceeded()
    result = original(handler)
    found = getattr(result, "result", None)
    item = found.get("Item") if isinstance(found, dict) else None
    units = read_units(item_size(item)) if item else 1
    charge_read(name, None, partition, units if body.get("ConsistentRead") else units / 2)
    return result


_SPECIAL: dict[str, Callable[[Any, Callable[[Any], Any], float], Any]] = {
    "put_item": _single_write,
    "update_item": _single_write,
    "delete_item": _single_write,
    "transact_write_items": _transact_write,
    "batch_write_item": _batch_write,
    "batch_get_item": _batch_get,
    "get_item": _get_item,
}
_PLAIN = ("query", "scan", "transact_get_items")


def _wrap(name: str, original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    special = _SPECIAL.get(name)

    def method(handler: Any) -> Any:
        arrival = _arrival()
        limits.check(name, handler)
        if not current().active:
            return original(handler)
        _fault()
        if special is None:
            return original(handler)
        return special(handler, original, arrival)

    method.__name__ = name
    method.__wrapped__ = original  # type: ignore[attr-defined]
    return method


def install() -> None:
    """Wrap moto's DynamoDB request handlers. Idempotent."""
    from moto.dynamodb.responses import DynamoHandler

    for name in (*_SPECIAL, *_PLAIN):
        present = getattr(DynamoHandler, name)
        original = getattr(present, "__wrapped__", present)
        setattr(DynamoHandler, name, _wrap(name, original))
