"""TransactWriteItems cost against the embedded DynamoDB, by table size, patched vs moto's own.

Run from the repository root:  .venv/bin/python bench/engine.py

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
    ddb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
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
