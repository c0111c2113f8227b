"""Payers and their budgets: the operator sets them, a payer reads its own."""

from __future__ import annotations

from typing import Any

from navigator.domain.calendar import now_utc_iso
from navigator.domain.errors import Forbidden, InvalidInput, NotFound, StoreUnavailable
from navigator.domain.inn import inn_is_valid
from navigator.domain.payers import REGION, municipality_key
from navigator.identity import Caller
from navigator.paging import page_of
from navigator.service.views import budget_view, payer_view
from navigator.store import budgets, periods
from navigator.store import payers as store
from navigator.store.base import retrying
from navigator.store.payers import PayerChange


def _invalid(field: str, problem: str) -> InvalidInput:
    return InvalidInput(
        "The request failed validation.",
        details={"fields": [{"field": field, "problem": problem}]},
    )


def _may_read(caller: Caller, payer_id: str) -> None:
    if caller.is_operator:
        return
    if caller.is_payer and caller.payer_id == payer_id:
        return
    raise Forbidden("This payer is not yours.")


def _existing_payer(payer_id: str) -> store.PayerItem:
    payer = store.get_payer(payer_id)
    if payer is None:
        raise NotFound("No such payer.")
    return payer


# ------------------------------------------------------------------ payers


def put_payer(
    payer_id: str,
    name: str,
    inn: str | None,
    municipalities: list[str] | None,
    advance_percent: int,
) -> dict[str, Any]:
    """PUT /payers/{payer_id}: the whole card; `region` serves whatever no other payer names."""
    if payer_id == REGION:
        if municipalities is not None:
            raise _invalid("municipalities", "the regional payer's municipalities can't be set")
        municipalities = []
    elif municipalities is None:
        raise _invalid("municipalities", "required")
    elif inn is None:
        raise _invalid("inn", "required")
    if inn is not None and not inn_is_valid(inn):
        raise _invalid("inn", "must be 10 or 12 digits with a valid checksum")
    names = [n.strip() for n in municipalities]
    if len({municipality_key(n) for n in names}) != len(names) or not all(names):
        raise _invalid("municipalities", "must be distinct, non-blank names")
    change = PayerChange(payer_id, name, inn, names, advance_percent)

    def attempt() -> dict[str, Any]:
        store.write_payer(change, store.get_payer(payer_id), now_utc_iso())
        return {
            "payer_id": payer_id,
            "name": name,
            "inn": inn,
            "municipalities": names,
            "advance_percent": advance_percent,
        }

    return retrying(attempt, what="The payer")


def list_payers(limit: int, cursor: str | None) -> dict[str, Any]:
    items, next_cursor = page_of(
        store.list_payers(), lambda p: p.payer_id, limit, cursor, {"payers": 1}
    )
    return {"items": [payer_view(p) for p in items], "next_cursor": next_cursor}


def get_payer(caller: Caller, payer_id: str) -> dict[str, Any]:
    payer = _existing_payer(payer_id)
    _may_read(caller, payer_id)
    return payer_view(payer)


# ----------------------------------------------------------------- budgets


def put_budget(payer_id: str, period_id: str, nominal: int, limit: int) -> dict[str, Any]:
    _existing_payer(payer_id)
    if not any(p.period_id == period_id for p in periods.read_periods()[1]):
        raise NotFound("No such period.")

    def attempt() -> dict[str, Any]:
        seen = budgets.read_budget(payer_id, period_id)
        budgets.write_budget(payer_id, period_id, nominal, limit, seen, now_utc_iso())
        budget = budgets.read_budget(payer_id, period_id)
        if budget is None:  # just written, and budgets are never deleted
            raise StoreUnavailable("The budget just written was not read back.")
        return budget_view(budget)

    return retrying(attempt, what="The budget")


def get_budget(caller: Caller, payer_id: str, period_id: str) -> dict[str, Any]:
    _existing_payer(payer_id)
    _may_read(caller, payer_id)
    budget = budgets.read_budget(payer_id, period_id)
    if budget is None:
        raise NotFound("This payer has no budget for this period.")
    return budget_view(budget)


def list_budgets(caller: Caller, payer_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """A payer's budgets, one per period (a payer has a few: read whole)."""
    _existing_payer(payer_id)
    _may_read(caller, payer_id)
    period_ids, next_cursor = page_of(
        budgets.budgets_of(payer_id), lambda p: p, limit, cursor, {"budgets": payer_id}
    )
    items = [budgets.read_budget(payer_id, period_id) for period_id in period_ids]
    return {"items": [budget_view(b) for b in items if b is not None], "next_cursor": next_cursor}
