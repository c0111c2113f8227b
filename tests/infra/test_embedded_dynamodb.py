"""The embedded DynamoDB: serialized requests and item-level transaction rollback."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any, Literal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item

from infra.local import dynamodb as embedded
from infra.local.dynamodb import EmbeddedDynamoDB, install_patches

# No retries: a retried 500 would hide exactly the failures these tests look for.
_CONFIG = Config(retries={"total_max_attempts": 1}, max_pool_connections=16)


def _client(service: Literal["dynamodb", "dynamodbstreams"], endpoint: str | None) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="fake",
        aws_secret_access_key="fake",
        config=_CONFIG,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedDynamoDB]:
    with EmbeddedDynamoDB() as db:
        yield db


@pytest.fixture(params=["embedded", "mock_aws"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The embedded server's URL, or None for clients intercepted by in-process mock_aws."""
    if request.param == "embedded":
        yield request.getfixturevalue("server").endpoint
    else:
        with mock_aws():
            install_patches()
            yield None


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _key(pk: str, sk: str = "item") -> dict[str, Any]:
    return {"pk": _s(pk), "sk": _s(sk)}


def _create_table(ddb: Any, *, stream: bool = False) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gpk", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def _load(ddb: Any, table: str, count: int) -> None:
    for start in range(0, count, 25):
        requests = [
            {"PutRequest": {"Item": {**_key(f"bulk-{i}"), "n": {"N": str(i)}}}}
            for i in range(start, min(start + 25, count))
        ]
        assert not ddb.batch_write_item(RequestItems={table: requests})["UnprocessedItems"]


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def _gsi_pks(ddb: Any, table: str, gpk: str) -> list[str]:
    found = ddb.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": _s(gpk)},
    )["Items"]
    return sorted(item["pk"]["S"] for item in found)


def _reason_codes(error: ClientError) -> list[str]:
    return [reason["Code"] for reason in error.response["CancellationReasons"]]


# --- Concurrency ---------------------------------------------------------------------------------

THREADS, PER_THREAD, CAP = 8, 50, 300
CANCELLED = "TransactionCanceledException"


def _increment_and_put(table: str, pk: str) -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": table,
                "Key": _key("counter"),
                "UpdateExpression": "SET cnt = cnt + :one",
                "ConditionExpression": "cnt < :cap",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":cap": {"N": str(CAP)}},
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": _key(pk),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]


def _attempt(ddb: Any, transact_items: list[dict[str, Any]]) -> tuple[str, Any]:
    try:
        ddb.transact_write_items(TransactItems=transact_items)
        return "ok", None
    except ClientError as e:
        if e.response["Error"]["Code"] == CANCELLED:
            return "cancelled", _reason_codes(e)
        return "unexpected", f"{e.response['ResponseMetadata']['HTTPStatusCode']} {e}"
    except Exception as e:  # noqa: BLE001 - any other failure is exactly what we look for
        return "unexpected", repr(e)


def test_concurrent_conditional_transactions_lose_nothing(server: EmbeddedDynamoDB) -> None:
    ddb = _client("dynamodb", server.endpoint)
    table = _create_table(ddb)
    ddb.put_item(TableName=table, Item={**_key("counter"), "cnt": {"N": "0"}})
    ddb.put_item(TableName=table, Item=_key("taken"))
    results: list[list[tuple[str, str, Any]]] = [[] for _ in range(THREADS)]

    def worker(thread: int) -> None:
        client = _client("dynamodb", server.endpoint)
        for i in range(PER_THREAD):
            # Every fifth transaction conflicts: its Put targets an item that exists.
            pk = "taken" if i % 5 == 4 else f"unique-{thread}-{i}"
            results[thread].append((pk, *_attempt(client, _increment_and_put(table, pk))))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = [outcome for per_thread in results for outcome in per_thread]

    assert len(outcomes) == THREADS * PER_THREAD
    assert [o for o in outcomes if o[1] == "unexpected"] == []
    succeeded = {pk for pk, result, _ in outcomes if result == "ok"}
    # 320 non-conflicting attempts race for 300 increments: exactly CAP succeed.
    assert len(succeeded) == CAP
    for pk, result, codes in outcomes:
        if pk == "taken":
            assert result == "cancelled"
            assert codes[0] in {"None", "ConditionalCheckFailed"}
            assert codes[1] == "ConditionalCheckFailed"
        elif result == "cancelled":
            assert codes == ["ConditionalCheckFailed", "None"]

    counter = ddb.get_item(TableName=table, Key=_key("counter"), ConsistentRead=True)["Item"]
    assert int(counter["cnt"]["N"]) == len(succeeded)
    assert {item["pk"]["S"] for item in _scan(ddb, table)} == succeeded | {"counter", "taken"}


# --- Rollback cost -------------------------------------------------------------------------------


def _condition_check(table: str, pk: str, condition: str, **extra: Any) -> dict[str, Any]:
    check = {"TableName": table, "Key": _key(pk), "ConditionExpression": condition, **extra}
    return {"ConditionCheck": check}


