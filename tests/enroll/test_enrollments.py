"""Enrollment with the automatic certificate, the reserve and its schedule, withdrawal,
completeness and reading, each ending with the invariant checker."""

from __future__ import annotations

import pytest

from tests.support.api import OPERATOR, OTHER_PARENT, PARENT, provider, request
from tests.support.money import (
    NOMINAL,
    enroll,
    open_period,
    publish,
    register_child,
    set_today,
)


def test_first_enrollment_issues_a_certificate_and_reserves_the_course(world):
    child = register_child()
    program = publish(price_per_month_kopecks=200_000)
    reply = enroll(child, program)
    assert reply.status == 201, reply.body
    body = reply.body
    assert (body["start_month"], body["end_month"]) == ("2026-09", "2027-05")
    assert body["certificate_total_kopecks"] == 9 * 200_000
    assert body["copay_total_kopecks"] == 0
    assert [m["certificate_kopecks"] for m in body["schedule"]] == [200_000] * 9
    assert {m["status"] for m in body["schedule"]} == {"pending"}
    cert = body["certificate"]
    assert cert["nominal_kopecks"] == NOMINAL
    assert cert["balance_kopecks"] == NOMINAL - 1_800_000
    assert cert["reserved_kopecks"] == 1_800_000
    assert (cert["valid_from"], cert["valid_to"]) == ("2026-09-01", "2027-08-31")
    ledger = request("GET", f"/certificates/{cert['certificate_id']}/ledger", claims=PARENT)
    assert [(e["seq"], e["type"], e["amount_kopecks"]) for e in ledger.body["items"]] == [
        (1, "issue", NOMINAL),
        (2, "reserve", 1_800_000),
    ]


def test_the_second_program_uses_the_same_certificate_and_asks_for_the_copay(world):
    child = register_child()
    enroll(child, publish(price_per_month_kopecks=200_000))
    expensive = publish(title="Робототехника", price_per_month_kopecks=300_000)
    refused = enroll(child, expensive)
    assert (refused.status, refused.code) == (409, "copay_required")
    assert refused.body["error"]["details"] == {
        "certificate_total_kopecks": 1_200_000,
        "copay_total_kopecks": 9 * 300_000 - 1_200_000,
    }
    accepted = enroll(child, expensive, accept_copay=True)
    assert accepted.status == 201
    amounts = [m["certificate_kopecks"] for m in accepted.body["schedule"]]
    # 1,200,000 over 9 months: 133,333 each, the first 3 months one kopeck more.
    assert amounts == [133_334] * 3 + [133_333] * 6
    assert [m["copay_kopecks"] for m in accepted.body["schedule"]][:4] == [166_666] * 3 + [166_667]
    assert accepted.body["certificate"]["balance_kopecks"] == 0
    certificates = request("GET", "/certificates", claims=PARENT).body["items"]
    assert len(certificates) == 1


def test_a_free_program_reserves_nothing_and_issues_no_certificate(world):
    child = register_child()
    program = publish(funding="free", price_per_month_kopecks=0)
    reply = enroll(child, program)
    assert reply.status == 201
    assert reply.body["certificate"] is None and reply.body["certificate_id"] is None
    assert {m["certificate_kopecks"] for m in reply.body["schedule"]} == {0}
    assert request("GET", "/certificates", claims=PARENT).body["items"] == []


def test_one_active_enrollment_per_child_and_program(world):
    child = register_child()
    program = publish()
    assert enroll(child, program).status == 201
    again = enroll(child, program)
    assert (again.status, again.code) == (409, "already_enrolled")


def test_unknown_objects_are_404_and_another_parents_child_is_403(world):
    child = register_child()
    program = publish()
    assert enroll(child, "prg-nope").status == 404
    assert enroll("ch-nope", program).status == 404
    draft = publish(status="draft")
    assert enroll(child, draft).status == 404
    other = enroll(child, program, parent=OTHER_PARENT)
    assert other.status == 403


@pytest.mark.parametrize(
    "program,birth_date,expected",
    [
        ({"start_month": "2025-09", "end_month": "2026-05"}, "2016-01-01", "program_ended"),
        ({"start_month": "2027-09", "end_month": "2028-05"}, "2016-01-01", "no_active_period"),
        ({"age_min": 12, "age_max": 14}, "2016-01-01", "age_not_eligible"),
        ({"age_min": 0, "age_max": 18}, "2023-01-01", "age_not_eligible"),  # under 5: no cert
        ({"capacity": 1}, "2016-01-01", "no_seats"),
        # Several apply at once: the first in DESIGN.md's order answers.
        (
            {"start_month": "2025-09", "end_month": "2026-05", "capacity": 1},
            "2023-01-01",
            "program_ended",
        ),
        ({"age_min": 12, "age_max": 14, "capacity": 1}, "2016-01-01", "age_not_eligible"),
        ({"capacity": 1, "price_per_month_kopecks": 900_000}, "2016-01-01", "no_seats"),
    ],
)
def test_refusals_answer_in_designs_order(world, program, birth_date, expected):
    program_id = publish(**program)
    if program.get("capacity") == 1:
        assert enroll(
            register_child(OTHER_PARENT), program_id, parent=OTHER_PARENT, accept_copay=True
        ).status in (201, 409)
    reply = enroll(register_child(birth_date=birth_date), program_id)
    assert (reply.status, reply.code) == (409, expected)


