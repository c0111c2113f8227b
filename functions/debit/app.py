"""Operator function: funding periods, debit runs and reconciliation."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path

from debit.dispatchers import from_settings
from debit.models import DebitRun, DebitRunIn, Period, PeriodIn, PeriodList, Reconciliation
from navigator.api.app import Api
from navigator.api.types import Month, NewIdPath, PageCursor, PageLimit
from navigator.service import debit, periods, reconciliation

api = Api()
OPERATORS = {"operators"}


@api.put(
    "/periods/<period_id>",
    OPERATORS,
    returns=Period,
    refusals={409: ["period_in_use", "period_overlap"]},
    summary="Create or change a funding period",
)
def put_period(period_id: NewIdPath, body: PeriodIn) -> dict[str, Any]:
    return periods.put_period(period_id, body.starts_on, body.ends_on, body.nominal_kopecks)


@api.get(
    "/periods",
    returns=PeriodList,
    refusals={400: ["invalid_cursor"]},
    summary="The funding periods",
)
def list_periods(
    limit: PageLimit = 20,
    cursor: PageCursor = None,
) -> dict[str, Any]:
    return periods.list_periods(limit, cursor)


@api.post(
    "/debit-runs",
    OPERATORS,
    returns=DebitRun,
    status=202,
    refusals={409: ["month_not_closed"]},
    summary="Start or join a month's debit run",
)
def start_debit_run(body: DebitRunIn) -> tuple[dict[str, Any], int]:
    return debit.start_run(body.month, from_settings()), 202


@api.get(
    "/debit-runs/<month>",
    OPERATORS,
    returns=DebitRun,
    refusals={404: ["not_found"]},
    summary="A month's debit run",
)
def get_debit_run(month: Annotated[Month, Path()]) -> dict[str, Any]:
    return debit.get_run(month)


@api.get(
    "/reconciliation",
    OPERATORS,
    returns=Reconciliation,
    summary="Every certificate checked against its ledger and schedules",
)
def get_reconciliation() -> dict[str, Any]:
    return reconciliation.reconcile()


handler = api.lambda_handler()
