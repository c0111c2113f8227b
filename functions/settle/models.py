"""Request and response bodies of the settlement routes (API.md, "Invoices")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from navigator.api.types import IsoDate, Money, Month, NextCursor, Reply, Strict, Timestamp

Kind = Literal["advance", "final"]
InvoiceStatus = Literal["formed", "accepted", "paid"]
PaymentOrder = Annotated[str, Field(min_length=1, max_length=50)]
# A final invoice's amount may be below zero: the provider then returns the difference.
SignedKopecks = Annotated[int, Field(description="Kopecks; below zero the provider refunds")]


class InvoiceRunIn(Strict):
    month: Month
    kind: Kind


class PayIn(Strict):
    paid_on: IsoDate
    payment_order: PaymentOrder


class InvoiceRun(Reply):
    month: Month
    kind: Kind
    status: Literal["running", "completed"]
    invoices_count: int
    lines_count: int
    amount_kopecks: SignedKopecks
    started_at: Timestamp
    finished_at: Timestamp | None


class Invoice(Reply):
    invoice_id: str
    number: str
    kind: Kind
    month: Month
    payer_id: str
    payer_name: str
    provider_id: str
    provider_name: str
    provider_inn: str
    lines_count: int
    amount_kopecks: SignedKopecks
    charged_total_kopecks: Money | None = Field(
        description="A final invoice's; null for an advance"
    )
    advance_kopecks: Money | None = Field(description="A final invoice's; null for an advance")
    status: InvoiceStatus
    formed_at: Timestamp
    accepted_at: Timestamp | None
    paid_on: IsoDate | None
    payment_order: str | None


class InvoiceList(Reply):
    items: list[Invoice]
    next_cursor: NextCursor


class InvoiceLine(Reply):
    enrollment_id: str
    certificate_number: str
    program_id: str
    program_title: str
    month: Month
    certificate_kopecks: Money
    completeness_percent: int | None = Field(description="A final invoice's; null for an advance")
    amount_kopecks: Money


class InvoiceLinePage(Reply):
    items: list[InvoiceLine]
    next_cursor: NextCursor
