"""Enrollment rules: the months, eligibility, the funding split and the schedule (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from navigator.domain.calendar import add_months, months_between
from navigator.domain.errors import Conflict

EnrollmentStatus = Literal["active", "withdrawn", "completed"]
MonthStatus = Literal["pending", "charged", "cancelled"]
CertificateStatus = Literal["active", "expired"]
LedgerType = Literal["issue", "reserve", "debit", "release", "expire"]

CERTIFICATE_AGE_MIN = 5
CERTIFICATE_AGE_MAX = 17


def first_month(program_start: str, current: str, last_earlier_month: str | None) -> str:
    """The latest of the program's start, this month, and the month after an earlier contract."""
    candidates = [program_start, current]
    if last_earlier_month:
        candidates.append(add_months(last_earlier_month, 1))
    return max(candidates)


def age_on(birth_date: str, day: date) -> int:
    """Age in full years on `day`."""
    born = date.fromisoformat(birth_date)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_age_eligible(
    birth_date: str, first: str, age_min: int, age_max: int, certificate: bool
) -> bool:
    age = age_on(birth_date, date.fromisoformat(f"{first}-01"))
    if not age_min <= age <= age_max:
        return False
    return not certificate or CERTIFICATE_AGE_MIN <= age <= CERTIFICATE_AGE_MAX


def split_evenly(total: int, parts: int) -> list[int]:
    """Equal whole kopecks; the first `total mod parts` parts carry one kopeck more."""
    base, extra = divmod(total, parts)
    return [base + 1 if index < extra else base for index in range(parts)]


@dataclass(frozen=True)
class Funding:
    months: list[str]
    price: int
    certificate_amounts: list[int]

    @property
    def certificate_total(self) -> int:
        return sum(self.certificate_amounts)

    @property
    def copay_total(self) -> int:
        return self.price * len(self.months) - self.certificate_total

    def schedule(self) -> list[dict[str, Any]]:
        return [
            {
                "month": month,
                "certificate_kopecks": amount,
                "copay_kopecks": self.price - amount,
                "completeness_percent": 100,
                "status": "pending",
                "charged_kopecks": 0,
            }
            for month, amount in zip(self.months, self.certificate_amounts, strict=True)
        ]


def fund(months: list[str], price: int, balance: int | None) -> Funding:
    """Split the contract: the certificate covers min(price x months, balance); `None` = free."""
    if balance is None:
        return Funding(months, price, [0] * len(months))
    total = min(price * len(months), balance)
    return Funding(months, price, split_evenly(total, len(months)))


def require_copay_accepted(funding: Funding, accepted: bool) -> None:
    if funding.copay_total > 0 and not accepted:
        raise Conflict(
            "The certificate does not cover the whole course; the parent must accept the "
            "co-payment (accept_copay: true).",
            code="copay_required",
            details={
                "certificate_total_kopecks": funding.certificate_total,
                "copay_total_kopecks": funding.copay_total,
            },
        )


def contract_months(first: str, program_end: str, period_end_month: str | None) -> list[str]:
    last = min(program_end, period_end_month) if period_end_month else program_end
    return months_between(first, last)


def months_to_cancel(schedule: Iterable[Mapping[str, Any]], current: str) -> list[str]:
    """Withdrawal takes effect after the current month; before the start, every month goes."""
    return [m["month"] for m in schedule if m["status"] == "pending" and m["month"] > current]


def charge_for(certificate_amount: int, percent: int) -> int:
    return certificate_amount * percent // 100
