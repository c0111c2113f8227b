"""Monthly debits: exactly once under retries, re-runs, concurrency and faults."""

from __future__ import annotations

import json
import logging

import pytest

from navigator.domain.errors import StoreUnavailable
from tests.support.api import OPERATOR, PARENT, provider, request
from tests.support.invariants import assert_invariants
from tests.support.money import (
    NOMINAL,
    enroll,
    open_period,
    publish,
    register_child,
    register_provider,
    set_today,
)

PRICE = 200_000


def enrolled(n: int = 1, **program) -> list[dict]:
    program_id = publish(price_per_month_kopecks=PRICE, capacity=50, **program)
    return [enroll(register_child(), program_id).body for _ in range(n)]


def run(month: str):
    return request("POST", "/debit-runs", body={"month": month}, claims=OPERATOR)


def schedule_of(enrollment_id: str) -> dict[str, dict]:
    body = request("GET", f"/enrollments/{enrollment_id}", claims=OPERATOR).body
    return {m["month"]: m for m in body["schedule"]}


def certificate(cert_id: str) -> dict:
    return request("GET", f"/certificates/{cert_id}", claims=PARENT).body


def test_a_month_that_has_not_ended_can_not_be_charged(world):
    reply = run("2026-09")
    assert (reply.status, reply.code) == (409, "month_not_closed")


def test_the_run_charges_each_due_month_and_reports(world):
    enrollments = enrolled(3)
    set_today(world, "2026-10-02")
    reply = run("2026-09")
    assert reply.status == 202
    report = reply.body
    assert report["status"] == "completed"
    assert (report["due_count"], report["charged_count"]) == (3, 3)
    assert (report["already_charged_count"], report["failed_count"]) == (0, 0)
    assert (report["charged_kopecks"], report["released_kopecks"]) == (3 * PRICE, 0)
    assert report["started_at"] and report["finished_at"]
    first = enrollments[0]
    month = schedule_of(first["enrollment_id"])["2026-09"]
    assert (month["status"], month["charged_kopecks"]) == ("charged", PRICE)
    cert = certificate(first["certificate_id"])
    assert cert["spent_kopecks"] == PRICE and cert["reserved_kopecks"] == 8 * PRICE
    assert request("GET", "/debit-runs/2026-09", claims=OPERATOR).body == report


def test_completeness_charges_its_share_and_releases_the_rest(world):
    (enrollment,) = enrolled()
    path = f"/enrollments/{enrollment['enrollment_id']}/completeness/2026-09"
    assert request("PUT", path, body={"percent": 33}, claims=provider("p1")).status == 200
    set_today(world, "2026-10-02")
    report = run("2026-09").body
    charge = PRICE * 33 // 100
    assert (report["charged_kopecks"], report["released_kopecks"]) == (charge, PRICE - charge)
    cert = certificate(enrollment["certificate_id"])
    assert cert["balance_kopecks"] == NOMINAL - 9 * PRICE + (PRICE - charge)
    ledger = request(
        "GET", f"/certificates/{enrollment['certificate_id']}/ledger", claims=PARENT
    ).body["items"]
    assert [(e["type"], e["amount_kopecks"], e["month"]) for e in ledger[-2:]] == [
        ("debit", charge, "2026-09"),
        ("release", PRICE - charge, "2026-09"),
    ]
    closed = request("PUT", path, body={"percent": 50}, claims=provider("p1"))
    assert (closed.status, closed.code) == (409, "month_already_debited")


def test_a_new_pass_after_completion_charges_nothing_twice(world):
    enrolled(2)
    set_today(world, "2026-10-02")
    first = run("2026-09").body
    again = run("2026-09")
    assert again.status == 202
    second = again.body
    assert second["started_at"] != first["started_at"]
    assert (second["charged_count"], second["charged_kopecks"]) == (2, 2 * PRICE)
    assert second["already_charged_count"] == 2
    assert second["due_count"] == 2


