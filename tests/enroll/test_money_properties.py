"""Random sequences of enrollments, withdrawals, reports, month changes and debits keep
every invariant (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from navigator.domain.calendar import add_months
from tests.support.api import OPERATOR, PARENT, provider, request
from tests.support.invariants import violations
from tests.support.money import (
    enroll,
    open_period,
    publish,
    register_child,
    register_provider,
    set_today,
)

_world_ids = itertools.count()

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("enroll"), st.integers(0, 2), st.integers(0, 2), st.booleans()),
        st.tuples(st.just("withdraw"), st.integers(0, 5)),
        st.tuples(st.just("report"), st.integers(0, 5), st.integers(0, 100)),
        st.tuples(st.just("next_month")),
        st.tuples(st.just("debit")),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_any_sequence_keeps_the_books_straight(aws, monkeypatch, steps):
    world = next(_world_ids)
    today = "2026-09-10"
    set_today(monkeypatch, today)
    if world == 0:
        open_period()
        register_provider("p1")
    prices = [150_000, 400_000, 0]
    programs = [
        publish(
            title=f"Кружок {world}-{n}",
            price_per_month_kopecks=price,
            funding="certificate" if price else "free",
            capacity=2,
        )
        for n, price in enumerate(prices)
    ]
    children = [register_child() for _ in range(3)]
    enrollments: list[str] = []
    for step in steps:
        today = _apply(step, programs, children, enrollments, today, monkeypatch)
        assert request("GET", "/programs", query={"limit": "1"}).status == 200
    problems = violations()
    assert not problems, "\n".join(problems)


def _apply(step, programs, children, enrollments, today, monkeypatch) -> str:
    kind = step[0]
    if kind == "enroll":
        reply = enroll(children[step[1]], programs[step[2]], accept_copay=step[3])
        assert reply.status in (201, 409), reply.body
        if reply.status == 201:
            enrollments.append(reply.body["enrollment_id"])
    elif kind == "withdraw" and enrollments:
        eid = enrollments[step[1] % len(enrollments)]
        assert request("POST", f"/enrollments/{eid}/withdraw", claims=PARENT).status == 200
    elif kind == "report" and enrollments:
        eid = enrollments[step[1] % len(enrollments)]
        month = today[:7]
        reply = request(
            "PUT",
            f"/enrollments/{eid}/completeness/{month}",
            body={"percent": step[2]},
            claims=provider("p1"),
        )
        assert reply.status in (200, 404, 409), reply.body
    elif kind == "next_month":
        today = f"{add_months(today[:7], 1)}-10"
        set_today(monkeypatch, today)
    elif kind == "debit":
        month = add_months(today[:7], -1)
        if month >= "2026-09":
            reply = request("POST", "/debit-runs", body={"month": month}, claims=OPERATOR)
            assert reply.status == 202, reply.body
    return today
