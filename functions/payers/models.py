"""Request and response bodies of the payers and budgets routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from navigator.api.types import Inn, Money, Municipality, NextCursor, PositiveKopecks, Reply, Strict

PayerName = Annotated[str, Field(min_length=1, max_length=300)]
AdvancePercent = Annotated[int, Field(ge=0, le=80)]
CertificateLimit = Annotated[int, Field(ge=1, le=10_000_000)]
Municipalities = Annotated[list[Municipality], Field(min_length=1, max_length=100)]


class PayerIn(Strict):
    name: PayerName
    inn: Inn | None = Field(description="Null only for the regional payer")
    municipalities: Municipalities | None = Field(
        default=None, description="Required, except for `region`, where it must be absent"
    )
    advance_percent: AdvancePercent = 80


class Payer(Reply):
    payer_id: str
    name: str
    inn: str | None
    municipalities: list[str]
    advance_percent: int


class PayerList(Reply):
    items: list[Payer]
    next_cursor: NextCursor


class BudgetIn(Strict):
    nominal_kopecks: PositiveKopecks
    certificate_limit: CertificateLimit


class Budget(Reply):
    payer_id: str
    period_id: str
    nominal_kopecks: PositiveKopecks
    certificate_limit: CertificateLimit
    certificates_issued: int
    certificates_left: int
    nominal_committed_kopecks: Money


class BudgetList(Reply):
    items: list[Budget]
    next_cursor: NextCursor
