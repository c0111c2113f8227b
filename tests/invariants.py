"""The invariant checker: run after every scenario that moves money.

For every certificate: nominal = balance + reserved + spent + expired, every term >= 0; its
ledger is numbered 1..n without gaps and replays to its state; the certificate amounts of its
enrollments' pending months add up to `reserved`. For every program: the seats taken equal its
active enrollments and never exceed the capacity.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from navigator.store.accounts import CertificateItem, EnrollmentItem, LedgerItem, MonthItem
from navigator.store.catalog import SeatsItem
from navigator.store.money import TERMS, Movement, apply


def _scan(model: Any, prefix: str, sk: str | None = None) -> list[Any]:
    condition = model.pk.startswith(prefix)
    if sk is not None:
        condition &= model.sk == sk
    return list(model.scan(condition))


def violations() -> list[str]:
    problems: list[str] = []
    certificates = _scan(CertificateItem, "CERT#", "CERT")
    ledger: dict[str, list[Any]] = defaultdict(list)
    for entry in _scan(LedgerItem, "CERT#"):
        if entry.sk.startswith("SEQ#"):
            ledger[entry.certificate_id].append(entry)
    pending: dict[str, int] = defaultdict(int)
    for month in _scan(MonthItem, "ENR#"):
        if month.sk.startswith("M#") and month.status == "pending" and month.certificate_id:
            pending[month.certificate_id] += int(month.certificate_kopecks)
    for cert in certificates:
        problems += _certificate_problems(cert, ledger[cert.certificate_id], pending)
    problems += _seat_problems()
    return problems


def _certificate_problems(cert: Any, entries: list[Any], pending: dict[str, int]) -> list[str]:
    cid = cert.certificate_id
    state = {t: int(getattr(cert, t)) for t in TERMS}
    out = []
    if any(v < 0 for v in state.values()):
        out.append(f"{cid}: negative term {state}")
    if int(cert.nominal) != sum(state.values()):
        out.append(f"{cid}: nominal {int(cert.nominal)} != sum of terms {state}")
    entries.sort(key=lambda e: int(e.seq))
    seqs = [int(e.seq) for e in entries]
    if seqs != list(range(1, len(seqs) + 1)) or len(seqs) != int(cert.seq):
        out.append(f"{cid}: ledger seq {seqs} vs certificate seq {int(cert.seq)}")
    if any(int(e.amount_kopecks) <= 0 for e in entries):
        out.append(f"{cid}: a ledger amount is not positive")
    replayed = apply(
        {t: 0 for t in TERMS}, [Movement(e.type, int(e.amount_kopecks)) for e in entries]
    )
    if replayed != state:
        out.append(f"{cid}: ledger replays to {replayed}, certificate holds {state}")
    if pending[cid] != state["reserved"]:
        out.append(f"{cid}: pending months sum {pending[cid]} != reserved {state['reserved']}")
    return out


def _seat_problems() -> list[str]:
    active: dict[str, int] = defaultdict(int)
    for head in _scan(EnrollmentItem, "ENR#", "ENR"):
        if head.status == "active":
            active[head.program_id] += 1
    out = []
    for seats in _scan(SeatsItem, "PROGRAM#", "SEATS"):
        taken, cap = int(seats.taken), int(seats.capacity)
        if taken != active[seats.program_id] or int(seats.active) != taken or taken > cap:
            out.append(
                f"{seats.program_id}: taken {taken}, active counter {int(seats.active)}, "
                f"active enrollments {active[seats.program_id]}, capacity {cap}"
            )
    return out


def assert_invariants() -> None:
    problems = violations()
    assert not problems, "\n".join(problems)
