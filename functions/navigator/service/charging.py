"""The charge of one item of a month's debit: an enrollment month, or a certificate's expiry.

Each (enrollment, month) is charged at most once: the month's own item moves from `pending`
to `charged` under a condition, in the same transaction as the certificate and its ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from navigator.domain import enrollment as rules
from navigator.domain.calendar import now_utc_iso
from navigator.domain.errors import NotFound
from navigator.store import accounts, money
from navigator.store.accounts import EnrollmentItem, MonthItem
from navigator.store.base import Cancelled, Contended, Transaction, retrying
from navigator.store.money import Movement


class Result(StrEnum):
    CHARGED = "charged"  # by this pass (now, or on an earlier attempt of it)
    ALREADY = "already"  # by an earlier pass (the amounts it charged and released)
    SKIPPED = "skipped"  # nothing to charge: cancelled, free, or not in the schedule
    FAILED = "failed"  # the enrollment is gone, or kept changing: the next pass tries again


@dataclass(frozen=True)
class Outcome:
    result: Result
    charged_kopecks: int = 0
    released_kopecks: int = 0


SKIPPED = Outcome(Result.SKIPPED)


def charge(enrollment_id: str, month: str, pass_id: str) -> Outcome:
    """Charge the month of one enrollment (and complete it if it ends there)."""

    def attempt() -> Outcome:
        head, months = accounts.get_enrollment(enrollment_id)
        target = next((m for m in months if m.month == month), None)
        settled = _settled(target, pass_id)
        ends_here = head.status == "active" and head.end_month == month
        if settled is None and target is not None:  # (a month not in the schedule is SKIPPED)
            return _charge_once(head, target, pass_id, ends_here)  # Cancelled: read again
        if ends_here:
            _complete(head)
        return settled or SKIPPED

    try:
        return retrying(attempt, what="The enrollment")
    except (NotFound, Contended):
        return Outcome(Result.FAILED)


def _settled(target: MonthItem | None, pass_id: str) -> Outcome | None:
    """The outcome of a month that needs no charge now, or None if it is to be charged."""
    if target is None or target.status == "cancelled" or not target.certificate_id:
        return SKIPPED
    if target.status == "charged":
        charged = int(target.charged_kopecks)
        released = int(target.certificate_kopecks) - charged
        if target.charged_pass == pass_id:  # this pass charged it, on an earlier attempt
            return Outcome(Result.CHARGED, charged, released)
        return Outcome(Result.ALREADY, charged, released)
    return None


def _charge_once(head: EnrollmentItem, target: MonthItem, pass_id: str, ends_here: bool) -> Outcome:
    amount = int(target.certificate_kopecks)
    charged = rules.charge_for(amount, int(target.completeness_percent))
    released = amount - charged
    certificate = accounts.get_certificate(str(target.certificate_id))
    tx = Transaction()
    accounts.charge_month(tx, target, charged, pass_id)
    movements = [
        Movement("debit", charged, head.enrollment_id, target.month),
        Movement("release", released, head.enrollment_id, target.month),
    ]
    if certificate.status == "expired":
        movements.append(Movement("expire", released, head.enrollment_id, target.month))
    money.move(tx, certificate, movements, now_utc_iso())
    if ends_here:
        accounts.end_enrollment(tx, head, "completed", head.end_month)
    tx.commit()
    return Outcome(Result.CHARGED, charged, released)


def _complete(head: EnrollmentItem) -> None:
    """An enrollment whose last month needs no charge (free, or charged before) completes."""
    tx = Transaction()
    accounts.end_enrollment(tx, head, "completed", head.end_month)
    try:
        tx.commit()
    except Cancelled:
        pass  # completed by another attempt meanwhile


def expire_certificate(certificate_id: str) -> None:
    """The period is over: what is left on the balance expires, and so does the certificate."""

    def attempt() -> None:
        certificate = accounts.get_certificate(certificate_id)
        if certificate.status == "expired":
            return
        tx = Transaction()
        movement = Movement("expire", int(certificate.balance))
        money.move(tx, certificate, [movement], now_utc_iso(), expire=True)
        tx.commit()

    retrying(attempt, what="The certificate")
