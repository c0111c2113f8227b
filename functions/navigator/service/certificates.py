"""Reading money: a parent's certificates and enrollments, a ledger, a program's roster."""

from __future__ import annotations

from typing import Any

from navigator.domain.errors import Forbidden
from navigator.identity import Caller
from navigator.paging import decode_cursor, encode_cursor, page_of
from navigator.service.views import certificate_view, enrollment_view, ledger_entry_view
from navigator.store import accounts, catalog


def certificates_of_parent(caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    items, next_cursor = page_of(
        accounts.certificates_of_parent(caller.sub),
        lambda certificate: certificate.certificate_id,
        limit,
        cursor,
        {"certificates": caller.sub},
    )
    return {"items": [certificate_view(c) for c in items], "next_cursor": next_cursor}


def _owned_certificate(caller: Caller, certificate_id: str) -> accounts.CertificateItem:
    certificate = accounts.get_certificate(certificate_id)
    if certificate.parent_sub != caller.sub:
        raise Forbidden("This certificate is not yours.")
    return certificate


def get_certificate(caller: Caller, certificate_id: str) -> dict[str, Any]:
    return certificate_view(_owned_certificate(caller, certificate_id))


def ledger(caller: Caller, certificate_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    query = {"ledger": certificate_id}
    after = decode_cursor(cursor, query) if cursor else None  # validation before existence
    _owned_certificate(caller, certificate_id)
    entries, last_seq = accounts.ledger_page(certificate_id, limit, after)
    return {
        "items": [ledger_entry_view(e) for e in entries],
        "next_cursor": encode_cursor(query, last_seq) if last_seq is not None else None,
    }


def _page(page: accounts.EnrollmentPage, query: dict[str, Any]) -> dict[str, Any]:
    heads, months, last = page
    return {
        "items": [enrollment_view(h, m) for h, m in zip(heads, months, strict=True)],
        "next_cursor": encode_cursor(query, last) if last else None,
    }


def enrollments_of_parent(
    caller: Caller, child_id: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    query = {"enrollments": caller.sub, "child_id": child_id}
    after = decode_cursor(cursor, query) if cursor else None
    return _page(accounts.enrollments_of_parent(caller.sub, child_id, limit, after), query)


def roster(caller: Caller, program_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    query = {"roster": program_id}
    after = decode_cursor(cursor, query) if cursor else None  # validation before existence
    program = catalog.get_program(program_id)
    if not caller.is_operator and caller.provider_id != program.provider_id:
        raise Forbidden("This is another provider's program.")
    return _page(accounts.roster(program_id, limit, after), query)