def test_free_program_admits_the_ages_of_its_own_range(world):
    toddler = register_child(birth_date="2023-01-01")
    program = publish(funding="free", price_per_month_kopecks=0, age_min=3, age_max=5)
    assert enroll(toddler, program).status == 201


def test_the_course_ends_with_the_period(world):
    open_period("2027-2028", "2027-09-01", "2028-08-31")
    child = register_child()
    program = publish(start_month="2027-06", end_month="2027-12")
    reply = enroll(child, program)
    assert (reply.body["start_month"], reply.body["end_month"]) == ("2027-06", "2027-08")


def test_withdrawal_keeps_this_month_and_releases_the_rest(world, monkeypatch):
    child = register_child()
    enrollment = enroll(child, publish(capacity=3)).body
    set_today(monkeypatch, "2026-10-10")
    path = f"/enrollments/{enrollment['enrollment_id']}/withdraw"
    reply = request("POST", path, claims=PARENT)
    assert reply.status == 200 and reply.body["status"] == "withdrawn"
    statuses = {m["month"]: m["status"] for m in reply.body["schedule"]}
    assert statuses["2026-09"] == statuses["2026-10"] == "pending"
    assert {s for m, s in statuses.items() if m > "2026-10"} == {"cancelled"}
    cert_id = enrollment["certificate_id"]
    cert = request("GET", f"/certificates/{cert_id}", claims=PARENT).body
    assert cert["reserved_kopecks"] == 2 * 200_000
    assert cert["balance_kopecks"] == NOMINAL - 2 * 200_000
    ledger = request("GET", f"/certificates/{cert_id}/ledger", claims=PARENT).body["items"]
    assert ledger[-1]["type"] == "release" and ledger[-1]["amount_kopecks"] == 7 * 200_000
    again = request("POST", path, claims=PARENT)
    assert again.status == 200 and again.body == reply.body
    assert len(request("GET", f"/certificates/{cert_id}/ledger", claims=PARENT).body["items"]) == 3


def test_withdrawal_before_the_start_cancels_every_month(world):
    child = register_child()
    enrollment = enroll(child, publish(start_month="2027-01", end_month="2027-05")).body
    reply = request("POST", f"/enrollments/{enrollment['enrollment_id']}/withdraw", claims=PARENT)
    assert {m["status"] for m in reply.body["schedule"]} == {"cancelled"}
    cert = request("GET", f"/certificates/{enrollment['certificate_id']}", claims=PARENT).body
    assert (cert["balance_kopecks"], cert["reserved_kopecks"]) == (NOMINAL, 0)


def test_withdrawal_frees_the_seat_and_a_new_contract_starts_after_the_old_one(world, monkeypatch):
    child = register_child()
    program = publish(capacity=1)
    first = enroll(child, program).body
    set_today(monkeypatch, "2026-10-10")
    request("POST", f"/enrollments/{first['enrollment_id']}/withdraw", claims=PARENT)
    assert request("GET", f"/programs/{program}").body["seats_left"] == 1
    again = enroll(child, program)
    assert again.status == 201
    assert again.body["start_month"] == "2026-11"


def test_only_the_parent_withdraws(world):
    enrollment = enroll(register_child(), publish()).body
    path = f"/enrollments/{enrollment['enrollment_id']}/withdraw"
    assert request("POST", path, claims=OTHER_PARENT).status == 403
    assert request("POST", path, claims=provider("p1")).status == 403
    assert request("POST", path, claims=OPERATOR).status == 403
    assert request("POST", "/enrollments/enr-nope/withdraw", claims=PARENT).status == 404


def test_completeness_is_reported_by_the_programs_provider_on_pending_months(world, monkeypatch):
    enrollment = enroll(register_child(), publish("p1", start_month="2026-09")).body
    base = f"/enrollments/{enrollment['enrollment_id']}/completeness"
    ok = request("PUT", f"{base}/2026-09", body={"percent": 80}, claims=provider("p1"))
    assert ok.status == 200
    assert ok.body["schedule"][0]["completeness_percent"] == 80
    assert (
        request("PUT", f"{base}/2026-09", body={"percent": 80}, claims=provider("p2")).status == 403
    )
    assert (
        request("PUT", f"{base}/2030-01", body={"percent": 80}, claims=provider("p1")).status == 404
    )
    assert (
        request("PUT", f"{base}/2026-09", body={"percent": 101}, claims=provider("p1")).status
        == 422
    )
    assert request("PUT", f"{base}/2026-09", body={"percent": 80}, claims=PARENT).status == 403
    set_today(monkeypatch, "2026-10-10")
    request("POST", f"/enrollments/{enrollment['enrollment_id']}/withdraw", claims=PARENT)
    cancelled = request("PUT", f"{base}/2027-01", body={"percent": 50}, claims=provider("p1"))
    assert (cancelled.status, cancelled.code) == (409, "month_cancelled")


