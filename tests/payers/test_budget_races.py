"""Races for a budget's last certificates, in real threads against the embedded DynamoDB server
(moto in-process is not thread-safe; the server serializes requests as DynamoDB serializes
conditional writes)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from navigator.domain.errors import Conflict
from navigator.identity import Caller
from tests.support.invariants import assert_invariants
from tests.support.money import new_snils
from tests.support.races import race_program

ROUNDS = 10
FAMILIES = 40
PARENT = Caller("budget-race-parent", frozenset({"parents"}), None)


def _given_a_payer_with(left: int, round_no: int) -> tuple[str, str]:
    """A payer of its own municipality with `left` certificates, and a program with room."""
    from navigator.service import payers

    municipality = f"Город {round_no}"
    payer_id = f"race-payer-{round_no}"
    payers.put_payer(payer_id, "Управление образования", "2466012340", [municipality], 80)
    payers.put_budget(payer_id, "2026-2027", 2_000_000, left)
    return payer_id, municipality


def _children(municipality: str) -> list[str]:
    from navigator.service import children

    return [
        str(
            children.register_child(
                PARENT, "Сидорова Анна", "2015-03-03", new_snils(), municipality
            )["child_id"]
        )
        for _ in range(FAMILIES)
    ]


def _attempt(child_id: str, program_id: str) -> str:
    from navigator.service import enrollments

    try:
        enrollments.enroll(PARENT, child_id, program_id, accept_copay=True)
    except Conflict as refusal:
        return refusal.code
    return "enrolled"


def _race(left: int) -> list[tuple[Counter[str], dict]]:
    from navigator.service.views import budget_view
    from navigator.store.budgets import read_budget

    results = []
    for round_no in range(ROUNDS):
        payer_id, municipality = _given_a_payer_with(left, round_no)
        program = race_program(capacity=FAMILIES, title=f"Кружок {round_no}")
        families = _children(municipality)
        with ThreadPoolExecutor(max_workers=FAMILIES) as pool:
            outcomes = Counter(pool.map(lambda c, p=program: _attempt(c, p), families))
        budget = read_budget(payer_id, "2026-2027")
        assert budget is not None
        results.append((outcomes, budget_view(budget)))
    return results


@pytest.mark.parametrize("left, refused", [(25, 15), (40, 0)])
def test_forty_first_enrollments_get_exactly_the_certificates_left(server, left, refused):
    """Given a payer with `left` certificates, when 40 of its children first enroll at once,
    then exactly min(40, left) get one and the others are refused no_certificates_left; ten
    rounds, each with its own payer."""
    from navigator.store.accounts import scan_certificates

    for outcomes, budget in _race(left):
        expected = Counter({"enrolled": FAMILIES - refused})
        if refused:
            expected["no_certificates_left"] = refused
        assert outcomes == expected
        assert budget["certificates_issued"] == FAMILIES - refused
        assert budget["certificates_left"] == left - (FAMILIES - refused)
        assert budget["nominal_committed_kopecks"] == (FAMILIES - refused) * 2_000_000
    issued = Counter(
        c.payer_id for c in scan_certificates() if c.payer_id and c.payer_id != "region"
    )
    assert issued == Counter({f"race-payer-{n}": FAMILIES - refused for n in range(ROUNDS)})
    assert_invariants()
