"""Operator function: funding periods (and, with the debit issue, runs and reconciliation)."""

from __future__ import annotations

from typing import Any

from debit.models import PeriodIn
from navigator.api.app import Api
from navigator.api.types import NewIdPath
from navigator.service import periods

api = Api()
OPERATORS = {"operators"}


@api.put("/periods/<period_id>", OPERATORS)
def put_period(period_id: NewIdPath, body: PeriodIn) -> dict[str, Any]:
    return periods.put_period(period_id, body.starts_on, body.ends_on, body.nominal_kopecks)


@api.get("/periods")
def list_periods() -> dict[str, Any]:
    return {"items": periods.list_periods(), "next_cursor": None}


handler = api.lambda_handler()
