"""Reconciliation: every certificate against its ledger and its enrollments' schedules.

For each certificate: nominal = balance + reserved + spent + expired with every term >= 0;
the ledger is numbered 1..n without gaps, every amount is positive, and replaying it gives
the certificate's terms; the pending months' certificate amounts add up to `reserved`.
It reads the whole accounts table (a parallel scan): an operator's check, not a hot path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from navigator.domain.payers import REGION
from navigator.store import accounts, budgets
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
    nominals = budget_nominals()
    mismatches = []
    for cert in certificates:
        problems = certificate_problems(cert, ledger[cert.certificate_id], pending)
        problems += certificate_budget_problems(cert, nominals)
        for problem in problems:
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


# ------------------------------------------------------------------ budgets

Nominals = dict[tuple[str, str], dict[int, int]]


def budget_nominals() -> Nominals:
    """(payer, period) -> the nominal each version of its budget set."""
    return budgets.every_budget_nominals()


def certificate_budget_problems(cert: Any, nominals: Nominals) -> list[str]:
    """A certificate issued under a budget has the nominal that budget had at its issue."""
    if cert.budget_version is None:
        return []
    payer_id = cert.payer_id or REGION
    version = int(cert.budget_version)
    at_issue = nominals.get((payer_id, cert.period_id), {}).get(version)
    if at_issue is None:
        return [f"issued under version {version} of {payer_id}'s budget, which has no record"]
    if at_issue != int(cert.nominal):
        return [f"nominal {int(cert.nominal)}, but {payer_id}'s budget then gave {at_issue}"]
    return []


def budget_count_problems(budget: budgets.Budget, certificates: list[Any]) -> list[str]:
    """A budget's count equals the certificates issued under it, and its nominals' sum; what is
    left and what is issued add up to the limit. `certificates`: those issued under it."""
    out = []
    if budget.issued != len(certificates):
        out.append(f"{budget.issued} certificates counted, {len(certificates)} issued under it")
    committed = sum(int(c.nominal) for c in certificates)
    if budget.committed != committed:
        out.append(f"{budget.committed} kopecks committed, its certificates hold {committed}")
    if budget.issued + budget.left != budget.certificate_limit or budget.left < 0:
        out.append(
            f"issued {budget.issued} and left {budget.left} do not make the limit "
            f"{budget.certificate_limit}"
        )
    return out


def budget_mismatches(certificates: list[Any] | None = None) -> list[dict[str, Any]]:
    """Every budget checked against the certificates issued under it."""
    if certificates is None:
        certificates = accounts.scan_certificates()
    under: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for cert in certificates:
        if cert.budget_version is not None:
            under[(cert.payer_id or REGION, cert.period_id)].append(cert)
    out = []
    for budget in budgets.every_budget():
        key = (budget.payer_id, budget.period_id)
        for problem in budget_count_problems(budget, under.pop(key, [])):
            out.append(
                {"payer_id": budget.payer_id, "period_id": budget.period_id, "problem": problem}
            )
    for (payer_id, period_id), orphans in under.items():
        out.append(
            {
                "payer_id": payer_id,
                "period_id": period_id,
                "problem": f"{len(orphans)} certificates issued under a budget that does not exist",
            }
        )
    return out
