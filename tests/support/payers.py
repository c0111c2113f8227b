"""Givens for payers and budgets: a payer's card, a budget, a payer's claims."""

from __future__ import annotations

from typing import Any

from tests.support.api import OPERATOR, request

KRASNOYARSK_INN = "2466012340"  # made up, with a valid checksum
NORILSK_INN = "2457012344"


def payer_claims(payer_id: str, sub: str | None = None) -> dict[str, str]:
    return {
        "sub": sub or f"payer-clerk-{payer_id}",
        "cognito:groups": "payers",
        "custom:payer_id": payer_id,
    }


def put_payer(payer_id: str, municipalities: list[str] | None, **overrides: Any):
    body: dict[str, Any] = {
        "name": f"Управление образования {payer_id}",
        "inn": KRASNOYARSK_INN,
    }
    if municipalities is not None:
        body["municipalities"] = municipalities
    body.update(overrides)
    return request("PUT", f"/payers/{payer_id}", body=body, claims=OPERATOR)


def put_budget(payer_id: str, limit: int, nominal: int = 2_500_000, period: str = "2026-2027"):
    body = {"nominal_kopecks": nominal, "certificate_limit": limit}
    return request("PUT", f"/payers/{payer_id}/budgets/{period}", body=body, claims=OPERATOR)


def budget(payer_id: str, period: str = "2026-2027") -> dict[str, Any]:
    reply = request("GET", f"/payers/{payer_id}/budgets/{period}", claims=OPERATOR)
    assert reply.status == 200, reply.body
    return dict(reply.body)
