"""Settlement function: invoice runs, invoices, their lines, registers and statuses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from navigator.api.app import Api
from navigator.api.types import Month, PageCursor, PageLimit
from navigator.service import invoices, registers, settlement
from settle.models import (
    Invoice,
    InvoiceLinePage,
    InvoiceList,
    InvoiceRun,
    InvoiceRunIn,
    InvoiceStatus,
    Kind,
    PayIn,
)

api = Api()
OPERATORS = {"operators"}
READERS = {"operators", "payers", "providers"}
PAYING = {"operators", "payers"}
Filter = Annotated[str | None, Query(max_length=64)]
REGISTER_MEDIA = {
    registers.CSV_TYPE.split(";")[0]: {"schema": {"type": "string"}},
    registers.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


@api.post(
    "/invoice-runs",
    OPERATORS,
    returns=InvoiceRun,
    status=202,
    refusals={409: ["month_not_started", "month_not_charged"]},
    summary="Form a month's advance or final invoices (or join the run forming them)",
)
def start_invoice_run(body: InvoiceRunIn) -> tuple[dict[str, Any], int]:
    return settlement.start_run(body.month, body.kind), 202


@api.get(
    "/invoice-runs/<month>/<kind>",
    OPERATORS,
    returns=InvoiceRun,
    refusals={404: ["not_found"]},
    summary="A month's invoice run of one kind",
)
def get_invoice_run(
    month: Annotated[Month, Path()], kind: Annotated[Kind, Path()]
) -> dict[str, Any]:
    return settlement.get_run(month, kind)


@api.get(
    "/invoices",
    READERS,
    returns=InvoiceList,
    refusals={400: ["invalid_cursor"]},
    summary="Invoices, newest month first: a payer's or a provider's own, or all for operators",
)
def list_invoices(
    month: Annotated[Month | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    payer_id: Filter = None,
    provider_id: Filter = None,
    limit: PageLimit = 20,
    cursor: PageCursor = None,
) -> dict[str, Any]:
    filters = {
        "month": month,
        "kind": kind,
        "status": status,
        "payer_id": payer_id,
        "provider_id": provider_id,
    }
    return invoices.list_invoices(api.caller(), filters, limit, cursor)


@api.get(
    "/invoices/<invoice_id>",
    READERS,
    returns=Invoice,
    refusals={404: ["not_found"]},
    summary="One invoice",
)
def get_invoice(invoice_id: str) -> dict[str, Any]:
    return invoices.get_invoice(api.caller(), invoice_id)


@api.get(
    "/invoices/<invoice_id>/lines",
    READERS,
    returns=InvoiceLinePage,
    refusals={400: ["invalid_cursor"], 404: ["not_found"]},
    summary="An invoice's lines",
)
def invoice_lines(
    invoice_id: str, limit: PageLimit = 20, cursor: PageCursor = None
) -> dict[str, Any]:
    return invoices.lines(api.caller(), invoice_id, limit, cursor)


@api.get(
    "/invoices/<invoice_id>/register",
    READERS,
    returns=REGISTER_MEDIA,
    refusals={404: ["not_found"]},
    summary="An invoice's register for accountants, as CSV or XLSX",
)
def invoice_register(
    invoice_id: str,
    fmt: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
):  # no return annotation: Powertools would validate, and so decode, the file's bytes
    invoice = invoices.readable_invoice(api.caller(), invoice_id)
    found = registers.register(invoice, fmt)
    if found.url is not None:  # too large for a Lambda's answer: the stored copy
        return Response(303, "text/plain; charset=utf-8", "", {"Location": found.url})
    disposition = f'attachment; filename="{found.name}"'
    if fmt == "csv":  # text: API Gateway passes it as is, whatever the client accepts
        body: str | bytes = found.body.decode("utf-8")
    else:
        body = found.body
    return Response(200, found.media, body, {"Content-Disposition": disposition})


@api.post(
    "/invoices/<invoice_id>/accept",
    PAYING,
    returns=Invoice,
    refusals={404: ["not_found"], 409: ["invalid_invoice_status"]},
    summary="The payer has checked the invoice",
)
def accept_invoice(invoice_id: str) -> dict[str, Any]:
    return invoices.accept(api.caller(), invoice_id)


@api.post(
    "/invoices/<invoice_id>/pay",
    PAYING,
    returns=Invoice,
    refusals={404: ["not_found"], 409: ["invalid_invoice_status"]},
    summary="The invoice is paid (for a negative final invoice: the provider refunded)",
)
def pay_invoice(invoice_id: str, body: PayIn) -> dict[str, Any]:
    return invoices.pay(api.caller(), invoice_id, body.paid_on, body.payment_order)


handler = api.lambda_handler()
