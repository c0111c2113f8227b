"""Reading invoices and moving their statuses: for the operator, its payer and its provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from navigator.domain.calendar import now_utc_iso, today
from navigator.domain.errors import Conflict, Forbidden, InvalidInput, StoreUnavailable
from navigator.identity import Caller
from navigator.paging import decode_cursor, encode_cursor
from navigator.service.views import invoice_line_view, invoice_view
from navigator.store import invoices as store
from navigator.store.invoices import InvoiceItem

ATTEMPTS = 5


def _may_read(caller: Caller, invoice: InvoiceItem) -> bool:
    if caller.is_operator:
        return True
    if caller.is_provider and caller.provider_id == invoice.provider_id:
        return True
    return caller.is_payer and caller.payer_id is not None and caller.payer_id == invoice.payer_id


def readable_invoice(caller: Caller, invoice_id: str) -> InvoiceItem:
    invoice = store.get_invoice(invoice_id)
    if not _may_read(caller, invoice):
        raise Forbidden("This invoice is another party's.")
    return invoice


def get_invoice(caller: Caller, invoice_id: str) -> dict[str, Any]:
    return invoice_view(readable_invoice(caller, invoice_id))


def _scope(
    caller: Caller, payer_id: str | None, provider_id: str | None
) -> tuple[str | None, str | None, bool]:
    """The filters a caller may use: (payer, provider, whether anything can match)."""
    if caller.is_operator:
        return payer_id, provider_id, True
    if caller.is_provider:
        own = caller.provider_id
        return payer_id, own, provider_id in (None, own) and own is not None
    own_payer = caller.payer_id if caller.is_payer else None
    return own_payer, provider_id, payer_id in (None, own_payer) and own_payer is not None


def list_invoices(
    caller: Caller,
    filters: dict[str, str | None],
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Invoices, newest month first; within a month in a stable order of their keys."""
    payer_id, provider_id, possible = _scope(caller, filters["payer_id"], filters["provider_id"])
    query = {"invoices": filters, "payer": payer_id, "provider": provider_id}
    after = decode_cursor(cursor, query) if cursor else None
    if not possible:
        return {"items": [], "next_cursor": None}
    months = [filters["month"]] if filters["month"] else store.months_with_runs()
    page: list[InvoiceItem] = []
    position: list[Any] | None = None
    for month, number, index, invoice in _walk(months, payer_id, provider_id, after):
        if not _matches(invoice, filters, payer_id, provider_id):
            continue
        if len(page) == limit:
            return _answer(page, query, position)
        page.append(invoice)
        position = [month, number, store.index_key(index, invoice)]
    return _answer(page, query, None)


def _walk(
    months: list[str], payer_id: str | None, provider_id: str | None, after: list[Any] | None
) -> Iterator[tuple[str, int, Any, InvoiceItem]]:
    """The invoices of these months, newest month first, from after a cursor's position."""
    for month in months:
        if after and month > after[0]:
            continue  # newer months were answered on earlier pages
        partitions = store.invoice_partitions(month, payer_id, provider_id)
        for number, (index, partition) in enumerate(partitions):
            start = None
            if after and month == after[0]:
                if number < after[1]:
                    continue
                if number == after[1]:
                    start = after[2]
            for invoice in store.invoices_in(index, partition, start):
                yield month, number, index, invoice


def _matches(
    invoice: InvoiceItem, filters: dict[str, str | None], payer: str | None, provider: str | None
) -> bool:
    wanted = {"kind": filters["kind"], "status": filters["status"]}
    wanted |= {"payer_id": payer, "provider_id": provider}
    return all(value is None or getattr(invoice, name) == value for name, value in wanted.items())


def _answer(page: list[InvoiceItem], query: dict[str, Any], position: Any) -> dict[str, Any]:
    next_cursor = encode_cursor(query, position) if position is not None else None
    return {"items": [invoice_view(invoice) for invoice in page], "next_cursor": next_cursor}


def lines(caller: Caller, invoice_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    query = {"lines": invoice_id}
    after = decode_cursor(cursor, query) if cursor else None  # validation before existence
    invoice = readable_invoice(caller, invoice_id)
    items, last = store.lines_page(invoice, limit, tuple(after) if after else None)
    return {
        "items": [invoice_line_view(line) for line in items],
        "next_cursor": encode_cursor(query, list(last)) if last is not None else None,
    }


# ------------------------------------------------------------------ statuses


def _payable_by(caller: Caller, invoice: InvoiceItem) -> None:
    if caller.is_operator:
        return
    payer_id = caller.payer_id if caller.is_payer else None
    if payer_id is None or payer_id != invoice.payer_id:
        raise Forbidden("This invoice is another payer's.")


def _refuse(invoice: InvoiceItem, step: str) -> Conflict:
    return Conflict(
        f"An invoice that is {invoice.status} can't be {step}.",
        code="invalid_invoice_status",
        details={"status": invoice.status},
    )


def accept(caller: Caller, invoice_id: str) -> dict[str, Any]:
    """formed -> accepted; accepting an accepted invoice changes nothing."""
    for _ in range(ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        _payable_by(caller, invoice)
        if invoice.status == "accepted":
            return invoice_view(invoice)
        if invoice.status != "formed":
            raise _refuse(invoice, "accepted")
        actions = [InvoiceItem.status.set("accepted"), InvoiceItem.accepted_at.set(now_utc_iso())]
        if store.set_status(invoice, actions, "formed"):
            return invoice_view(store.get_invoice(invoice_id))
    raise StoreUnavailable("The invoice kept changing; please retry.")


def check_paid_on(paid_on: str) -> None:
    """A payment date is not after today (the domain's calendar): 422 otherwise."""
    if date.fromisoformat(paid_on) > today():
        raise InvalidInput(
            details={"fields": [{"field": "paid_on", "problem": "must not be after today"}]}
        )


def pay(caller: Caller, invoice_id: str, paid_on: str, payment_order: str) -> dict[str, Any]:
    """accepted -> paid; paying again with the same values changes nothing."""
    check_paid_on(paid_on)
    for _ in range(ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        _payable_by(caller, invoice)
        if invoice.status == "paid":
            if (invoice.paid_on, invoice.payment_order) == (paid_on, payment_order):
                return invoice_view(invoice)
            raise _refuse(invoice, "paid with other values")
        if invoice.status != "accepted":
            raise _refuse(invoice, "paid")
        actions = [
            InvoiceItem.status.set("paid"),
            InvoiceItem.paid_on.set(paid_on),
            InvoiceItem.payment_order.set(payment_order),
        ]
        if store.set_status(invoice, actions, "accepted"):
            return invoice_view(store.get_invoice(invoice_id))
    raise StoreUnavailable("The invoice kept changing; please retry.")
