"""The capacity meter bills what DynamoDB would, for boto3 and PynamoDB calls alike."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from measure.meter import CapacityMeter, item_size, value_size


def _table() -> str:
    from navigator.settings import get_settings

    return get_settings().catalog_table


def _client() -> Any:
    return boto3.client("dynamodb", region_name="eu-central-1")


def _item(pk: str, size: int, sk: str = "item") -> dict[str, Any]:
    """A typed item of exactly `size` bytes by DynamoDB's rules."""
    item = {"pk": {"S": pk}, "sk": {"S": sk}, "data": {"S": ""}}
    item["data"]["S"] = "x" * (size - item_size(item))
    assert item_size(item) == size
    return item


def test_sizes_follow_the_documented_rules() -> None:
    assert value_size({"S": "робот"}) == 10  # UTF-8 bytes
    assert value_size({"N": "12345"}) == 4  # 3 bytes of digits + 1
    assert value_size({"N": "100"}) == 2  # trailing zeros trimmed
    assert value_size({"BOOL": True}) == 1
    assert value_size({"L": [{"S": "ab"}]}) == 3 + 1 + 2
    assert item_size({"ab": {"S": "cd"}, "n": {"N": "7"}}) == 4 + 1 + 2


def test_put_bills_one_unit_per_started_kilobyte(aws: None) -> None:
    ddb = _client()
    with CapacityMeter() as meter:
        ddb.put_item(TableName=_table(), Item=_item("one", 1024))
    assert meter.write_units == 1
    assert [(c.operation, c.table, c.wcu) for c in meter.calls] == [("PutItem", _table(), 1)]

    meter.reset()
    with meter:
        ddb.put_item(TableName=_table(), Item=_item("one-and-a-half", 1536))
    assert meter.write_units == 2
    assert meter.read_units == 0


def test_transactional_writes_count_double(aws: None) -> None:
    ddb = _client()
    with CapacityMeter() as meter:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": _table(), "Item": _item("t1", 100)}},
                {"Put": {"TableName": _table(), "Item": _item("t2", 100)}},
            ]
        )
    assert meter.write_units == 4


def test_get_item_by_consistency(aws: None) -> None:
    ddb = _client()
    ddb.put_item(TableName=_table(), Item=_item("big", 5 * 1024))
    key = {"pk": {"S": "big"}, "sk": {"S": "item"}}
    with CapacityMeter() as meter:
        ddb.get_item(TableName=_table(), Key=key, ConsistentRead=True)
    assert meter.read_units == 2
    meter.reset()
    with meter:
        ddb.get_item(TableName=_table(), Key=key)
    assert meter.read_units == 1
    meter.reset()
    with meter:
        ddb.get_item(TableName=_table(), Key={"pk": {"S": "none"}, "sk": {"S": "item"}})
    assert meter.read_units == 0.5  # a miss still costs the minimum


def test_query_rounds_the_sum_of_returned_items(aws: None) -> None:
    ddb = _client()
    for n in range(3):
        ddb.put_item(TableName=_table(), Item=_item("q", 2048, sk=f"item-{n}"))
    with CapacityMeter() as meter:
        reply = ddb.query(
            TableName=_table(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "q"}},
        )
    assert len(reply["Items"]) == 3
    assert meter.read_units == 1  # 6 KB -> 2 units, halved
    (call,) = meter.calls
    assert (call.operation, call.items, call.scanned, call.consistent) == ("Query", 3, 3, False)


def test_update_bills_the_larger_of_before_and_after(aws: None) -> None:
    ddb = _client()
    ddb.put_item(TableName=_table(), Item=_item("u", 3000))
    with CapacityMeter() as meter:
        ddb.update_item(
            TableName=_table(),
            Key={"pk": {"S": "u"}, "sk": {"S": "item"}},
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":d": {"S": "small"}},
        )
    assert meter.write_units == 3  # the old item was 3,000 bytes
    assert meter.read_units == 0  # the meter's own probes are not metered


def test_without_probes_an_update_costs_the_minimum(aws: None) -> None:
    ddb = _client()
    ddb.put_item(TableName=_table(), Item=_item("u", 3000))
    with CapacityMeter(probe=False) as meter:
        ddb.delete_item(TableName=_table(), Key={"pk": {"S": "u"}, "sk": {"S": "item"}})
    assert meter.write_units == 1


def test_pynamodb_calls_are_counted(aws: None) -> None:
    from navigator.store import catalog as store

    provider = {"provider_id": "p1", "name": "Кванториум", "inn": "2460000000", "municipality": "x"}
    with CapacityMeter() as meter:
        store.create_provider(provider, "2026-09-01T00:00:00Z")
        store.get_provider("p1")
    assert [(c.operation, c.table) for c in meter.calls] == [
        ("PutItem", _table()),
        ("GetItem", _table()),
    ]
    assert meter.write_units == 1
    assert meter.read_units == 1  # consistent read of a small item


def test_resource_calls_are_seen_in_wire_form(aws: None) -> None:
    table = boto3.resource("dynamodb", region_name="eu-central-1").Table(_table())
    with CapacityMeter() as meter:
        table.put_item(Item={"pk": "r", "sk": "item", "data": "x" * 2000})
        table.get_item(Key={"pk": "r", "sk": "item"}, ConsistentRead=True)
    assert (meter.write_units, meter.read_units) == (2, 1)


def test_nothing_is_recorded_outside_the_meter(aws: None) -> None:
    ddb = _client()
    meter = CapacityMeter()
    with meter:
        pass
    ddb.put_item(TableName=_table(), Item=_item("late", 100))
    assert meter.calls == []


@pytest.mark.parametrize("size,units", [(1, 1), (4096, 1), (4097, 2)])
def test_read_unit_boundaries(aws: None, size: int, units: int) -> None:
    ddb = _client()
    ddb.put_item(TableName=_table(), Item=_item("b", max(size, 20)))
    with CapacityMeter() as meter:
        ddb.get_item(
            TableName=_table(), Key={"pk": {"S": "b"}, "sk": {"S": "item"}}, ConsistentRead=True
        )
    assert meter.read_units == units


def test_units_are_counted_per_item_across_calls(aws: None) -> None:
    ddb = _client()
    table = _table()
    hot = {"pk": {"S": "hot"}, "sk": {"S": "item"}}
    with CapacityMeter() as meter:
        ddb.put_item(TableName=table, Item=_item("hot", 100))
        for _ in range(3):
            ddb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": hot,
                            "UpdateExpression": "SET n = :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                    {"Put": {"TableName": table, "Item": _item("cold", 100)}},
                ]
            )
        ddb.get_item(TableName=table, Key=hot, ConsistentRead=True)
    per_item = meter.per_item()
    assert per_item[(table, '{"pk": {"S": "hot"}, "sk": {"S": "item"}}')] == (1, 1 + 3 * 2)
    assert per_item[(table, '{"pk": {"S": "cold"}, "sk": {"S": "item"}}')] == (0, 3 * 2)