def test_free_programs_are_never_counted_or_charged_but_do_complete(world):
    program = publish(funding="free", price_per_month_kopecks=0, end_month="2026-09")
    enrollment = enroll(register_child(), program).body
    set_today(world, "2026-10-02")
    report = run("2026-09").body
    assert (report["due_count"], report["charged_count"]) == (0, 0)
    body = request("GET", f"/enrollments/{enrollment['enrollment_id']}", claims=PARENT).body
    assert body["status"] == "completed"
    assert request("GET", f"/programs/{program}").body["seats_taken"] == 0


def test_the_last_month_completes_the_contract_and_frees_the_seat(world):
    (enrollment,) = enrolled(end_month="2026-10")
    set_today(world, "2026-11-02")
    run("2026-09")
    run("2026-10")
    body = request("GET", f"/enrollments/{enrollment['enrollment_id']}", claims=PARENT).body
    assert body["status"] == "completed"
    assert {m["status"] for m in body["schedule"]} == {"charged"}
    again = enroll(body["child_id"], body["program_id"])
    assert (again.status, again.code) == (409, "program_ended")


def test_the_periods_last_month_expires_the_balances(aws, monkeypatch):
    set_today(monkeypatch, "2026-09-15")
    open_period("autumn", "2026-09-01", "2026-10-31")
    register_provider("p1")
    program = publish(price_per_month_kopecks=PRICE, start_month="2026-09", end_month="2026-10")
    enrollment = enroll(register_child(), program).body
    idle_child = register_child()
    enroll(idle_child, publish(title="Хор", price_per_month_kopecks=PRICE, capacity=1))
    request(
        "POST",
        f"/enrollments/{enroll(register_child(), program).body['enrollment_id']}/withdraw",
        claims=PARENT,
    )
    set_today(monkeypatch, "2026-11-03")
    run("2026-09")
    report = run("2026-10").body
    assert report["status"] == "completed"
    certs = request("GET", "/certificates", claims=PARENT).body["items"]
    assert {c["status"] for c in certs} == {"expired"}
    assert {c["balance_kopecks"] for c in certs} == {0}
    mine = certificate(enrollment["certificate_id"])
    assert mine["expired_kopecks"] == NOMINAL - 2 * PRICE
    assert mine["spent_kopecks"] == 2 * PRICE
    assert_invariants()


# ------------------------------------------------------------------- faults


class Captured:
    """A dispatcher whose batches go to a list instead of being processed: the tests play
    the queue."""

    def __init__(self) -> None:
        self.queue: list[dict] = []

    def hand_off(self, month: str, pass_id: str) -> bool:
        from navigator.service import debit

        debit.dispatch(month, pass_id, self)
        return True

    def send(self, messages: list[dict]) -> None:
        self.queue.extend(messages)


@pytest.fixture
def captured(world):
    dispatcher = Captured()
    world.setattr("debit.app.from_settings", lambda here=False: dispatcher)
    return dispatcher.queue


def dies_after(world, charges: int, why: str):
    """Each charge moves money once: the worker dies on the charge after `charges`."""
    from navigator.store import money

    real = money.move
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > charges:
            raise RuntimeError(why)
        return real(*args, **kwargs)

    world.setattr(money, "move", dying)
    return lambda: world.setattr(money, "move", real)


def test_a_worker_dying_midway_then_retried_charges_everything_once(world, captured):
    from navigator.service import debit

    enrolled(5)
    set_today(world, "2026-10-02")
    assert run("2026-09").body["status"] == "running"
    (batch,) = captured
    revive = dies_after(world, 2, "the worker's container died")
    with pytest.raises(RuntimeError):
        debit.process_batch(batch)
    assert request("GET", "/debit-runs/2026-09", claims=OPERATOR).body["status"] == "running"
    revive()
    debit.process_batch(batch)  # SQS delivers it again
    report = request("GET", "/debit-runs/2026-09", claims=OPERATOR).body
    assert report["status"] == "completed"
    assert (report["charged_count"], report["charged_kopecks"]) == (5, 5 * PRICE)
    assert (report["already_charged_count"], report["failed_count"]) == (0, 0)
    debit.process_batch(batch)  # and once more: a duplicate delivery counts nothing
    assert request("GET", "/debit-runs/2026-09", claims=OPERATOR).body == report