def test_a_debited_month_is_closed_to_reports(world):
    from navigator.store.accounts import MonthItem, enrollment_key, month_sk

    enrollment = enroll(
        register_child(), publish("p1", price_per_month_kopecks=0, funding="free")
    ).body
    month = MonthItem.get(enrollment_key(enrollment["enrollment_id"]), month_sk("2026-09"))
    month.update(actions=[MonthItem.status.set("charged")])
    base = f"/enrollments/{enrollment['enrollment_id']}/completeness"
    reply = request("PUT", f"{base}/2026-09", body={"percent": 50}, claims=provider("p1"))
    assert (reply.status, reply.code) == (409, "month_already_debited")


def test_reading_is_limited_to_the_parties(world):
    child = register_child()
    program = publish("p1")
    enrollment = enroll(child, program).body
    eid, cid = enrollment["enrollment_id"], enrollment["certificate_id"]
    assert request("GET", f"/enrollments/{eid}", claims=PARENT).status == 200
    assert request("GET", f"/enrollments/{eid}", claims=provider("p1")).status == 200
    assert request("GET", f"/enrollments/{eid}", claims=OPERATOR).status == 200
    assert request("GET", f"/enrollments/{eid}", claims=OTHER_PARENT).status == 403
    assert request("GET", f"/enrollments/{eid}", claims=provider("p2")).status == 403
    assert request("GET", f"/certificates/{cid}", claims=OTHER_PARENT).status == 403
    assert request("GET", f"/certificates/{cid}/ledger", claims=OTHER_PARENT).status == 403
    assert request("GET", "/enrollments", claims=OTHER_PARENT).body["items"] == []
    mine = request("GET", "/enrollments", claims=PARENT, query={"child_id": child}).body
    assert [e["enrollment_id"] for e in mine["items"]] == [eid]
    assert request("GET", f"/programs/{program}/enrollments", claims=provider("p2")).status == 403
    roster = request("GET", f"/programs/{program}/enrollments", claims=provider("p1")).body
    assert [e["enrollment_id"] for e in roster["items"]] == [eid]
    assert request("GET", f"/programs/{program}/enrollments", claims=OPERATOR).status == 200


def test_the_ledger_pages_oldest_first(world):
    child = register_child()
    for n in range(3):
        enroll(child, publish(title=f"Кружок {n}", price_per_month_kopecks=10_000))
    cert = request("GET", "/certificates", claims=PARENT).body["items"][0]["certificate_id"]
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = request("GET", f"/certificates/{cert}/ledger", claims=PARENT, query=query).body
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [1, 2, 3, 4]


def test_idempotency_key_replays_the_first_answer(world):
    child = register_child()
    program = publish()
    first = enroll(child, program, key="k-1")
    again = enroll(child, program, key="k-1")
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    other_body = enroll(child, publish(title="Другой"), key="k-1")
    assert (other_body.status, other_body.code) == (409, "idempotency_key_reused")
    assert len(request("GET", "/enrollments", claims=PARENT).body["items"]) == 1


def test_idempotency_replays_refusals_and_is_scoped_to_the_caller(world):
    child = register_child()
    program = publish(price_per_month_kopecks=900_000)
    refused = enroll(child, program, key="k-2")
    assert refused.code == "copay_required"
    assert enroll(child, program, key="k-2").body == refused.body
    other_parent_same_key = enroll(
        register_child(OTHER_PARENT), program, parent=OTHER_PARENT, key="k-2", accept_copay=True
    )
    assert other_parent_same_key.status == 201


def test_a_retry_while_the_first_is_in_flight_is_409(world):
    from navigator.api import idempotency
    from navigator.domain.errors import Conflict

    def work():
        with pytest.raises(Conflict) as inner:
            idempotency.run_once("k-3", "parent-1", {"a": 1}, None, lambda: ({}, 201))
        assert inner.value.code == "request_in_progress"
        return {"done": True}, 201

    assert idempotency.run_once("k-3", "parent-1", {"a": 1}, None, work) == ({"done": True}, 201)


def test_the_idempotency_key_header_is_case_insensitive_and_validated(world):
    child = register_child()
    program = publish()
    body = {"child_id": child, "program_id": program}
    first = request(
        "POST", "/enrollments", body=body, claims=PARENT, headers={"IDEMPOTENCY-KEY": "k-case"}
    )
    again = request(
        "POST", "/enrollments", body=body, claims=PARENT, headers={"idempotency-key": "k-case"}
    )
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    empty = request(
        "POST", "/enrollments", body=body, claims=PARENT, headers={"Idempotency-Key": ""}
    )
    assert (empty.status, empty.code) == (422, "validation_error")
    assert empty.body["error"]["details"]["fields"][0]["field"].lower() == "idempotency-key"
    too_long = request(
        "POST", "/enrollments", body=body, claims=PARENT, headers={"Idempotency-Key": "k" * 256}
    )
    assert (too_long.status, too_long.code) == (422, "validation_error")
