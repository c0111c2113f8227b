"""Payers function: the payers and their budgets."""

from __future__ import annotations

from typing import Any

from navigator.api.app import Api
from navigator.api.types import NewIdPath, PageCursor, PageLimit
from navigator.service import payers
from payers.models import Budget, BudgetIn, BudgetList, Payer, PayerIn, PayerList

api = Api()
OPERATORS = {"operators"}
OPERATORS_AND_PAYERS = {"operators", "payers"}


@api.put(
    "/payers/<payer_id>",
    OPERATORS,
    returns=Payer,
    refusals={409: ["municipality_taken"]},
    summary="Create or replace a payer's card",
)
def put_payer(payer_id: NewIdPath, body: PayerIn) -> dict[str, Any]:
    return payers.put_payer(
        payer_id, body.name, body.inn, body.municipalities, body.advance_percent
    )


@api.get(
    "/payers",
    OPERATORS,
    returns=PayerList,
    refusals={400: ["invalid_cursor"]},
    summary="The payers, the regional one included",
)
def list_payers(limit: PageLimit = 20, cursor: PageCursor = None) -> dict[str, Any]:
    return payers.list_payers(limit, cursor)


@api.get(
    "/payers/<payer_id>",
    OPERATORS_AND_PAYERS,
    returns=Payer,
    refusals={404: ["not_found"]},
    summary="One payer: for operators and that payer",
)
def get_payer(payer_id: str) -> dict[str, Any]:
    return payers.get_payer(api.caller(), payer_id)


@api.put(
    "/payers/<payer_id>/budgets/<period_id>",
    OPERATORS,
    returns=Budget,
    refusals={404: ["not_found"], 409: ["limit_below_issued"]},
    summary="Set a payer's budget for a period",
)
def put_budget(payer_id: str, period_id: str, body: BudgetIn) -> dict[str, Any]:
    return payers.put_budget(payer_id, period_id, body.nominal_kopecks, body.certificate_limit)


@api.get(
    "/payers/<payer_id>/budgets",
    OPERATORS_AND_PAYERS,
    returns=BudgetList,
    refusals={400: ["invalid_cursor"], 404: ["not_found"]},
    summary="A payer's budgets, one per period",
)
def list_budgets(payer_id: str, limit: PageLimit = 20, cursor: PageCursor = None) -> dict[str, Any]:
    return payers.list_budgets(api.caller(), payer_id, limit, cursor)


@api.get(
    "/payers/<payer_id>/budgets/<period_id>",
    OPERATORS_AND_PAYERS,
    returns=Budget,
    refusals={404: ["not_found"]},
    summary="A payer's budget for a period",
)
def get_budget(payer_id: str, period_id: str) -> dict[str, Any]:
    return payers.get_budget(api.caller(), payer_id, period_id)


handler = api.lambda_handler()
