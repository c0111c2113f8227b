"""The invariant checker: run after every scenario that moves money.

Every certificate passes reconciliation (navigator.service.reconciliation: the terms add up
to the nominal and stay >= 0, the ledger is gapless and replays to the state, pending months
add up to the reserve), and every program's seats taken equal its active enrollments and
never exceed its capacity.
"""

from __future__ import annotations

from collections import defaultdict

from navigator.service.reconciliation import reconcile
from navigator.store import accounts, catalog


def seat_problems() -> list[str]:
    active: dict[str, int] = defaultdict(int)
    for head in accounts.scan_enrollments():
        if head.status == "active":
            active[head.program_id] += 1
    out = []
    for seats in catalog.scan_seats():
        taken, cap = int(seats.taken), int(seats.capacity)
        if taken != active[seats.program_id] or int(seats.active) != taken or taken > cap:
            out.append(
                f"{seats.program_id}: taken {taken}, active counter {int(seats.active)}, "
                f"active enrollments {active[seats.program_id]}, capacity {cap}"
            )
    return out


def violations() -> list[str]:
    report = reconcile()
    return [f"{m['certificate_id']}: {m['problem']}" for m in report["mismatches"]] + (
        seat_problems()
    )


def assert_invariants() -> None:
    problems = violations()
    assert not problems, "\n".join(problems)