def _item_copies(
    monkeypatch: pytest.MonkeyPatch, ddb: Any, transact_items: list[dict[str, Any]]
) -> int:
    """How many Items are deep-copied, at any depth, while the transaction fails."""
    copied: list[Item] = []
    real = Item.__deepcopy__

    # Spying on copy.deepcopy would miss nested copies: the copy module binds its own
    # deepcopy as a default argument of its helpers. Item.__deepcopy__ sees them all.
    def spy(item: Item, memo: dict[int, Any]) -> Item:
        copied.append(item)
        return real(item, memo)

    with monkeypatch.context() as patched, pytest.raises(ClientError) as cancelled:
        patched.setattr(Item, "__deepcopy__", spy)
        ddb.transact_write_items(TransactItems=transact_items)
    assert _reason_codes(cancelled.value) == ["None", "None", "None", "ConditionalCheckFailed"]
    return len(copied)


@pytest.mark.parametrize("size", [200, 5000])
def test_rollback_copies_only_the_named_items(
    server: EmbeddedDynamoDB, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    ddb = _client("dynamodb", server.endpoint)
    table = _create_table(ddb)
    _load(ddb, table, size)
    # Four named items, all existing. No Update: moto's update_item copies the item itself.
    named = [
        {"Put": {"TableName": table, "Item": {**_key("bulk-1"), "n": {"N": "-1"}}}},
        {"Delete": {"TableName": table, "Key": _key("bulk-2")}},
        _condition_check(table, "bulk-3", "n = :n", ExpressionAttributeValues={":n": {"N": "3"}}),
        _condition_check(table, "bulk-4", "attribute_not_exists(pk)"),
    ]

    assert _item_copies(monkeypatch, ddb, named) == len(named)

    # moto's own implementation copies the whole table (cheap to show at these sizes).
    with monkeypatch.context() as unpatched:
        unpatched.setattr(
            DynamoDBBackend, "transact_write_items", embedded._MOTO_TRANSACT_WRITE_ITEMS
        )
        assert _item_copies(monkeypatch, ddb, named) >= size

    assert ddb.describe_table(TableName=table)["Table"]["ItemCount"] == size


# --- Transaction semantics (embedded server and in-process mock_aws) -----------------------------


def _seed(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**_key("existing"), "gpk": _s("old"), "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={**_key("guarded"), "state": _s("locked")})


def test_cancelled_transaction_leaves_the_table_as_before(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    _seed(ddb, table)
    before = _scan(ddb, table)

    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**_key("new"), "gpk": _s("new")}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key("existing"),
                        "UpdateExpression": "SET gpk = :g, v = v + :one",
                        "ExpressionAttributeValues": {":g": _s("moved"), ":one": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": _key("guarded"),
                        "ConditionExpression": "#s = :open",
                        "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":open": _s("open")},
                    }
                },
            ]
        )

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _reason_codes(cancelled.value) == ["None", "None", "ConditionalCheckFailed"]
    assert "Item" not in cancelled.value.response["CancellationReasons"][2]
    assert _scan(ddb, table) == before
    assert "Item" not in ddb.get_item(TableName=table, Key=_key("new"), ConsistentRead=True)
    # The index reads the same storage, so it sees the restored items too.
    assert _gsi_pks(ddb, table, "old") == ["existing"]
    assert _gsi_pks(ddb, table, "moved") == []
    assert _gsi_pks(ddb, table, "new") == []
    assert ddb.describe_table(TableName=table)["Table"]["ItemCount"] == len(before)


def test_validation_error_rolls_back_and_is_raised(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    _seed(ddb, table)
    before = _scan(ddb, table)

    with pytest.raises(ClientError) as rejected:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _key("new")}},
                {"Delete": {"TableName": table, "Key": _key("existing")}},
                {"Put": {"TableName": table, "Item": {**_key("new"), "again": _s("yes")}}},
            ]
        )

    assert rejected.value.response["Error"]["Code"] == "ValidationException"
    assert "multiple operations on one item" in str(rejected.value)
    assert _scan(ddb, table) == before


def test_successful_transaction_applies_every_item(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    _seed(ddb, table)
    ddb.put_item(TableName=table, Item=_key("doomed"))

    ddb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": {**_key("new"), "gpk": _s("new")},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": _key("existing"),
                    "UpdateExpression": "SET gpk = :g, v = v + :one",
                    "ConditionExpression": "v = :one",
                    "ExpressionAttributeValues": {":g": _s("moved"), ":one": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": table, "Key": _key("doomed")}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": _key("guarded"),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )

    assert [item["pk"]["S"] for item in _scan(ddb, table)] == ["existing", "guarded", "new"]
    existing = ddb.get_item(TableName=table, Key=_key("existing"), ConsistentRead=True)["Item"]
    assert existing["v"] == {"N": "2"}
    assert _gsi_pks(ddb, table, "moved") == ["existing"]
    assert _gsi_pks(ddb, table, "old") == []
    assert _gsi_pks(ddb, table, "new") == ["new"]


def test_all_old_returns_the_item_in_the_cancellation_reason(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    _seed(ddb, table)

    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _key("new")}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": _key("guarded"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )

    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"] == {**_key("guarded"), "state": _s("locked")}
    assert "Item" not in ddb.get_item(TableName=table, Key=_key("new"), ConsistentRead=True)


def test_cancelled_transaction_leaves_no_stream_records(server: EmbeddedDynamoDB) -> None:
    # Embedded only: under mock_aws, moto answers DescribeStream with 404 "Not yet implemented".
    endpoint = server.endpoint
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb, stream=True)
    ddb.put_item(TableName=table, Item=_key("first"))
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _key("new")}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": _key("first"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    ddb.put_item(TableName=table, Item=_key("second"))

    streams = _client("dynamodbstreams", endpoint)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["first", "second"]
