"""Races: many enrollments at once against the embedded DynamoDB server, in real threads.

moto in-process is not thread-safe, so these run against the embedded server, which
serializes requests as DynamoDB serializes conditional writes.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from navigator.domain.errors import Conflict
from tests.support.races import PARENT, race_child, race_program


def _attempt(child_id: str, program_id: str, accept_copay: bool = True) -> str:
    from navigator.service import enrollments

    try:
        enrollments.enroll(PARENT, child_id, program_id, accept_copay=accept_copay)
    except Conflict as refusal:
        return refusal.code
    return "enrolled"


def test_last_seats_go_to_exactly_as_many_children_as_there_are_seats(server):
    from navigator.store.catalog import get_seats

    program = race_program(capacity=5)
    families = [race_child() for _ in range(16)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = Counter(pool.map(lambda c: _attempt(c, program), families))
    assert outcomes == Counter({"enrolled": 5, "no_seats": 11})
    assert int(get_seats(program).taken) == 5


def test_concurrent_first_enrollments_issue_exactly_one_certificate(server):
    from navigator.store.accounts import certificates_of_parent

    programs = [race_program(capacity=10, price=50_000, title=f"Кружок {n}") for n in range(4)]
    child = race_child()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = Counter(pool.map(lambda p: _attempt(child, p), programs))
    assert outcomes == Counter({"enrolled": 4})
    certificates = certificates_of_parent(PARENT.sub)
    assert len(certificates) == 1
    assert int(certificates[0].seq) == 5  # issue + four reserves, numbered without gaps
    assert int(certificates[0].reserved) == 4 * 9 * 50_000


def test_the_same_child_clicking_many_times_is_enrolled_once(server):
    program = race_program(capacity=10)
    child = race_child()
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(lambda _: _attempt(child, program), range(8)))
    assert outcomes == Counter({"enrolled": 1, "already_enrolled": 7})


def test_a_certificate_never_goes_negative_when_contracts_race_for_its_balance(server):
    from navigator.store.accounts import certificates_of_parent

    # Each course costs 1,800,000 of a 3,000,000 nominal: the second gets what is left.
    programs = [race_program(capacity=10, price=200_000, title=f"Дорогой {n}") for n in range(4)]
    child = race_child()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = Counter(pool.map(lambda p: _attempt(child, p), programs))
    assert outcomes == Counter({"enrolled": 4})
    cert = certificates_of_parent(PARENT.sub)[0]
    assert int(cert.balance) == 0 and int(cert.reserved) == 3_000_000


def _click(child_id: str, program_id: str) -> str:
    """A parent's click without the co-payment consent."""
    return _attempt(child_id, program_id, accept_copay=False)


ROUNDS = 20


def test_a_double_click_that_enrolls_once_answers_already_enrolled_to_every_other_click(server):
    # 9 months at 200,000 fit the 3,000,000 nominal, but not twice: a click that saw the
    # first click's balance without its lock would answer copay_required.
    for _ in range(ROUNDS):
        program = race_program(capacity=10, price=200_000)
        child = race_child()
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = Counter(pool.map(_click, [child] * 8, [program] * 8))
        assert outcomes == Counter({"enrolled": 1, "already_enrolled": 7})


def test_clicks_for_the_last_seat_are_never_told_to_pay_what_no_serial_order_asks(server):
    # One seat left. A double-clicking family that can afford one contract, and four other
    # families: serially the seat goes once, every other click of the winner's family is
    # already_enrolled and every other family's is no_seats; never copay_required.
    for _ in range(ROUNDS):
        program = race_program(capacity=1, price=200_000)
        clicker, *others = [race_child() for _ in range(5)]
        attempts = [clicker] * 6 + others
        with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
            outcomes = list(
                zip(attempts, pool.map(_click, attempts, [program] * len(attempts)), strict=True)
            )
        assert Counter(outcome for _, outcome in outcomes)["enrolled"] == 1
        winner = next(c for c, outcome in outcomes if outcome == "enrolled")
        for child, outcome in outcomes:
            if outcome == "enrolled":
                continue
            expected = "already_enrolled" if child == winner else "no_seats"
            assert outcome == expected, (child == clicker, outcome)
