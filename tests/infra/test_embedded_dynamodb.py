"""The embedded DynamoDB: serialized requests and item-level transaction rollback."""

from __future__ import annotations

import threading
import time
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
from moto.dynamodb.models.table import Table

from infra.local import behaviours, ordered
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


@pytest.fixture(autouse=True)
def _behaviours_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests pin the engine's own semantics: AWS's behaviours stay off unless a test
    switches one on (the suite's behaviours pass sets them for everything else)."""
    monkeypatch.delenv(behaviours.ENV, raising=False)
    behaviours.configure(None)
    yield
    behaviours.configure_from_environment()


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


# --- Cost that follows the data touched ---------------------------------------------------------


def _load_partitions(ddb: Any, table: str, count: int, per_partition: int = 1) -> None:
    """``count`` items; partition ``p-i`` holds ``per_partition`` of them; gpk groups by 10."""
    items = [
        {
            "PutRequest": {
                "Item": {
                    **_key(f"p-{i // per_partition}", f"s-{i % per_partition:04d}"),
                    "gpk": _s(f"g-{i // 10}"),
                    "n": {"N": str(i)},
                }
            }
        }
        for i in range(count)
    ]
    for start in range(0, count, 25):
        ddb.batch_write_item(RequestItems={table: items[start : start + 25]})


def _visits(call: Any) -> tuple[Any, int]:
    before = ordered.Visits.items
    result = call()
    return result, ordered.Visits.items - before


@pytest.mark.parametrize("size", [100, 2000])
def test_query_reads_only_its_partition(endpoint: str | None, size: int) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    _load_partitions(ddb, table, size, per_partition=5)
    _load_partitions(ddb, table, 5, per_partition=5)  # rewrites p-0: still five items

    def query(**extra: Any) -> Any:
        return ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p" + extra.pop("sk", ""),
            ExpressionAttributeValues={":p": _s("p-7"), **extra.pop("values", {})},
            **extra,
        )

    found, visited = _visits(query)
    assert [i["sk"]["S"] for i in found["Items"]] == [f"s-{i:04d}" for i in range(5)]
    assert visited == 5
    found, visited = _visits(
        lambda: query(
            sk=" AND sk BETWEEN :a AND :b", values={":a": _s("s-0001"), ":b": _s("s-0002")}
        )
    )
    assert [i["n"]["N"] for i in found["Items"]] == ["36", "37"]
    assert visited == 2
    found, visited = _visits(
        lambda: query(sk=" AND begins_with(sk, :a)", values={":a": _s("s-000")})
    )
    assert found["Count"] == 5 and visited == 5
    found, visited = _visits(lambda: query(ScanIndexForward=False, Limit=2))
    assert [i["sk"]["S"] for i in found["Items"]] == ["s-0004", "s-0003"]
    assert visited == 3  # the page and the one item that says there is more
    page2, visited = _visits(
        lambda: query(ScanIndexForward=False, Limit=2, ExclusiveStartKey=found["LastEvaluatedKey"])
    )
    assert [i["sk"]["S"] for i in page2["Items"]] == ["s-0002", "s-0001"]
    assert visited == 3
    for condition, expected in ((" AND sk > :a", 3), (" AND sk <= :a", 2), (" AND sk < :a", 1)):
        found, visited = _visits(lambda c=condition: query(sk=c, values={":a": _s("s-0001")}))
        assert found["Count"] == expected and visited == expected
    filtered = query(FilterExpression="n > :n", values={":n": {"N": "36"}})
    assert (filtered["Count"], filtered["ScannedCount"]) == (3, 5)


@pytest.mark.parametrize("size", [100, 2000])
def test_index_query_and_scan_pages_read_only_what_they_return(
    endpoint: str | None, size: int
) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    _load_partitions(ddb, table, size)

    found, visited = _visits(lambda: _gsi_pks(ddb, table, "g-3"))
    assert found == sorted(f"p-{i}" for i in range(30, 40))
    assert visited == 10
    page, visited = _visits(lambda: ddb.scan(TableName=table, Limit=7))
    assert visited == 8 and page["Count"] == 7
    after, visited = _visits(
        lambda: ddb.scan(TableName=table, Limit=7, ExclusiveStartKey=page["LastEvaluatedKey"])
    )
    assert visited == 8
    assert not {i["pk"]["S"] for i in after["Items"]} & {i["pk"]["S"] for i in page["Items"]}
    seen: set[str] = set()
    start: dict[str, Any] = {}
    while True:
        index_page = ddb.scan(TableName=table, IndexName="gsi1", Limit=500, **start)
        seen |= {i["pk"]["S"] for i in index_page["Items"]}
        if "LastEvaluatedKey" not in index_page:
            break
        start = {"ExclusiveStartKey": index_page["LastEvaluatedKey"]}
    assert len(seen) == size


