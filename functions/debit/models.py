"""Request and response bodies of the operator routes."""

from __future__ import annotations

from typing import Literal

from navigator.api.types import (
    IsoDate,
    Money,
    Month,
    NextCursor,
    PositiveKopecks,
    Reply,
    Strict,
    Timestamp,
)


class PeriodIn(Strict):
    starts_on: IsoDate
    ends_on: IsoDate
    nominal_kopecks: PositiveKopecks


class DebitRunIn(Strict):
    month: Month


class Period(Reply):
    period_id: str
    starts_on: IsoDate
    ends_on: IsoDate
    nominal_kopecks: PositiveKopecks


class PeriodList(Reply):
    items: list[Period]
    next_cursor: NextCursor


class DebitRun(Reply):
    month: Month
    status: Literal["running", "completed"]
    due_count: int
    charged_count: int
    already_charged_count: int
    failed_count: int
    charged_kopecks: Money
    released_kopecks: Money
    started_at: Timestamp
    finished_at: Timestamp | None


class Mismatch(Reply):
    certificate_id: str
    problem: str


class Reconciliation(Reply):
    certificates_checked: int
    mismatches: list[Mismatch]
