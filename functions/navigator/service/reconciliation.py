"""Reconciliation: every certificate against its ledger and its enrollments' schedules.

For each certificate: nominal = balance + reserved + spent + expired with every term >= 0;
the ledger is numbered 1..n without gaps, every amount is positive, and replaying it gives
the certificate's terms; the pending months' certificate amounts add up to `reserved`.
It reads the whole accounts table (a parallel scan): an operator's check, not a hot path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from navigator.store import accounts
from navigator.store.money import TERMS, Movement, apply


def reconcile() -> dict[str, Any]:
    certificates = accounts.scan_certificates()
    ledger: dict[str, list[Any]] = defaultdict(list)
    for entry in accounts.scan_ledger():
        ledger[entry.certificate_id].append(entry)
    pending: dict[str, int] = defaultdict(int)
    for month in accounts.scan_months():
        if month.status == "pending" and month.certificate_id:
            pending[month.certificate_id] += int(month.certificate_kopecks)
    mismatches = []
    for cert in certificates:
        for problem in certificate_problems(cert, ledger[cert.certificate_id], pending):
            mismatches.append({"certificate_id": cert.certificate_id, "problem": problem})
    return {"certificates_checked": len(certificates), "mismatches": mismatches}


def certificate_problems(cert: Any, entries: list[Any], pending: dict[str, int]) -> list[str]:
    state = {t: int(getattr(cert, t)) for t in TERMS}
    out = []
    if any(v < 0 for v in state.values()):
        out.append(f"a negative term: {state}")
    if cert.status == "expired" and state["balance"] != 0:
        out.append(f"expired with a balance of {state['balance']}")
    if int(cert.nominal) != sum(state.values()):
        out.append(f"nominal {int(cert.nominal)} is not the sum of the terms {state}")
    entries = sorted(entries, key=lambda e: int(e.seq))
    seqs = [int(e.seq) for e in entries]
    if seqs != list(range(1, len(seqs) + 1)) or len(seqs) != int(cert.seq):
        out.append(f"ledger numbers {seqs} do not run 1..{int(cert.seq)} without gaps")
    if any(int(e.amount_kopecks) <= 0 for e in entries):
        out.append("a ledger amount is not positive")
    replayed = apply(
        {t: 0 for t in TERMS}, [Movement(e.type, int(e.amount_kopecks)) for e in entries]
    )
    if replayed != state:
        out.append(f"the ledger replays to {replayed}, the certificate holds {state}")
    if pending[cert.certificate_id] != state["reserved"]:
        out.append(
            f"pending months add up to {pending[cert.certificate_id]}, "
            f"reserved is {state['reserved']}"
        )
    return out
