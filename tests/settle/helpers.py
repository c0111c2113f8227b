"""Givens and reads for the settlement scenarios."""

from __future__ import annotations

from typing import Any

from tests.support.api import OPERATOR, request


def form(month: str, kind: str, claims: dict[str, str] = OPERATOR):
    return request("POST", "/invoice-runs", body={"month": month, "kind": kind}, claims=claims)


def debit(month: str) -> dict[str, Any]:
    reply = request("POST", "/debit-runs", body={"month": month}, claims=OPERATOR)
    assert reply.status == 202, reply.body
    assert reply.body["status"] == "completed", reply.body
    return dict(reply.body)


def invoices(claims: dict[str, str] = OPERATOR, **filters: str) -> list[dict[str, Any]]:
    """Every invoice the caller sees, paging through the whole list."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**filters, "limit": "3"}
        if cursor:
            query["cursor"] = cursor
        reply = request("GET", "/invoices", claims=claims, query=query)
        assert reply.status == 200, reply.body
        out += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if not cursor:
            return out


def lines(invoice_id: str, claims: dict[str, str] = OPERATOR) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "2"}
        if cursor:
            query["cursor"] = cursor
        reply = request("GET", f"/invoices/{invoice_id}/lines", claims=claims, query=query)
        assert reply.status == 200, reply.body
        out += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if not cursor:
            return out


def by_group(items: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(i["kind"], i["payer_id"], i["provider_id"]): i for i in items}
