"""Races and orderings found in review, each pinned by a test."""

from __future__ import annotations

import functools

import pytest

from navigator.store.base import Cancelled
from tests.support.api import OPERATOR, OTHER_PARENT, PARENT, provider, request
from tests.support.money import (
    enroll,
    publish,
    register_child,
    set_today,
)


def test_a_report_landing_after_the_debit_read_is_not_overtaken(world):
    from navigator.service import charging
    from navigator.service.charging import Outcome, Result
    from navigator.store import accounts

    enrollment = enroll(register_child(), publish(price_per_month_kopecks=200_000)).body
    eid = enrollment["enrollment_id"]
    set_today(world, "2026-10-02")
    stale = accounts.get_enrollment(eid)  # the charge reads at 100 %...
    path = f"/enrollments/{eid}/completeness/2026-09"
    assert request("PUT", path, body={"percent": 0}, claims=provider("p1")).status == 200
    reads = []  # ...and the report lands before it commits

    def first_read_stale(enrollment_id):
        reads.append(enrollment_id)
        return stale if len(reads) == 1 else accounts_get(enrollment_id)

    accounts_get = accounts.get_enrollment
    world.setattr(accounts, "get_enrollment", first_read_stale)
    assert charging.charge(eid, "2026-09", "pass-x") == Outcome(Result.CHARGED, 0, 200_000)
    assert len(reads) == 2  # the stale attempt was refused by its condition, then read again


def test_a_movement_computed_on_an_active_certificate_fails_once_it_expired(world):
    from navigator.domain.calendar import now_utc_iso
    from navigator.service import charging
    from navigator.store import accounts, money
    from navigator.store.base import Transaction
    from navigator.store.money import Movement

    enrollment = enroll(register_child(), publish(price_per_month_kopecks=200_000)).body
    stale = accounts.get_certificate(enrollment["certificate_id"])
    charging.expire_certificate(stale.certificate_id)
    tx = Transaction()
    money.move(tx, stale, [Movement("release", 1, enrollment["enrollment_id"])], now_utc_iso())
    with pytest.raises(Cancelled):
        tx.commit()
    request("POST", f"/enrollments/{enrollment['enrollment_id']}/withdraw", claims=PARENT)


def test_a_period_write_never_clears_the_mark_of_its_first_certificate(world):
    from navigator.store import periods

    enroll(register_child(), publish())  # the period's first certificate marks it in use
    stale = {
        "period_id": "2026-2027",
        "starts_on": "2026-09-01",
        "ends_on": "2027-08-31",
        "nominal_kopecks": 5_000_000,
        "in_use": False,
    }
    version = periods.read_periods()[0]
    with pytest.raises(Cancelled):
        periods.write_period(stale, version, "2026-09-15T00:00:00Z")
    moved = {"starts_on": "2026-09-01", "ends_on": "2027-06-30", "nominal_kopecks": 5_000_000}
    reply = request("PUT", "/periods/2026-2027", body=moved, claims=OPERATOR)
    assert (reply.status, reply.code) == (409, "period_in_use")


def test_an_enrollment_commits_only_against_the_program_it_read(world):
    from navigator.domain.calendar import now_utc_iso
    from navigator.identity import Caller
    from navigator.service import enrollments

    program = publish(funding="free", price_per_month_kopecks=0)
    child = register_child()
    caller = Caller(PARENT["sub"], frozenset({"parents"}), None)
    plan = enrollments._plan(caller, "enr-race", child, program, False)
    patch = {"funding": "certificate", "price_per_month_kopecks": 100_000}
    assert request("PATCH", f"/programs/{program}", body=patch, claims=provider("p1")).status == 200
    tx, _, _ = enrollments._transaction(plan, now_utc_iso())
    with pytest.raises(Cancelled):
        tx.commit()
    fresh = enroll(child, program)
    assert fresh.status == 201 and fresh.body["certificate"] is not None


def test_a_failing_idempotency_store_is_503_not_500(world, monkeypatch):
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyPersistenceLayerError,
    )

    from navigator.api import idempotency

    def broken(**kwargs):
        raise IdempotencyPersistenceLayerError("throttled")

    class Config:
        def register_lambda_context(self, context):
            pass

    @functools.cache
    def failing_runner():
        return broken, Config()

    monkeypatch.setattr(idempotency, "_runner", failing_runner)
    reply = enroll(register_child(), publish(), key="k-503")
    assert (reply.status, reply.code) == (503, "unavailable")
    assert reply.headers["Retry-After"] == "1"


def test_a_bad_cursor_is_400_before_existence_and_ownership(world):
    enrollment = enroll(register_child(), publish()).body
    ledger = f"/certificates/{enrollment['certificate_id']}/ledger"
    reply = request("GET", ledger, claims=OTHER_PARENT, query={"cursor": "garbage"})
    assert (reply.status, reply.code) == (400, "invalid_cursor")
    roster = request(
        "GET", "/programs/nope/enrollments", claims=provider("p1"), query={"cursor": "garbage"}
    )
    assert (roster.status, roster.code) == (400, "invalid_cursor")