def test_a_post_during_a_run_joins_it(world, captured):
    from navigator.service import debit

    enrolled(3)
    set_today(world, "2026-10-02")
    first = run("2026-09").body
    joined = run("2026-09").body
    assert joined == first and joined["status"] == "running"
    assert len(captured) == 1  # the second POST dispatched nothing
    debit.process_batch(captured[0])
    assert request("GET", "/debit-runs/2026-09", claims=OPERATOR).body["charged_count"] == 3


def test_a_retried_scheduled_event_charges_once(world):
    from debit.dispatch import handler
    from infra.local.workers import LocalLambdaContext

    enrolled(2)
    set_today(world, "2026-10-02")
    # 02:00 on 1 October in Krasnoyarsk is 19:00 UTC on 30 September.
    event = {"scheduled_time": "2026-09-30T19:00:00Z"}
    first = handler(event, LocalLambdaContext("dispatcher", "a"))
    second = handler(event, LocalLambdaContext("dispatcher", "b"))
    assert first["month"] == "2026-09" and first["charged_count"] == 2
    assert second["charged_count"] == 2 and second["charged_kopecks"] == 2 * PRICE


def test_throttling_in_the_middle_of_a_batch_is_retried_without_double_charges(world, captured):
    from navigator.service import debit
    from navigator.store import money

    enrolled(4)
    set_today(world, "2026-10-02")
    run("2026-09")
    (batch,) = captured
    real = money.move
    calls = {"n": 0}

    def throttled_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise StoreUnavailable("ProvisionedThroughputExceededException")
        return real(*args, **kwargs)

    world.setattr(money, "move", throttled_once)
    with pytest.raises(StoreUnavailable):
        debit.process_batch(batch)
    debit.process_batch(batch)
    report = request("GET", "/debit-runs/2026-09", claims=OPERATOR).body
    assert (report["status"], report["charged_count"]) == ("completed", 4)
    assert report["charged_kopecks"] == 4 * PRICE


