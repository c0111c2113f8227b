"""Races on real threads: the embedded DynamoDB served on loopback (moto in-process is not
thread-safe; the server serializes requests as DynamoDB serializes conditional writes), with a
provider, a period and helpers to make programs and children."""

from __future__ import annotations

import pytest

from navigator.identity import Caller
from tests.support.invariants import assert_invariants
from tests.support.money import new_snils

PARENT = Caller("race-parent", frozenset({"parents"}), None)
CLERK = Caller("race-clerk", frozenset({"providers"}), "race-provider")


@pytest.fixture
def server(monkeypatch):
    from infra.local.dynamodb import EmbeddedDynamoDB
    from infra.local.stack import ensure_tables, use_endpoint
    from navigator.api.idempotency import reset
    from navigator.settings import reset_settings
    from navigator.store.base import reset_connections

    monkeypatch.setenv("NAVIGATOR_TODAY", "2026-09-15")
    monkeypatch.setenv("CATALOG_REFRESH_SECONDS", "0")
    db = EmbeddedDynamoDB()
    with monkeypatch.context() as env:
        env.setenv("DYNAMODB_ENDPOINT", db.start())
        use_endpoint(db.endpoint)
        ensure_tables()
        _given_a_catalog()
        yield
        assert_invariants()
        # moto keeps its tables in process-wide state: leave none behind for the next test.
        from infra.local.stack import dynamodb_client

        client = dynamodb_client()
        for name in client.list_tables()["TableNames"]:
            client.delete_table(TableName=name)
    db.stop()
    reset()
    reset_settings()
    reset_connections()


def _given_a_catalog() -> None:
    from navigator.service import catalog, periods

    periods.put_period("2026-2027", "2026-09-01", "2027-08-31", 3_000_000)
    catalog.create_provider(
        {
            "provider_id": "race-provider",
            "name": "Студия",
            "inn": "7707083893",
            "municipality": "Красноярск",
        }
    )


def race_program(capacity: int, price: int = 100_000, title: str = "Шахматы") -> str:
    from navigator.service import catalog

    fields = {
        "title": title,
        "direction": "technical",
        "municipality": "Красноярск",
        "age_min": 5,
        "age_max": 17,
        "price_per_month_kopecks": price,
        "start_month": "2026-09",
        "end_month": "2027-05",
        "capacity": capacity,
        "funding": "certificate",
    }
    return str(catalog.create_program(CLERK, fields)["program_id"])


def race_child() -> str:
    from navigator.service import children

    return str(
        children.register_child(PARENT, "Сидорова Анна", "2015-03-03", new_snils())["child_id"]
    )
