"""Request and response bodies of the enrollment and certificate routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from navigator.api.types import IsoDate, Money, Month, NextCursor, Reply, Strict, Timestamp
from navigator.domain.enrollment import CertificateStatus, EnrollmentStatus, LedgerType, MonthStatus

AnyId = Annotated[str, Field(min_length=1, max_length=64)]
Percent = Annotated[int, Field(ge=0, le=100)]


class EnrollmentIn(Strict):
    child_id: AnyId
    program_id: AnyId
    accept_copay: bool = False


class CompletenessIn(Strict):
    percent: Percent


class ScheduleMonth(Reply):
    month: Month
    certificate_kopecks: Money
    copay_kopecks: Money
    completeness_percent: Percent
    status: MonthStatus
    charged_kopecks: Money


class Enrollment(Reply):
    enrollment_id: str
    child_id: str
    program_id: str
    certificate_id: str | None = Field(description="null for a free program")
    status: EnrollmentStatus
    start_month: Month
    end_month: Month
    price_per_month_kopecks: Money
    certificate_total_kopecks: Money
    copay_total_kopecks: Money
    schedule: list[ScheduleMonth]
    created_at: Timestamp


class Certificate(Reply):
    certificate_id: str
    number: str
    child_id: str
    period_id: str
    nominal_kopecks: Money
    balance_kopecks: Money
    reserved_kopecks: Money
    spent_kopecks: Money
    expired_kopecks: Money
    valid_from: IsoDate
    valid_to: IsoDate
    status: CertificateStatus


class EnrollmentMade(Enrollment):
    certificate: Certificate | None = Field(description="null for a free program")


class EnrollmentList(Reply):
    items: list[Enrollment]
    next_cursor: NextCursor


class CertificateList(Reply):
    items: list[Certificate]
    next_cursor: NextCursor


class LedgerEntry(Reply):
    entry_id: str
    certificate_id: str
    seq: int = Field(ge=1, description="1, 2, 3... on its certificate, without gaps")
    type: LedgerType
    amount_kopecks: int = Field(ge=1)
    enrollment_id: str | None
    month: Month | None
    created_at: Timestamp


class LedgerPage(Reply):
    items: list[LedgerEntry]
    next_cursor: NextCursor