def test_the_sqs_worker_reports_partial_batch_failures(world, captured):
    from debit.worker import handler
    from infra.local.workers import LocalLambdaContext

    enrolled(2)
    set_today(world, "2026-10-02")
    run("2026-09")
    records = _sqs_records(("m-1", json.dumps(captured[0])), ("m-2", "{not json"))
    result = handler({"Records": records}, LocalLambdaContext("worker", "w"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m-2"}]
    assert request("GET", "/debit-runs/2026-09", claims=OPERATOR).body["charged_count"] == 2


def test_reconciliation_finds_a_tampered_certificate(world):
    from navigator.store.accounts import CertificateItem, get_certificate

    (enrollment,) = enrolled()
    clean = request("GET", "/reconciliation", claims=OPERATOR).body
    assert clean == {"certificates_checked": 1, "mismatches": []}
    cert = get_certificate(enrollment["certificate_id"])
    cert.update(actions=[CertificateItem.balance.add(1)])
    report = request("GET", "/reconciliation", claims=OPERATOR).body
    assert report["certificates_checked"] == 1 and len(report["mismatches"]) >= 2
    assert request("GET", "/reconciliation", claims=PARENT).status == 403
    cert.update(actions=[CertificateItem.balance.add(-1)])


def test_debit_routes_are_for_operators(world):
    assert request("GET", "/debit-runs/2026-09", claims=OPERATOR).status == 404
    assert run_as(PARENT).status == 403
    assert request("GET", "/debit-runs/2026-13", claims=OPERATOR).status == 422


def run_as(claims):
    return request("POST", "/debit-runs", body={"month": "2026-08"}, claims=claims)


def test_a_pass_that_stopped_showing_progress_is_replaced(world, captured):
    from navigator.service import debit
    from navigator.store.runs import RunItem, get_run

    enrolled(2)
    set_today(world, "2026-10-02")
    stuck = run("2026-09").body  # its batches never ran: the dispatcher "died"
    assert run("2026-09").body == stuck  # fresh: a POST joins it
    run_item = get_run("2026-09")
    run_item.update(actions=[RunItem.updated_at.set("2026-10-02T00:00:00.000Z")])
    replaced = run("2026-09").body
    assert replaced["status"] == "running" and replaced["started_at"] != stuck["started_at"]
    assert len(captured) == 2
    debit.process_batch(captured[0])  # the old pass's batch arrives late: it counts nothing
    debit.process_batch(captured[1])
    report = request("GET", "/debit-runs/2026-09", claims=OPERATOR).body
    assert (report["status"], report["charged_count"]) == ("completed", 2)
    assert report["charged_kopecks"] == 2 * PRICE


def test_charges_of_a_batch_that_never_reported_are_counted_by_the_next_pass(world, captured):
    from navigator.service import debit
    from navigator.store.runs import RunItem, get_run

    enrolled(5)
    set_today(world, "2026-10-02")
    run("2026-09")
    revive = dies_after(world, 2, "poison: this batch ends in the dead-letter queue")
    with pytest.raises(RuntimeError):
        debit.process_batch(captured[0])
    revive()
    get_run("2026-09").update(actions=[RunItem.updated_at.set("2026-10-02T00:00:00.000Z")])
    second = run("2026-09").body  # the silent pass is replaced
    # Its starting point: the months the `due` index shows charged. The index may lag behind
    # the dead batch's charges; a month it still shows due is counted by the batch that
    # meets it, so the final report is exact either way.
    assert second["due_count"] == 5
    assert second["charged_count"] == second["already_charged_count"] <= 2
    debit.process_batch(captured[-1])
    report = request("GET", "/debit-runs/2026-09", claims=OPERATOR).body
    assert report["status"] == "completed"
    assert (report["charged_count"], report["charged_kopecks"]) == (5, 5 * PRICE)
    assert (report["due_count"], report["already_charged_count"]) == (5, 2)


def test_batches_hold_25_enrollments_numbered_in_order(world, captured):
    from navigator.service import debit

    enrolled(30)
    set_today(world, "2026-10-02")
    started = run("2026-09").body
    assert [m["batch"] for m in captured] == [0, 1]
    assert [len(m["ids"]) for m in captured] == [25, 5]
    assert len({i for m in captured for i in m["ids"]}) == 30
    assert started["status"] == "running"
    for message in captured:
        debit.process_batch(message)
    report = request("GET", "/debit-runs/2026-09", claims=OPERATOR).body
    assert (report["status"], report["due_count"], report["charged_count"]) == (
        "completed",
        30,
        30,
    )


def _sqs_records(*bodies: tuple[str, str]) -> list[dict]:
    return [
        {
            "messageId": message_id,
            "body": body,
            "receiptHandle": "h",
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "x",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-central-1:000000000000:debit",
            "awsRegion": "eu-central-1",
        }
        for message_id, body in bodies
    ]


def test_an_all_failed_batch_reports_its_item_failures_without_a_function_error(world):
    from debit.worker import handler
    from infra.local.workers import LocalLambdaContext

    records = _sqs_records(("m-1", "{not json"), ("m-2", "[]"))
    # No exception: the errors alarm stays quiet, and both messages return to the queue
    # (then the DLQ and its alarm).
    result = handler({"Records": records}, LocalLambdaContext("worker", "w"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"scheduled_time": ""},
        {"scheduled_time": "<aws.scheduler.scheduled-time>"},
        {"scheduled_time": "not a time"},
        {"scheduled_time": "2026-09-30T19:00:00"},  # no offset
        {"scheduled_time": "2026-12-01T19:00:00Z"},  # after today
        {"scheduled_time": 1759258800},
    ],
)
def test_an_unsubstituted_or_impossible_scheduled_event_is_refused_loudly(world, event, caplog):
    from debit.dispatch import RefusedScheduleEvent, handler
    from infra.local.workers import LocalLambdaContext

    enrolled(1)
    set_today(world, "2026-10-02")
    with caplog.at_level(logging.INFO), pytest.raises(RefusedScheduleEvent):
        handler(event, LocalLambdaContext("dispatcher", "a"))
    (line,) = [r for r in caplog.records if r.getMessage() == "scheduled event refused"]
    assert line.levelname == "ERROR"
    assert request("GET", "/debit-runs/2026-09", claims=OPERATOR).status == 404
    assert request("GET", "/debit-runs/2026-11", claims=OPERATOR).status == 404
