"""The embedded DynamoDB's cost by table size: Query (ordered storage vs moto's own) and
TransactWriteItems (item backup vs moto's table deep-copy).

Run from the repository root:  .venv/bin/python bench/engine.py [--query-only]

Query: the median client-side latency of a Query reading one partition of 10 items, on the
base table and on a global secondary index, with 1,000 and 200,000 items in the table. The
items are loaded straight into moto's backend (Table.put_item, the path BatchWriteItem takes,
so the ordered maps are maintained as in service); the Queries go over HTTP. moto's own
Query is measured beside it, on the same tables, with fewer runs at 200,000 items.

Each figure is the median client-side latency (boto3 call, HTTP on loopback included) of one
4-item conditional TransactWriteItems. "commit" succeeds; "cancel" fails its last
ConditionCheck, so the three writes before it are rolled back. GetItem is the floor: the
same HTTP round trip doing almost no work.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.local import dynamodb as embedded  # noqa: E402

SIZES = (200, 20_000)
WARMUP = 3
# moto's own implementation takes ~0.5 s per transaction at 20,000 items, hence fewer runs.
RUNS = {("patched", 200): 50, ("patched", 20_000): 50, ("moto", 200): 50, ("moto", 20_000): 5}


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "item"}}


def _create_and_load(ddb: Any, table: str, size: int) -> None:
    _create_indexed(ddb, table)  # these items carry no index keys: the index stays empty
    for start in range(0, size, 25):
        batch = [
            {
                "PutRequest": {
                    "Item": {**_key(f"item-{i}"), "n": {"N": str(i)}, "pad": {"S": "x" * 64}}
                }
            }
            for i in range(start, min(start + 25, size))
        ]
        ddb.batch_write_item(RequestItems={table: batch})
    ddb.put_item(TableName=table, Item={**_key("counter"), "cnt": {"N": "0"}})


def _transaction(table: str, run: str, *, cancel: bool) -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": table,
                "Key": _key("counter"),
                "UpdateExpression": "SET cnt = cnt + :one",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {**_key(f"new-{run}"), "n": {"N": "0"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Put": {"TableName": table, "Item": {**_key("item-1"), "n": {"N": "1"}}}},
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": _key("item-2"),
                "ConditionExpression": (
                    "attribute_not_exists(pk)" if cancel else "attribute_exists(pk)"
                ),
            }
        },
    ]


def _median_ms(runs: int, call: Callable[[int], None]) -> float:
    for i in range(WARMUP):
        call(-1 - i)
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _measure(ddb: Any, table: str, implementation: str, size: int) -> dict[str, float]:
    runs = RUNS[(implementation, size)]
    tag = f"{implementation}-{time.monotonic_ns()}"

    def commit(i: int) -> None:
        ddb.transact_write_items(TransactItems=_transaction(table, f"{tag}-{i}", cancel=False))

    def cancel(i: int) -> None:
        try:
            ddb.transact_write_items(TransactItems=_transaction(table, f"{tag}-x{i}", cancel=True))
        except ClientError as e:
            assert e.response["Error"]["Code"] == "TransactionCanceledException", e
        else:
            raise AssertionError("the cancelling transaction committed")

    def get(i: int) -> None:
        ddb.get_item(TableName=table, Key=_key("item-3"))

    return {
        "runs": runs,
        "get": _median_ms(runs, get),
        "commit": _median_ms(runs, commit),
        "cancel": _median_ms(runs, cancel),
    }


QUERY_SIZES = (1_000, 200_000)
QUERY_RUNS = {"ordered": 200, "moto": 5}
PARTITION = 10  # items per base-table partition and per index partition


def _load_direct(table: str, size: int) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    for i in range(size):
        backend.put_item(
            table,
            {
                "pk": {"S": f"p-{i // PARTITION:06d}"},
                "sk": {"S": f"s-{i % PARTITION:02d}"},
                # Index partitions interleave with base partitions: g-k holds every 1/(size/10)th.
                "gpk": {"S": f"g-{i % (size // PARTITION):06d}"},
                "gsk": {"S": f"{i:07d}"},
                "pad": {"S": "x" * 64},
            },
        )


def _create_indexed(ddb: Any, table: str) -> None:
    ddb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gpk", "gsk")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [
                    {"AttributeName": "gpk", "KeyType": "HASH"},
                    {"AttributeName": "gsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _measure_queries(ddb: Any, table: str, size: int, engine: str) -> dict[str, float]:
    runs = QUERY_RUNS[engine]
    middle = size // PARTITION // 2

    def base(i: int) -> None:
        found = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"p-{middle:06d}"}},
        )
        assert found["Count"] == PARTITION, found["Count"]

    def index(i: int) -> None:
        found = ddb.query(
            TableName=table,
            IndexName="gsi",
            KeyConditionExpression="gpk = :g",
            ExpressionAttributeValues={":g": {"S": f"g-{middle:06d}"}},
        )
        assert found["Count"] == PARTITION, found["Count"]

    return {"runs": runs, "base": _median_ms(runs, base), "index": _median_ms(runs, index)}


def query_main(ddb: Any) -> None:
    from infra.local import ordered

    results: dict[tuple[str, int], dict[str, float]] = {}
    for size in QUERY_SIZES:
        table = f"query-{size}"
        _create_indexed(ddb, table)
        began = time.perf_counter()
        _load_direct(table, size)
        print(f"loaded {size:,} items in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        results[("ordered", size)] = _measure_queries(ddb, table, size, "ordered")
        ordered.uninstall()
        try:
            results[("moto", size)] = _measure_queries(ddb, table, size, "moto")
        finally:
            ordered.install()
    print("| items | Query | runs | base table ms | index ms |")
    print("|---:|---|---:|---:|---:|")
    for (engine, size), r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        label = "ordered storage" if engine == "ordered" else "moto 5.2.5 (walks the table)"
        print(f"| {size:,} | {label} | {r['runs']:.0f} | {r['base']:.2f} | {r['index']:.2f} |")
    small, large = QUERY_SIZES
    print()
    for engine in ("ordered", "moto"):
        for kind in ("base", "index"):
            ratio = results[(engine, large)][kind] / results[(engine, small)][kind]
            print(f"- {engine} {kind} Query: {large:,} items / {small:,} items = {ratio:.2f}x")
    print()


def main() -> None:
    results: dict[tuple[str, int], dict[str, float]] = {}
    with embedded.EmbeddedDynamoDB() as db:
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=db.endpoint,
            region_name="us-east-1",
            aws_access_key_id="fake",
            aws_secret_access_key="fake",
            config=Config(retries={"total_max_attempts": 1}),
        )
        query_main(ddb)
        if "--query-only" in sys.argv:
            return
        for size in SIZES:
            table = f"bench-{size}"
            _create_and_load(ddb, table, size)
            results[("patched", size)] = _measure(ddb, table, "patched", size)
            DynamoDBBackend.transact_write_items = embedded._MOTO_TRANSACT_WRITE_ITEMS  # type: ignore[method-assign]
            try:
                results[("moto", size)] = _measure(ddb, table, "moto", size)
            finally:
                embedded.install_patches()

    print("| items | TransactWriteItems | runs | GetItem ms | commit ms | cancel ms |")
    print("|---:|---|---:|---:|---:|---:|")
    for (implementation, size), r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        label = (
            "patched (item backup)"
            if implementation == "patched"
            else "moto 5.2.5 (table deepcopy)"
        )
        print(
            f"| {size:,} | {label} | {r['runs']:.0f} | {r['get']:.2f} "
            f"| {r['commit']:.2f} | {r['cancel']:.2f} |"
        )
    small, large = SIZES
    print()
    for implementation in ("patched", "moto"):
        for kind in ("commit", "cancel"):
            ratio = results[(implementation, large)][kind] / results[(implementation, small)][kind]
            print(f"- {implementation} {kind}: {large:,} items / {small:,} items = {ratio:.2f}x")


if __name__ == "__main__":
    main()
