"""Races: many enrollments at once against the embedded DynamoDB server, in real threads.

moto in-process is not thread-safe, so these run against the embedded server, which
serializes requests as DynamoDB serializes conditional writes.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from navigator.api.auth import Caller
from navigator.domain.errors import Conflict
from tests.enroll.money_fixtures import new_snils
from tests.invariants import assert_invariants

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


def _program(capacity: int, price: int = 100_000, title: str = "Шахматы") -> str:
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


def _child() -> str:
    from navigator.service import children

    return str(
        children.register_child(PARENT, "Сидорова Анна", "2015-03-03", new_snils(), "Красноярск")[
            "child_id"
        ]
    )


def _attempt(child_id: str, program_id: str) -> str:
    from navigator.service import enrollments

    try:
        enrollments.enroll(PARENT, child_id, program_id, accept_copay=True)
    except Conflict as refusal:
        return refusal.code
    return "enrolled"


def test_last_seats_go_to_exactly_as_many_children_as_there_are_seats(server):
    from navigator.store.catalog import get_seats

    program = _program(capacity=5)
    families = [_child() for _ in range(16)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = Counter(pool.map(lambda c: _attempt(c, program), families))
    assert outcomes == Counter({"enrolled": 5, "no_seats": 11})
    assert int(get_seats(program).taken) == 5


def test_concurrent_first_enrollments_issue_exactly_one_certificate(server):
    from navigator.store.accounts import certificates_of_parent

    programs = [_program(capacity=10, price=50_000, title=f"Кружок {n}") for n in range(4)]
    child = _child()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = Counter(pool.map(lambda p: _attempt(child, p), programs))
    assert outcomes == Counter({"enrolled": 4})
    certificates = certificates_of_parent(PARENT.sub)
    assert len(certificates) == 1
    assert int(certificates[0].seq) == 5  # issue + four reserves, numbered without gaps
    assert int(certificates[0].reserved) == 4 * 9 * 50_000


def test_the_same_child_clicking_many_times_is_enrolled_once(server):
    program = _program(capacity=10)
    child = _child()
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(lambda _: _attempt(child, program), range(8)))
    assert outcomes == Counter({"enrolled": 1, "already_enrolled": 7})


def test_a_certificate_never_goes_negative_when_contracts_race_for_its_balance(server):
    from navigator.store.accounts import certificates_of_parent

    # Each course costs 1,800,000 of a 3,000,000 nominal: the second gets what is left.
    programs = [_program(capacity=10, price=200_000, title=f"Дорогой {n}") for n in range(4)]
    child = _child()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = Counter(pool.map(lambda p: _attempt(child, p), programs))
    assert outcomes == Counter({"enrolled": 4})
    cert = certificates_of_parent(PARENT.sub)[0]
    assert int(cert.balance) == 0 and int(cert.reserved) == 3_000_000
