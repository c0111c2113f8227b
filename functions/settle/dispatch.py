"""The settlement schedule's target, the dispatcher that POST /invoice-runs invokes, and the
check on the 5th that last month's final invoices are formed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from navigator.domain.calendar import DOMAIN_TZ, month_of, previous_month_of
from navigator.domain.errors import Conflict
from navigator.metrics import FINAL_INVOICES_NOT_FORMED, count, metrics
from navigator.service import settlement
from navigator.store import invoices as store

logger = Logger()


def _moment(stamp: Any) -> datetime:
    moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def settle(moment: datetime) -> dict[str, Any]:
    """Form last month's final invoices once its debit completed, and this month's advances;
    each only if its run was never started (a re-run is the operator's to ask for)."""
    current = month_of(moment.astimezone(DOMAIN_TZ).date())
    started: dict[str, Any] = {}
    for month, kind in ((previous_month_of(moment), "final"), (current, "advance")):
        if store.find_run(month, kind) is not None:
            continue
        try:
            started[kind] = settlement.start_run(month, kind, dispatch_here=True)
        except Conflict as refusal:  # the debit is not done yet: the next hour looks again
            logger.info("not yet", extra={"month": month, "kind": kind, "code": refusal.code})
    return started


def watch(moment: datetime) -> bool:
    """True if last month's final invoices are formed; the alarm's metric otherwise."""
    month = previous_month_of(moment)
    run = store.find_run(month, "final")
    formed = run is not None and run.status == "completed"
    count(FINAL_INVOICES_NOT_FORMED, 0 if formed else 1)
    if not formed:
        logger.warning("final invoices not formed", extra={"month": month})
    return formed


@logger.inject_lambda_context
@metrics.log_metrics(raise_on_empty_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "dispatch" in event:  # POST /invoice-runs started a pass and handed it here
        job = event["dispatch"]
        settlement.dispatch(job["month"], job["kind"], job["pass_id"])
        return settlement.get_run(job["month"], job["kind"])
    if "watch" in event:
        return {"formed": watch(_moment(event["watch"]))}
    return settle(_moment(event["settle"]))