def test_index_follows_every_write_path(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    ddb.put_item(TableName=table, Item={**_key("a"), "gpk": _s("x")})
    ddb.update_item(
        TableName=table,
        Key=_key("b"),
        UpdateExpression="SET gpk = :g",
        ExpressionAttributeValues={":g": _s("x")},
    )
    assert _gsi_pks(ddb, table, "x") == ["a", "b"]
    ddb.update_item(
        TableName=table,
        Key=_key("a"),
        UpdateExpression="SET gpk = :g",
        ExpressionAttributeValues={":g": _s("y")},
    )
    ddb.update_item(TableName=table, Key=_key("b"), UpdateExpression="REMOVE gpk")
    assert _gsi_pks(ddb, table, "x") == []
    assert _gsi_pks(ddb, table, "y") == ["a"]
    ddb.batch_write_item(
        RequestItems={
            table: [
                {"DeleteRequest": {"Key": _key("a")}},
                {"PutRequest": {"Item": {**_key("c"), "gpk": _s("y")}}},
            ]
        }
    )
    assert _gsi_pks(ddb, table, "y") == ["c"]
    ddb.delete_item(TableName=table, Key=_key("c"))
    assert _gsi_pks(ddb, table, "y") == []
    assert _scan(ddb, table) == [{**_key("b")}]


def test_moto_own_query_walks_the_table(server: EmbeddedDynamoDB) -> None:
    # The engine's reason to exist, kept visible: moto's Query reads every item of the table.
    ddb = _client("dynamodb", server.endpoint)
    table = _create_table(ddb)
    _load_partitions(ddb, table, 300)
    walked: list[int] = []
    real = Table.all_items

    def spy(self: Table) -> Any:
        items = real(self)
        walked.append(len(items))
        return items

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(Table, "query", ordered._MOTO_QUERY)
        patched.setattr(Table, "all_items", spy)
        assert _gsi_pks(ddb, table, "g-3") == sorted(f"p-{i}" for i in range(30, 40))
    assert walked == [300]


# --- Limits -------------------------------------------------------------------------------------


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_item_and_key_sizes_are_aws_limits(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    # 400 KB exactly (name "v" plus value, and the keys) is allowed; one byte more is not.
    fixed = len("pk") + len("p") + len("sk") + len("item") + len("v")
    ddb.put_item(TableName=table, Item={**_key("p"), "v": _s("x" * (400 * 1024 - fixed))})
    assert _error(
        lambda: ddb.put_item(
            TableName=table, Item={**_key("p"), "v": _s("x" * (400 * 1024 - fixed + 1))}
        )
    ) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    code, message = _error(lambda: ddb.put_item(TableName=table, Item=_key("p" * 2049)))
    assert code == "ValidationException" and "2048 bytes" in message
    code, message = _error(lambda: ddb.put_item(TableName=table, Item=_key("p", "s" * 1025)))
    assert code == "ValidationException" and "1024 bytes" in message
    ddb.put_item(TableName=table, Item=_key("p" * 2048, "s" * 1024))
    code, message = _error(
        lambda: ddb.update_item(
            TableName=table,
            Key=_key("p"),
            UpdateExpression="SET w = :w",
            ExpressionAttributeValues={":w": _s("y" * 10)},
        )
    )
    assert (code, message) == (
        "ValidationException",
        "Item size to update has exceeded the maximum allowed size",
    )
    item = ddb.get_item(TableName=table, Key=_key("p"), ConsistentRead=True)["Item"]
    assert "w" not in item


def test_batch_and_transaction_limits(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    puts = [{"PutRequest": {"Item": _key(f"k-{i}")}} for i in range(26)]
    code, message = _error(lambda: ddb.batch_write_item(RequestItems={table: puts}))
    assert code == "ValidationException" and "less than or equal to 25" in message
    ddb.batch_write_item(RequestItems={table: puts[:25]})
    keys = [_key(f"k-{i}") for i in range(101)]
    code, message = _error(lambda: ddb.batch_get_item(RequestItems={table: {"Keys": keys}}))
    assert code == "ValidationException" and "less than or equal to 100" in message
    ops = [{"Put": {"TableName": table, "Item": _key(f"t-{i}")}} for i in range(101)]
    code, message = _error(lambda: ddb.transact_write_items(TransactItems=ops))
    assert code == "ValidationException" and "less than or equal to 100" in message
    ddb.transact_write_items(TransactItems=ops[:100])
    big = "x" * (390 * 1024)
    large = [
        {"Put": {"TableName": table, "Item": {**_key(f"b-{i}"), "v": _s(big)}}} for i in range(11)
    ]
    assert _error(lambda: ddb.transact_write_items(TransactItems=large)) == (
        "ValidationException",
        "Transaction request cannot be larger than 4 MB",
    )
    ddb.transact_write_items(TransactItems=large[:10])


def test_pages_stop_at_one_megabyte(endpoint: str | None) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    for i in range(12):
        ddb.put_item(TableName=table, Item={**_key("big", f"{i:02d}"), "v": _s("x" * 100_000)})
    first = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": _s("big")},
    )
    assert first["Count"] == 10 and "LastEvaluatedKey" in first
    assert ddb.scan(TableName=table)["Count"] == 10


# --- AWS's behaviours, switched on one at a time ------------------------------------------------


@pytest.fixture
def switch() -> Iterator[Any]:
    """Switch behaviours on for one test; always off again afterwards."""
    yield behaviours.configure


def _counter_table(ddb: Any) -> str:
    table = _create_table(ddb)
    ddb.put_item(TableName=table, Item={**_key("counter"), "cnt": {"N": "0"}})
    return table


def test_index_lag_shows_writes_late(server: EmbeddedDynamoDB, switch: Any) -> None:
    ddb = _client("dynamodb", server.endpoint)
    table = _create_table(ddb)
    switch("lag=300-300")
    ddb.put_item(TableName=table, Item={**_key("a"), "gpk": _s("x"), "v": _s("first")})
    assert _gsi_pks(ddb, table, "x") == []
    # The base table is current at once; the index gets each write in order, as written.
    assert ddb.get_item(TableName=table, Key=_key("a"), ConsistentRead=True)["Item"]["v"]
    ddb.update_item(
        TableName=table,
        Key=_key("a"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": _s("second")},
    )
    time.sleep(0.35)
    query = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gpk = :g",
        "ExpressionAttributeValues": {":g": _s("x")},
    }
    assert [i["v"]["S"] for i in ddb.query(**query)["Items"]] == ["second"]
    code, _ = _error(lambda: ddb.query(**query, ConsistentRead=True))
    assert code == "ValidationException"


def test_a_hot_partition_is_throttled(server: EmbeddedDynamoDB, switch: Any) -> None:
    ddb = _client("dynamodb", server.endpoint)
    table = _create_table(ddb)
    switch("throttle")
    # 100 KB items cost 98 write units each: the partition's 1,000 units go in 10 puts.
    padding = _s("x" * 100_000)
    codes = []
    started = time.monotonic()
    for i in range(30):
        try:
            ddb.put_item(TableName=table, Item={**_key("hot", f"{i:03d}"), "v": padding})
            codes.append("ok")
        except ClientError as e:
            codes.append(e.response["Error"]["Code"])
    refilled = (time.monotonic() - started) * 1000 / 98  # puts' worth refilled meanwhile
    assert 10 <= codes.count("ok") <= 10 + refilled + 1
    assert set(codes) == {"ok", "ProvisionedThroughputExceededException"}
    ddb.put_item(TableName=table, Item={**_key("cold"), "v": padding})  # another partition
    peak = behaviours.partition_peaks("write")[0]
    assert peak[0][0] == table and peak[1] >= 980


def test_overlapping_transactions_conflict(server: EmbeddedDynamoDB, switch: Any) -> None:
    ddb = _client("dynamodb", server.endpoint)
    table = _counter_table(ddb)
    switch("conflicts")
    increment = {
        "Update": {
            "TableName": table,
            "Key": _key("counter"),
            "UpdateExpression": "SET cnt = cnt + :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    # One after the other: no conflict.
    for i in range(3):
        ddb.transact_write_items(
            TransactItems=[increment, {"Put": {"TableName": table, "Item": _key(f"s{i}")}}]
        )
    results: list[Any] = []

    def worker(t: int) -> None:
        client = _client("dynamodb", server.endpoint)
        for i in range(10):
            item = {"Put": {"TableName": table, "Item": _key(f"w{t}-{i}")}}
            results.append(_attempt(client, [increment, item]))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conflicted = [codes for result, codes in results if result == "cancelled"]
    assert conflicted and all(codes == ["TransactionConflict", "None"] for codes in conflicted)
    assert [r for r, _ in results if r == "unexpected"] == []
    counter = ddb.get_item(TableName=table, Key=_key("counter"), ConsistentRead=True)["Item"]
    assert int(counter["cnt"]["N"]) == 3 + sum(r == "ok" for r, _ in results)


def test_client_request_tokens(server: EmbeddedDynamoDB, switch: Any) -> None:
    ddb = _client("dynamodb", server.endpoint)
    table = _counter_table(ddb)
    switch("conflicts")
    increment = {
        "Update": {
            "TableName": table,
            "Key": _key("counter"),
            "UpdateExpression": "SET cnt = cnt + :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    ddb.transact_write_items(TransactItems=[increment], ClientRequestToken="t-1")
    ddb.transact_write_items(TransactItems=[increment], ClientRequestToken="t-1")  # a retry
    counter = ddb.get_item(TableName=table, Key=_key("counter"), ConsistentRead=True)["Item"]
    assert counter["cnt"] == {"N": "1"}
    other = [{"Put": {"TableName": table, "Item": _key("other")}}]
    code, _ = _error(
        lambda: ddb.transact_write_items(TransactItems=other, ClientRequestToken="t-1")
    )
    assert code == "IdempotentParameterMismatchException"


def test_batches_come_back_partial(endpoint: str | None, switch: Any) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    switch("unprocessed=0.5,seed=3")
    pending = [{"PutRequest": {"Item": _key(f"k-{i}")}} for i in range(25)]
    rounds = 0
    while pending:
        left = ddb.batch_write_item(RequestItems={table: pending})["UnprocessedItems"]
        pending = left.get(table, [])
        rounds += 1
    assert rounds > 1
    keys = [_key(f"k-{i}") for i in range(25)]
    got: list[Any] = []
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    while request:
        answer = ddb.batch_get_item(RequestItems=request)
        got += answer["Responses"].get(table, [])
        request = answer["UnprocessedKeys"]
        if request:
            assert request[table]["ConsistentRead"] is True
    assert sorted(i["pk"]["S"] for i in got) == sorted(f"k-{i}" for i in range(25))
    assert behaviours.injected()["UnprocessedItems"] > 0
    assert behaviours.injected()["UnprocessedKeys"] > 0


def test_transient_faults_at_a_seeded_rate(endpoint: str | None, switch: Any) -> None:
    ddb = _client("dynamodb", endpoint)
    table = _create_table(ddb)
    switch("faults=0.2,seed=11")
    codes = []
    for i in range(200):
        try:
            ddb.get_item(TableName=table, Key=_key(f"k-{i}"))
            codes.append("ok")
        except ClientError as e:
            codes.append(e.response["Error"]["Code"])
    assert 20 <= codes.count("InternalServerError") + codes.count("ServiceUnavailable") <= 60
    assert {"InternalServerError", "ServiceUnavailable", "ok"} == set(codes)
    switch("faults=0.2,seed=11")
    again = []
    for i in range(200):
        try:
            ddb.get_item(TableName=table, Key=_key(f"k-{i}"))
            again.append("ok")
        except ClientError as e:
            again.append(e.response["Error"]["Code"])
    assert again == codes  # seeded


def test_behaviours_parse() -> None:
    assert behaviours.parse(None) == behaviours.Behaviours()
    assert behaviours.parse("all,seed=4") == behaviours.parse("seed=4,all")
    chosen = behaviours.parse("lag=10-20,throttle,faults=0.5")
    assert (chosen.lag, chosen.throttle, chosen.conflicts, chosen.faults) == (
        (10.0, 20.0),
        True,
        False,
        0.5,
    )
    with pytest.raises(ValueError):
        behaviours.parse("lag=1-2,typo")
